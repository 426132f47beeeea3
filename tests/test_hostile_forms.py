"""Control characters typed (or sent) into the web forms: cleaned at the door (app.inputs), never a database
error page and never text the sync door would refuse. Each row runs on a SQLite hub and a PostgreSQL hub."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.node import Device
from app.auth.models import User
from survey.facilities.models import Facility
from sync import schemas
from tests.support import fresh_postgres_database

# NUL (PostgreSQL refuses it in text), other C0 and C1 controls, DEL, U+FFFF, and in a one-line field a line
# break, a tab and a right-to-left override (a name that would read backwards).
DIRTY = "Ta\x00man\x01 RW\x1b 01\x7f\x85\uffff"
DIRTY_LINE = "Taman\r\nRW\t01\u202e"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_config(request, tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
              "SECRET_KEY": "hostile-forms-" + "k" * 32, "SECURE_COOKIES": False}
    if request.param == "sqlite":
        yield config
        return
    for url in fresh_postgres_database():
        yield {**config, "DATABASE_URL": url}


def stored(app, column, where):
    from app.extensions import db

    with app.app_context():
        return db.session.execute(select(column).where(where)).scalar_one()


def door_takes(name: str) -> bool:
    """Whether the sync door takes this as a facility's or device's name (sync.schemas' name rule)."""
    import re

    return re.fullmatch(schemas._NAME_CHARS.strip("^$"), name) is not None


@pytest.mark.parametrize("typed, kept", [(DIRTY, "Taman RW 01"), (DIRTY_LINE, "Taman RW 01")], ids=["controls", "one line"])
def test_a_facility_name_is_stored_clean(app, auth, supervisor, typed, kept):
    auth.login("budi")
    response = auth.post("/facilities/new", {"kind": "sekolah", "name": typed, "official_id": "", "address": typed,
                                            "kecamatan_code": "36.73.01", "lat": "-6.1201", "lon": "106.1503"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    name = stored(app, Facility.name, Facility.name.like("Taman%"))
    assert name == kept and door_takes(name)


@pytest.mark.parametrize("typed, kept", [(DIRTY, "Taman RW 01"), (DIRTY_LINE, "Taman RW 01")], ids=["controls", "one line"])
def test_a_device_name_is_stored_clean(app, auth, supervisor, typed, kept):
    auth.login("budi")
    response = auth.post("/devices/register", {"name": typed, "kecamatan": "36.73.01", "role": "field"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert stored(app, Device.name, Device.name.like("Taman%")) == kept


def test_a_users_full_name_is_stored_clean_and_a_password_keeps_what_was_typed(app, auth, admin):
    auth.login("adi")
    password = "kata\tsandi rina"  # a tab in a password is the user's own: kept; a NUL is not
    response = auth.post("/admin/users/new", {"username": "rina", "full_name": "Rina\x00\r\nDewi\u202e",
                                              "role": "auditor", "kecamatan": ["36.73.02"],
                                              "password": password + "\x00", "confirm": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert stored(app, User.full_name, User.username == "rina") == "Rina Dewi"
    from app.extensions import db

    with app.app_context():
        assert db.session.execute(select(User).where(User.username == "rina")).scalar_one().check_password(password)


def test_free_text_keeps_its_lines(app, auth, supervisor):
    from app.inputs import clean, one_line

    assert clean("baris satu\r\nbaris\tdua\x00\x0b") == "baris satu\r\nbaris\tdua"
    assert one_line("a\r\n\tb\u2066c") == "a bc"


def test_a_search_with_nul_is_a_search(app, auth, supervisor):
    auth.login("budi")
    page = auth.client.get("/facilities/?q=Ta%00man%1b")
    assert page.status_code == 200 and 'value="Taman"' in page.get_data(as_text=True)
