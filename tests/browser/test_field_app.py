"""The installed field app (issue #15), end to end in Debian's Chromium with a persistent profile: enrolled
through the QR code's URL, prepared, then used with the hub *process stopped* (a context set offline would not
cover the service worker's own fetches). Answers, photos and the outbox live in IndexedDB and survive reloads,
a closed browser and a new app version; the hub gets each audit exactly once with its photos; a returned audit is
corrected offline; the exported bundle imports on the hub."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS, SIZES
from tests.support import CHROMIUM, CHROMIUM_ARGS, ServerProcess, make_jpeg

SECRET = "field-app-" + "k" * 32
KECAMATAN = "36.73.01"  # Serang, where the demo auditor works
FACILITY_AT = {"latitude": -6.1151, "longitude": 106.1602, "accuracy": 8}


def hub_process(folder: Path, release: str = "") -> ServerProcess:
    """A demo hub, as `make run` makes one with PANTAU_ROLE=hub."""
    return ServerProcess(folder, env={"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": SECRET, "PANTAU_SECURE_COOKIES": "0",
                                      "PANTAU_FIELD_APP_RELEASE": release}, demo=True)


@pytest.fixture
def hub(tmp_path_factory):
    server = hub_process(tmp_path_factory.mktemp("field-hub"))
    server.init()
    server.start()
    yield server
    server.stop()


class Tablet:
    """The app on one tablet: a persistent Chromium profile that can be closed and opened again, GPS granted."""

    def __init__(self, driver, profile: Path, base: str, size: str = "tablet"):
        self.driver, self.profile, self.base, self.size = driver, profile, base, size
        self.context = None
        self.errors: list[str] = []
        self.open()

    def open(self):
        self.context = self.driver.chromium.launch_persistent_context(
            str(self.profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=SIZES[self.size],
            permissions=["geolocation"], geolocation=FACILITY_AT, accept_downloads=True)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # Offline means offline: the page and its service worker ask nothing of another host.
        self.context.on("request", lambda request: self._own(request.url))
        self.page.on("dialog", lambda dialog: dialog.accept())
        return self

    def _own(self, url: str) -> None:
        if not url.startswith((self.base, "data:", "blob:")):
            self.errors.append(f"request to another host: {url}")

    def close(self):
        self.context.close()

    def goto(self, hash_path: str = "#/"):
        self.page.goto(f"{self.base}/app/{hash_path}")

    def shot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"field-app-{name}.png"), full_page=True)

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def controlled(self) -> bool:
        """Whether the service worker controls the page (the app then starts without the hub)."""
        self.page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                                    timeout=15000)
        return True

    def caches(self) -> list[str]:
        return self.evaluate("() => caches.keys()")


def register_device(hub_url: str, browser_context, name: str) -> str:
    """A supervisor registers a tablet on the hub's Devices page; the URL its QR code holds."""
    page = browser_context.new_page()
    page.goto(f"{hub_url}/login")
    page.fill("#username", "supervisor")
    page.fill("#password", "demo")
    page.click("button[type=submit].btn")
    page.goto(f"{hub_url}/devices/")
    page.fill("#device-name", name)
    page.check(f"input[name=kecamatan][value='{KECAMATAN}']")
    page.click("#register-device button[type=submit]")
    figure = page.locator("figure.enroll-qr-code")
    assert figure.locator("svg").count() == 1, "the one-time code is shown as a QR code"
    url = figure.get_attribute("data-enroll-url")
    assert url.startswith(f"{hub_url}/app/#enroll="), url
    page.close()
    return url


@contextmanager
def enrolled_tablet(driver, hub: ServerProcess, folder: Path, name: str, size: str = "tablet", pin: str = "1234"):
    """A tablet registered on the hub by its supervisor, enrolled through the QR URL, prepared, auditor signed on."""
    browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        url = register_device(hub.url, browser.new_context(), name)
        tablet = Tablet(driver, folder / "profile", hub.url, size=size)
        try:
            enroll_and_prepare(tablet, url, pin)
            yield tablet
        finally:
            tablet.close()
    finally:
        browser.close()


def enroll_and_prepare(tablet: Tablet, url: str, pin: str = "1234"):
    """Open the QR code's URL, enroll, prepare for the field, sign the demo auditor on with a PIN."""
    tablet.page.goto(url)
    tablet.page.fill("#enroll-name", "Tablet Gugus Tugas 1")
    tablet.page.get_by_role("button", name="Daftarkan tablet ini").click()
    tablet.page.locator("[data-prepare]").click()
    enroll_pin(tablet, pin)


def answer_everything(page):
    """Answer every shown question as a careful auditor would: Yes, the first option, a number, a word."""
    for _ in range(2):  # answers can bring further questions into view
        for form in page.locator("article.item:visible form[data-answer-form]").all():
            if form.locator("label.opt-ya").count():
                form.locator("label.opt-ya").click()
            elif form.locator("fieldset.choices label.choice:visible").count():
                form.locator("fieldset.choices label.choice:visible").first.click()
            elif form.locator("input.num-input").count():
                form.locator("input.num-input").fill("3")
                form.locator("input.num-input").blur()
            elif form.locator("textarea[name=value]").count():
                form.locator("textarea[name=value]").fill("baik")
                form.locator("textarea[name=value]").blur()
    page.wait_for_function("() => !document.querySelector('.feedback[data-state=saving]')")


def hub_rows(server: ServerProcess, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(server.instance / "pantau.db") as db:
        return db.execute(sql, params).fetchall()


def submit(page, audit_id: str):
    """Check and submit (the confirmation accepted); the facility page then lists it as waiting to be sent.
    Without a position the app refuses, as the desktop does: the GPS is taken first."""
    if page.locator("[data-no-position]").count():
        page.locator("[data-submit]").click()
        page.locator("[data-problem='audit.no_position']").wait_for()
        page.locator("[data-take-gps]").click()
        page.locator("[data-position-line] strong").wait_for()
    page.locator("[data-submit]").click()
    page.locator(f".audit-row[data-audit='{audit_id}'] [data-sync-state=waiting]").wait_for()


def start_ktr_audit(page):
    page.locator(".bottom-nav a[href='#/']").click()
    page.locator("#facility-list .facility-row", has_text="MI Al-Hidayah Serang").click()
    page.locator(".start-audit[data-checklist^='ktr@']").click()
    page.locator(".checklist-section").first.wait_for()
    return page.url.rsplit("/", 1)[1]


def test_field_app_offline_end_to_end(hub, playwright_driver, tmp_path):
    """Enroll by QR URL, prepare, stop the hub, audit with a photo and GPS, survive reloads, a closed browser and a
    new app version, start the hub and find the audit there exactly once with its photo."""
    supervisor = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    url = register_device(hub.url, supervisor.new_context(), "Tablet Gugus Tugas 1")
    tablet = Tablet(playwright_driver, tmp_path / "profile", hub.url)
    enroll_and_prepare(tablet, url)
    tablet.shot("home-tablet-id")
    assert tablet.controlled()
    assert "Siap tanpa sinyal" in tablet.page.locator("[data-ready]").inner_text()

    hub.stop()  # from here the tablet works with no hub at all
    tablet.goto("#/")
    tablet.page.locator("#facility-list .facility-row").first.wait_for()
    audit_id = start_ktr_audit(tablet.page)
    answer_everything(tablet.page)
    tablet.page.locator("[data-take-gps]").click()
    tablet.page.locator("[data-position-line] strong").wait_for()
    assert "± 8 m" in tablet.page.locator("[data-position-line]").inner_text()
    big = make_jpeg(3600, 2400)  # a 8.6-megapixel shot: kept at 2000 px on its long edge
    photo_item = tablet.page.locator("article.item-photo")
    photo_item.locator("[data-photo-input]").set_input_files(
        files=[{"name": "bukti.jpg", "mimeType": "image/jpeg", "buffer": big}])
    photo_item.locator("ul.photos img").wait_for()
    stored = tablet.evaluate("""async () => {
        const { database } = await import('/static/app/db.js');
        const photos = await (await database()).getAll('photos');
        return photos.map((p) => [p.width, p.height, p.size]);
    }""")
    assert stored[0][:2] == [2000, 1333] and stored[0][2] < len(big)
    tablet.shot("audit-offline-tablet-id")

    tablet.page.reload()  # every answer was in IndexedDB the moment it was given
    tablet.page.locator(".checklist-section").first.wait_for()
    assert tablet.page.locator("label.opt-ya input:checked").count() >= 5
    assert tablet.page.locator("article.item-photo ul.photos img").count() == 1
    tablet.close()
    tablet.open()  # the browser closed and opened again, still without a hub
    tablet.goto(f"#/audit/{audit_id}")
    tablet.page.locator(".checklist-section").first.wait_for()
    assert tablet.page.locator("label.opt-ya input:checked").count() >= 5
    submit(tablet.page, audit_id)
    draft_id = start_ktr_audit(tablet.page)  # a second audit, left as a draft
    tablet.page.locator("label.opt-tidak").first.click()
    tablet.page.locator(".feedback[data-state=saved]").first.wait_for()
    tablet.goto("#/sync")
    tablet.page.locator("[data-outbox='1']").wait_for()
    tablet.page.locator("[data-sync-now]").click()  # no hub: said in words, and the outbox keeps the audit
    tablet.page.locator(".notice", has_text="Hub tidak dapat dihubungi").wait_for()
    tablet.page.locator("[data-outbox='1']").wait_for()
    tablet.shot("outbox-offline-tablet-id")

    old_caches = tablet.caches()
    new_version = hub_process(hub.instance, release="2")  # a new app version, deployed while the tablet holds work
    new_version.port = hub.port
    new_version.start()
    try:
        tablet.goto("#/")
        tablet.page.wait_for_function("(old) => caches.keys().then((keys) => keys.length === 1 && keys[0] !== old[0])",
                                      arg=old_caches, timeout=20000)
        tablet.page.reload()
        tablet.goto(f"#/audit/{draft_id}")
        tablet.page.locator("label.opt-tidak input:checked").first.wait_for()  # the draft is still there
        tablet.goto("#/sync")
        tablet.page.locator("[data-sync-now]").click()
        tablet.page.locator("[data-outbox='0']").wait_for(timeout=20000)
        tablet.shot("sync-done-tablet-id")
        rows = hub_rows(new_version, "SELECT id, status FROM audit WHERE replace(id, '-', '') = ?", audit_id.replace("-", ""))
        assert len(rows) == 1 and rows[0][1] == "submitted"
        photos = hub_rows(new_version, "SELECT sha256 FROM answer_photo WHERE replace(audit_id, '-', '') = ?",
                          audit_id.replace("-", ""))
        assert len(photos) == 1
        assert list((new_version.instance / "photos").rglob(f"{photos[0][0]}*")), "the photo file is on the hub"
        kept = tablet.evaluate("""async () => {
            const { database, meta } = await import('/static/app/db.js');
            const { letGo, KEEP_ACKNOWLEDGED_DAYS } = await import('/static/app/outbox.js');
            const db = await database();
            const photos = (await db.getAll('photos')).map((row) => Boolean(row.acked_at));
            const acked = await meta('acked', 0);
            const later = async (days) => {
                const tx = db.transaction(['audits', 'answers', 'changes', 'photos'], 'readwrite');
                await letGo(tx, acked, Date.now() + days * 86400000);
                await tx.done;
                return db.count('photos');
            };
            return { photos, month: await later(KEEP_ACKNOWLEDGED_DAYS - 1),
                     after: await later(KEEP_ACKNOWLEDGED_DAYS + 1) };
        }""")
        # A photo the hub acknowledged stays a month (a hub restored from a recent backup gets it again), then goes.
        assert kept == {"photos": [True], "month": 1, "after": 0}, kept
        tablet.page.locator("[data-sync-now]").click()  # sending again sends nothing twice
        tablet.page.locator(".sync-status").wait_for()
        assert len(hub_rows(new_version, "SELECT id FROM audit WHERE replace(id, '-', '') = ?",
                            audit_id.replace("-", ""))) == 1
        assert not tablet.errors, tablet.errors
    finally:
        tablet.close()
        new_version.stop()
        supervisor.close()


def supervisor_page(driver, hub_url: str):
    """The hub in a supervisor's browser, signed in."""
    browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_context(viewport=SIZES["tablet"]).new_page()
    page.goto(f"{hub_url}/login")
    page.fill("#username", "supervisor")
    page.fill("#password", "demo")
    page.click("button[type=submit].btn")
    return browser, page


def audit_rows(server: ServerProcess, audit_id: str) -> list[tuple]:
    return hub_rows(server, "SELECT revision, revision_of, status FROM audit WHERE replace(id, '-', '') = ?",
                    audit_id.replace("-", ""))


def test_returned_audit_corrected_offline_and_exported_bundle_imported(hub, playwright_driver, tmp_path):
    """The supervisor returns an audit; the tablet brings the decision home, the auditor corrects it with the hub
    stopped; the correction travels as an exported bundle the supervisor imports; nothing arrives twice."""
    browser, supervisor = supervisor_page(playwright_driver, hub.url)
    url = register_device(hub.url, browser.new_context(), "Tablet Gugus Tugas 2")
    tablet = Tablet(playwright_driver, tmp_path / "profile", hub.url, size="phone")
    try:
        enroll_and_prepare(tablet, url, pin="2468")
        audit_id = start_ktr_audit(tablet.page)
        answer_everything(tablet.page)
        submit(tablet.page, audit_id)
        tablet.goto("#/sync")
        tablet.page.locator("[data-sync-now]").click()
        tablet.page.locator("[data-outbox='0']").wait_for(timeout=20000)
        assert audit_rows(hub, audit_id) == [(1, None, "submitted")]

        supervisor.goto(f"{hub.url}/audits/{audit_id}")
        supervisor.check("input[name=decision][value=returned]")
        supervisor.fill("#review-comment", "Foto tanda KTR belum ada; tambahkan.")
        supervisor.get_by_role("button", name="Simpan keputusan").click()
        supervisor.wait_for_load_state("networkidle")

        tablet.page.locator("[data-sync-now]").click()  # the decision comes home with the package
        tablet.page.locator(f".audit-row[data-audit='{audit_id}'] [data-sync-state=returned]").wait_for(timeout=20000)
        hub.stop()
        tablet.page.locator(f".audit-row[data-audit='{audit_id}']").click()
        assert "Foto tanda KTR belum ada" in tablet.page.locator("[data-returned]").inner_text()
        tablet.shot("returned-phone-id")
        tablet.page.locator("[data-correct]").click()
        tablet.page.locator("[data-returned-comment]").wait_for()
        assert tablet.page.locator("label.opt-ya input:checked").count() >= 5  # the correction starts from what was sent
        tablet.page.locator("article.item-photo [data-photo-input]").set_input_files(
            files=[{"name": "tanda.jpg", "mimeType": "image/jpeg", "buffer": make_jpeg(800, 600)}])
        tablet.page.locator("article.item-photo ul.photos img").wait_for()
        correction_id = tablet.page.url.rsplit("/", 1)[1]
        submit(tablet.page, correction_id)
        tablet.goto("#/sync")
        tablet.page.locator("[data-outbox='1']").wait_for()
        with tablet.page.expect_download() as download:
            tablet.page.locator("[data-export]").click()
        bundle = tmp_path / download.value.suggested_filename
        download.value.save_as(bundle)
        tablet.shot("outbox-exported-phone-id")

        hub.start()
        supervisor.goto(f"{hub.url}/sync/upload")
        supervisor.set_input_files("#bundle", str(bundle))
        supervisor.get_by_role("button", name="Impor").click()
        supervisor.wait_for_load_state("networkidle")
        revision = audit_rows(hub, correction_id)
        assert len(revision) == 1 and revision[0][0] == 2
        assert revision[0][1].replace("-", "") == audit_id.replace("-", "")
        assert len(hub_rows(hub, "SELECT sha256 FROM answer_photo WHERE replace(audit_id, '-', '') = ?",
                            correction_id.replace("-", ""))) == 1

        tablet.page.locator("[data-sync-now]").click()  # the hub has it already: the tablet's outbox empties, once
        tablet.page.locator("[data-outbox='0']").wait_for(timeout=20000)
        assert len(audit_rows(hub, correction_id)) == 1

        # A later package that no longer offers the audits' version (a newer one was published, this one retired):
        # the version stays while audits here name it, offered for no new audit, and the audit still opens.
        kept = tablet.evaluate("""async () => {
            const { database } = await import('/static/app/db.js');
            const { store } = await import('/static/app/prepare.js');
            const db = await database();
            const data = { facilities: await db.getAll('facilities'), regions: await db.getAll('regions'),
                           auditors: await db.getAll('auditors'), checklists: [], audits: [] };
            await store(data, '"newer"', 0);
            return (await db.getAll('checklists')).map((row) => [row.key, row.kinds]);
        }""")
        assert kept and all(key.startswith("ktr@") and kinds == [] for key, kinds in kept), kept
        tablet.goto(f"#/audit/{correction_id}")
        tablet.page.locator(".checklist-section").first.wait_for()
        assert not tablet.errors, tablet.errors
    finally:
        tablet.close()
        browser.close()


def test_one_draft_in_two_tabs_makes_one_audit(hub, playwright_driver, tmp_path):
    """Two tabs on one draft: an answer in one shows in the other; submitting in both makes one change, not two."""
    with enrolled_tablet(playwright_driver, hub, tmp_path, "Tablet Gugus Tugas 3") as tablet:
        audit_id = start_ktr_audit(tablet.page)
        other = tablet.context.new_page()
        other.on("dialog", lambda dialog: dialog.accept())
        other.goto(f"{hub.url}/app/#/audit/{audit_id}")
        other.locator(".checklist-section").first.wait_for()
        tablet.page.bring_to_front()  # a background tab's timers are throttled, as on a tablet
        answer_everything(tablet.page)
        other.wait_for_function("() => document.querySelectorAll('label.opt-ya input:checked').length >= 5")
        outcomes = other.evaluate("""async (id) => {
            const store = await import('/static/app/store.js');
            const tries = await Promise.allSettled([store.submit(id, { score: 1, result: 'memenuhi' }),
                                                    store.submit(id, { score: 1, result: 'memenuhi' })]);
            return tries.map((t) => t.status);
        }""", audit_id)
        assert sorted(outcomes) == ["fulfilled", "rejected"]
        tablet.page.locator("[data-submit]").click()  # the first tab still shows the draft: it is told, nothing is made
        tablet.page.locator("[data-submit-problems]", has_text="sudah dikirim").wait_for()
        changes = tablet.evaluate("""async () => {
            const { database } = await import('/static/app/db.js');
            return (await (await database()).getAll('changes')).map((row) => row.change.entity_id);
        }""")
        assert changes == [audit_id]


def test_storage_migrations_keep_every_record(hub, playwright_driver, tmp_path):
    """A newer app adds to the IndexedDB shape: records written by the older shape are all still there."""
    tablet = Tablet(playwright_driver, tmp_path / "profile", hub.url)
    try:
        tablet.goto("#/")
        tablet.page.locator("#enroll-form").wait_for()
        result = tablet.evaluate("""async () => {
            const { MIGRATIONS, openWith } = await import('/static/app/db.js');
            const old = await openWith('migration-check', MIGRATIONS);
            await old.put('changes', { seq: 1, change: { kind: 'audit' } });
            await old.put('answers', { audit_id: 'a', address: 'x', value: 'ya', version: 1 });
            old.close();
            const next = [...MIGRATIONS, (db) => db.createObjectStore('later')];
            const upgraded = await openWith('migration-check', next);
            const kept = [await upgraded.count('changes'), await upgraded.count('answers'),
                          upgraded.objectStoreNames.contains('later'), upgraded.version];
            upgraded.close();
            return kept;
        }""")
        assert result == [1, 1, True, 2]
    finally:
        tablet.close()


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_field_app_screens_in_both_languages(hub, playwright_driver, tmp_path, size):
    """Every screen of the app at phone and tablet size in Indonesian, then English (screenshots looked at)."""
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    url = register_device(hub.url, browser.new_context(), f"Tablet {size}")
    tablet = Tablet(playwright_driver, tmp_path / "profile", hub.url, size=size)
    try:
        tablet.page.goto(url)
        tablet.page.get_by_role("button", name="Daftarkan tablet ini").wait_for()
        tablet.shot(f"enroll-{size}-id")
        tablet.page.get_by_role("button", name="Daftarkan tablet ini").click()
        tablet.page.locator("[data-prepare]").wait_for()
        tablet.shot(f"prepare-{size}-id")
        tablet.page.locator("[data-prepare]").click()
        tablet.page.locator(".auditor-choice").first.wait_for()
        tablet.shot(f"auditor-{size}-id")
        enroll_pin(tablet)
        audit_id = start_ktr_audit(tablet.page)
        tablet.page.locator("label.opt-ya").first.click()
        tablet.page.locator(".feedback[data-state=saved]").first.wait_for()
        hub.stop()
        for language, words in (("id", ("Fasilitas", "Kirim ke hub")), ("en", ("Facilities", "Send to the hub"))):
            tablet.page.locator(f".lang-switch [data-locale={language}]").click()
            tablet.goto("#/")
            tablet.page.get_by_role("heading", name=words[0]).wait_for()
            tablet.page.screenshot(path=str(SCREENSHOTS / f"field-app-home-{size}-{language}.png"))
            tablet.goto(f"#/audit/{audit_id}")
            tablet.page.locator(".checklist-section").first.wait_for()
            tablet.page.screenshot(path=str(SCREENSHOTS / f"field-app-audit-{size}-{language}.png"))
            tablet.page.locator(".section-nav .chip").first.click()  # a section chip scrolls; the audit stays open
            assert tablet.page.url.endswith(f"#/audit/{audit_id}")
            assert tablet.page.locator(".checklist-section").count() >= 1
            tablet.goto("#/sync")
            tablet.page.get_by_role("heading", name=words[1]).wait_for()
            tablet.shot(f"sync-{size}-{language}")
            tablet.goto("#/settings")
            tablet.page.locator("#storage").wait_for()
            tablet.shot(f"settings-{size}-{language}")
        assert not tablet.errors, tablet.errors
    finally:
        tablet.close()
        browser.close()


def enroll_pin(tablet: Tablet, pin: str = "1357"):
    """The demo auditor signs on for the first time: hub password, then a PIN."""
    tablet.page.locator(".auditor-choice[data-username=auditor]").click()
    tablet.page.fill("#password", "demo")
    tablet.page.fill("#new-pin", pin)
    tablet.page.fill("#new-pin-again", pin)
    tablet.page.locator("[data-auditor-form] button[type=submit]").click()
    tablet.page.locator("#facility-list .facility-row").first.wait_for()


def test_repeat_form_offline_entries_cascades_and_calculations(hub, playwright_driver, tmp_path):
    """A real XLSForm with a repeat of play equipment (photo per entry), a cascading select, `or_other` and a
    calculated total, filled in the app with the hub stopped: entries added and removed (later ones renumbered),
    choices and labels following the answers; on the hub the audit holds exactly the entries left, with their photos."""
    from tests.browser.test_repeat_form import workbook

    form = workbook(tmp_path / "audit-alat-bermain.xlsx")
    hub.stop()
    hub.env["PANTAU_ROLE"] = "hub"
    import subprocess
    import sys

    from tests.support import ROOT
    subprocess.run([sys.executable, "-m", "flask", "checklists", "import", str(form), "--kind", "ruang_bermain"],
                   cwd=ROOT, env=hub.env, check=True, capture_output=True)
    hub.start()
    with enrolled_tablet(playwright_driver, hub, tmp_path, "Tablet alat bermain") as tablet:
        hub.stop()
        page = tablet.page
        page.locator("#facility-list .facility-row", has_text="RPTRA Serang 3").click()
        page.locator(".start-audit", has_text="Audit Alat Bermain").click()
        page.locator(".checklist-section").first.wait_for()
        assert page.locator("#item-kota label.choice:visible").count() == 0  # no province yet: no city on offer
        page.locator("#item-provinsi label", has_text="Banten").click()
        page.locator("#item-kota label", has_text="Kota Cilegon").wait_for()
        assert page.locator("#item-kota label", has_text="Kota Bogor").is_hidden()
        page.locator("#item-kota label", has_text="Kota Cilegon").click()
        page.locator("#item-pengelola label", has_text="Lainnya").click()
        page.locator("#item-pengelola_other textarea[name=value]").fill("Karang Taruna RW 03")
        page.locator("#item-pengelola_other textarea[name=value]").blur()
        for number, (kind, condition) in enumerate(EQUIPMENT, start=1):
            page.locator("button.repeat-add").click()
            card = page.locator(f"[id='item-alat[{number}]/jenis']")
            card.locator("label", has_text=kind).click()
            page.locator(f"[id='item-alat[{number}]/kondisi'] label", has_text="Ya" if condition == "ya" else "Tidak").click()
            page.locator(f"[id='fb-alat[{number}]/kondisi'][data-state=saved]").wait_for()
            page.locator(f"[id='item-alat[{number}]/foto_alat'] [data-photo-input]").set_input_files(
                files=[{"name": f"alat-{number}.jpg", "mimeType": "image/jpeg",
                        "buffer": make_jpeg(color=(60 * number, 120, 40))}])
            page.locator(f"[id='item-alat[{number}]/foto_alat'] ul.photos img").wait_for()
        page.locator("#item-ringkasan", has_text="Tercatat 1 alat rusak.").wait_for()
        assert page.locator("#item-total_rusak [data-computed]").inner_text().strip() == "1"
        tablet.shot("repeat-offline-tablet-id")
        page.locator("[id='instance-alat[2]'] .instance-remove").click()  # the broken slide goes
        page.locator("#item-ringkasan", has_text="Tercatat 0 alat rusak.").wait_for()
        assert page.locator("section.repeat fieldset.instance").count() == 2
        assert page.locator("[id='item-alat[2]/jenis'] input:checked").get_attribute("value") == "jungkat"
        assert page.locator("[id='item-alat[2]/foto_alat'] ul.photos img").count() == 1
        page.locator("[data-manual] summary").click()  # no GPS fix: the point is tapped on the kecamatan's map
        page.locator("[data-map].leaflet-container path").first.wait_for()  # the outline, drawn offline
        # As on the desktop: a latitude with its sign flipped is refused, a point set outside the kecamatan confirmed.
        page.fill("#manual-lat", "6.1201")
        page.fill("#manual-lon", "106.1503")
        page.get_by_role("button", name="Simpan posisi ini").click()
        page.locator("[data-manual] .error-text", has_text="tidak mungkin lokasi fasilitas").wait_for()
        assert page.locator("[data-no-position]").count() == 1
        page.fill("#manual-lat", "-6.3000")
        page.get_by_role("button", name="Simpan posisi ini").click()
        page.locator("[data-manual] .error-text", has_text="di luar kecamatan").wait_for()
        assert page.locator("[data-no-position]").count() == 1
        page.locator("[data-confirm-outside]").scroll_into_view_if_needed()
        tablet.shot("position-confirm-tablet-id")
        page.get_by_role("button", name="Tetap simpan: posisinya benar").click()
        page.locator("[data-position-line]", has_text="-6.300000").wait_for()
        assert page.locator("[data-manual] .error-text").is_hidden()
        page.locator("[data-map]").click()
        assert page.locator("#manual-lat").input_value().startswith("-6.")
        tablet.shot("map-position-tablet-id")
        page.get_by_role("button", name="Simpan posisi ini").click()
        page.locator("[data-position-line]", has_text="ditandai di peta").wait_for()
        audit_id = page.url.rsplit("/", 1)[1]
        submit(page, audit_id)
        hub.start()
        tablet.goto("#/sync")
        tablet.page.locator("[data-sync-now]").click()
        tablet.page.locator("[data-outbox='0']").wait_for(timeout=20000)
        answers = dict(hub_rows(hub, "SELECT item_id, value FROM answer WHERE replace(audit_id, '-', '') = ?",
                                audit_id.replace("-", "")))
        assert answers["alat"] in (2, "2") and answers["alat[2]/jenis"] == '"jungkat"', answers
        photos = hub_rows(hub, "SELECT item_id FROM answer_photo WHERE replace(audit_id, '-', '') = ? ORDER BY item_id",
                          audit_id.replace("-", ""))
        assert [row[0] for row in photos] == ["alat[1]/foto_alat", "alat[2]/foto_alat"]
        assert not tablet.errors, tablet.errors


EQUIPMENT = [("Ayunan", "ya"), ("Perosotan", "tidak"), ("Jungkat-jungkit", "ya")]


def test_a_tablet_whose_clock_is_wrong_is_told_to_set_it(hub, playwright_driver, tmp_path):
    """A flat battery resets a tablet's clock: every audit would be dated years ago. The hub's replies say its time,
    and the home and sync screens ask for the date to be set, until it is."""
    import datetime as dt

    with enrolled_tablet(playwright_driver, hub, tmp_path, "Tablet jam salah", size="phone") as tablet:
        page = tablet.page
        tablet.goto("#/")
        page.locator("#facility-list").wait_for()
        assert page.locator("[data-clock-skew]").count() == 0  # a clock that is right says nothing
        page.clock.set_system_time(dt.datetime(2000, 1, 1, 8, 0, tzinfo=dt.timezone.utc))
        tablet.goto("#/sync")
        page.locator("[data-sync-now]").click()
        page.locator(".sync-status").wait_for()
        page.locator("[data-clock-skew]", has_text="Atur tanggal dan jam tablet").wait_for()
        assert int(page.locator("[data-clock-skew]").get_attribute("data-clock-skew")) < -60 * 24 * 365 * 20
        tablet.goto("#/")
        page.locator("#facility-list [data-clock-skew], main [data-clock-skew]").first.wait_for()
        tablet.shot("clock-skew-phone-id")
        page.locator(".lang-switch [data-locale=en]").click()  # the same notice in English
        tablet.goto("#/")
        page.locator("[data-clock-skew]", has_text="Set the tablet's date and time").first.wait_for()
        tablet.shot("clock-skew-phone-en")
        page.clock.set_system_time(dt.datetime.now(dt.timezone.utc))  # the auditor sets the date
        tablet.goto("#/sync")
        page.locator("[data-clock-skew]").wait_for()  # still the last reply's word, until the next one
        page.locator("[data-sync-now]").click()
        page.locator("[data-clock-skew]").wait_for(state="detached", timeout=20000)  # the sync page, drawn again
        tablet.goto("#/")
        page.locator("#facility-list").wait_for()
        assert page.locator("[data-clock-skew]").count() == 0
        assert not tablet.errors, tablet.errors


def test_shared_tablet_switches_auditor_with_pin(hub, playwright_driver, tmp_path):
    """An auditor switches in with the PIN, offline; five wrong PINs and the hub password is needed again."""
    with enrolled_tablet(playwright_driver, hub, tmp_path, "Tablet bersama", size="phone", pin="4321") as tablet:
        hub.stop()
        page = tablet.page
        page.locator(".who-line a[href='#/switch']").click()
        page.locator(".auditor-choice[data-username=auditor]", has_text="Masuk dengan PIN Anda").click()
        page.fill("#pin", "4321")
        page.locator("[data-auditor-form] button[type=submit]").click()
        page.locator("#facility-list").wait_for()
        page.goto(f"{hub.url}/app/#/switch")
        page.locator(".auditor-choice[data-username=auditor]").click()
        for attempt in range(1, 6):
            page.fill("#pin", "0000")
            page.locator("[data-auditor-form] button[type=submit]").click()
            if attempt < 5:
                page.locator("[data-auditor-form] .error-text", has_text="PIN salah").wait_for()
        page.locator("#password").wait_for()  # locked: back to the hub password, which needs the hub
        assert "Terlalu banyak PIN salah" in page.locator("[data-auditor-form] .error-text").inner_text()
        tablet.shot("auditor-locked-phone-id")
        assert not tablet.errors, tablet.errors


def test_a_full_disk_is_said_and_nothing_shows_saved(hub, playwright_driver, tmp_path):
    """When IndexedDB refuses a write (quota), the answer says it was NOT saved; no green mark, nothing counted."""
    with enrolled_tablet(playwright_driver, hub, tmp_path, "Tablet penuh", size="phone") as tablet:
        start_ktr_audit(tablet.page)
        tablet.evaluate("""() => {
            IDBObjectStore.prototype.put = function full() {
                throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
            };
        }""")
        card = tablet.page.locator("article.item-ynp").first
        card.locator("label.opt-ya").click()
        card.locator(".feedback[data-state=failed]", has_text="TIDAK tersimpan").wait_for()
        assert card.locator(".saved").count() == 0
        assert tablet.page.locator("#overall-progress").inner_text().startswith("0 dari")
        tablet.shot("storage-full-phone-id")
