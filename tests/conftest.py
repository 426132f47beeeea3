"""Fixture chain: app -> db -> client -> runner -> personas -> login. Every test gets a fresh database."""

from __future__ import annotations

import uuid

import pytest
from app import create_app
from app.cli_support import write_transaction
from app.extensions import db as _db
from tests.support import html, migrate

PASSWORD = "rahasia-123"


# The longest files run first: under `make test` (two workers, a file per worker at a time, in this order) the other
# worker takes the rest meanwhile, and no long file is left running alone at the end.
LONGEST_FIRST = ("test_sync_faults.py", "test_package.py", "test_desktop.py")


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle: the sort is stable, the rest stays shuffled
def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in LONGEST_FIRST)


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes():
    """Accounts made in tests get a cheap PBKDF2 hash instead of scrypt (0.14 s to make and again to check):
    a test is about who may do what, not about the hash's cost. Real installs keep werkzeug's default."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    from app.auth import models

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000"))
        yield


@pytest.fixture
def app_config(tmp_path):
    """Settings for the app under test; override in a module to change role or database."""
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "field", "DEMO": False}


@pytest.fixture
def app(app_config):
    """The app on a new SQLite file, migrated to the newest schema, with this device registered.

    No app context stays pushed: requests made by the test client must each get their own `g`
    (Flask-Login and Flask-Babel cache the user and locale there). Tests that read the database
    open `with app.app_context():` around the reads.
    """
    application = create_app(app_config)
    with application.app_context():
        migrate(application)
        from sync.service import ensure_self_device

        with write_transaction() as session:
            ensure_self_device(session, application.config["ROLE"])
    yield application
    with application.app_context():
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database extension; use it inside `with app.app_context():`."""
    return _db


@pytest.fixture
def client(app):
    """A test client (CSRF on, as in production)."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def kota_serang(app):
    """Kota Serang's six kecamatan (real codes), as the demo loads them."""
    from survey import demo

    with app.app_context(), write_transaction() as session:
        demo.seed_regions(session)
    return demo.KECAMATAN


def make_user(app, username: str, role: str, kecamatan=(), password: str = PASSWORD) -> str:
    """Factory: a user with a role and kecamatan; returns the username."""
    from app.auth.service import create_user

    with app.app_context(), write_transaction() as session:
        create_user(session, username=username, role=role, password=password,
                    full_name=username.title(), kecamatan_codes=list(kecamatan))
    return username


@pytest.fixture
def auditor(app, kota_serang):
    """Siti audits in Kecamatan Serang (36.73.01) only."""
    return make_user(app, "siti", "auditor", ["36.73.01"])


@pytest.fixture
def supervisor(app, kota_serang):
    """Budi reviews audits of the whole city."""
    return make_user(app, "budi", "supervisor")


@pytest.fixture
def planner(app, kota_serang):
    """Dewi plans at Bappeda."""
    return make_user(app, "dewi", "planner")


@pytest.fixture
def admin(app, kota_serang):
    """Adi manages users."""
    return make_user(app, "adi", "admin")


class Session:
    """Signs a test client in and posts forms with the page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def csrf(self) -> str:
        """The CSRF token of the current browser session (every page has one in a form)."""
        page = html(self.client.get("/login", follow_redirects=True))
        return page.find("input", {"name": "csrf_token"})["value"]

    def login(self, username: str, password: str = PASSWORD):
        """Sign in with the sign-in form."""
        return self.post("/login", {"username": username, "password": password})

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST a form with a valid CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf()}, **kwargs)


@pytest.fixture
def auth(client):
    """Sign in as a persona: `auth.login("siti")`."""
    return Session(client)


def make_facility(app, **fields) -> str:
    """Factory: a facility with keyword overrides; returns its id as text."""
    from survey.facilities.service import FacilityInput, create_facility

    values = {"kind": "ruang_bermain", "name": "Taman Bermain RW 01", "kecamatan_code": "36.73.01",
              "lat": -6.1150, "lon": 106.1600, **fields}
    with app.app_context(), write_transaction() as session:
        return str(create_facility(session, FacilityInput(**values), verified=True).id)


@pytest.fixture
def facility(app, kota_serang):
    """Taman Bermain RW 01 in Kecamatan Serang, at a known point."""
    return make_facility(app)


def new_uuid() -> str:
    """A random id string."""
    return str(uuid.uuid4())
