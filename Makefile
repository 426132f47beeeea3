# Pantau KLA. `make run` sets up and serves the demo; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000

.PHONY: setup run desktop package test test-fast bench fuzz translations extract clean

setup: $(VENV)/.installed static/vendor/.installed translations/.compiled

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-gui.txt requirements-package.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Front-end packages come from npm (package-lock.json), never from a CDN; copied into git-ignored static/vendor/.
static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf static/vendor && mkdir -p static/vendor/htmx static/vendor/leaflet
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
	cp -r node_modules/leaflet/dist/. static/vendor/leaflet/
	mkdir -p static/vendor/idb static/vendor/fflate  # the offline field app's IndexedDB wrapper and zip writer
	cp node_modules/idb/build/index.js static/vendor/idb/
	cp node_modules/fflate/esm/browser.js static/vendor/fflate/
	touch $@

translations/.compiled: $(VENV)/.installed $(wildcard translations/*/LC_MESSAGES/messages.po)
	$(BIN)/pybabel compile --statistics -d translations 2>&1 | tail -n 2
	touch $@

run: setup
	PANTAU_DEMO=1 $(FLASK) init
	PANTAU_DEMO=1 $(FLASK) indicators demo --if-missing
	PANTAU_DEMO=1 $(FLASK) serve --port $(PORT)

# The field app in its own window (data in the user's data folder, as the packaged app keeps it); DEMO=1
# loads the demo there (demo accounts with the password "demo": not on a laptop used for real audits).
DEMO ?= 0
desktop: setup
	PANTAU_DEMO=$(DEMO) $(BIN)/python -m app.desktop

# The one-folder desktop app in dist/pantau-kla/ (PyInstaller, pantau-kla.spec).
package: setup
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller pantau-kla.spec

# lint-imports: the package layers (.importlinter, docs/architecture.md); an upward import fails the run.
# Bytecode is compiled first: the tests start hundreds of `flask` processes, and where PYTHONDONTWRITEBYTECODE
# is set (CI machines) each of them would compile the project's modules again, most of a second apiece.
SOURCES := app survey sync geo indicators maps fieldapp bench tests migrations
test: setup
	$(BIN)/lint-imports
	$(BIN)/python -m compileall -q -j 0 $(SOURCES) > /dev/null
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

test-fast: setup
	$(BIN)/lint-imports
	$(BIN)/python -m compileall -q -j 0 $(SOURCES) > /dev/null
	$(BIN)/pytest -m "not browser and not slow"

bench: setup fuzz
	$(BIN)/python -m bench

# The long fuzz run of the sync door: schemathesis against /api/v1/openapi.json and structural fuzzing of
# push bodies and bundles (tests/test_fuzz.py), with a large budget; CI runs the same tests small.
PANTAU_FUZZ_EXAMPLES ?= 5000
fuzz: setup
	PANTAU_FUZZ_EXAMPLES=$(PANTAU_FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:randomly -o timeout=0 tests/test_fuzz.py

# Maintainers: collect new strings, then translate them in translations/id/LC_MESSAGES/messages.po.
extract: $(VENV)/.installed
	$(BIN)/pybabel extract -w 100 --no-location --sort-output -F babel.cfg -k N_ -k _l -o translations/messages.pot .
	$(BIN)/pybabel update -w 100 --no-fuzzy-matching -i translations/messages.pot -d translations

clean:
	rm -rf $(VENV) node_modules static/vendor translations/.compiled translations/*/LC_MESSAGES/*.mo
