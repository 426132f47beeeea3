"""The rendered-card cache (survey.cards) changes no page: every page of a walk through two audits is the same
with the cache warm as with it off, in both languages, for the auditor and for a reader who may not edit."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from survey.cards import EXTENSION, CardCache
from tests.conftest import make_facility
from tests.support import make_jpeg
from tests.test_audits import answer, position, start
from tests.test_repeats import CHECKLIST, add, install

# The parts of a page that differ between two renders of the same state: the CSRF token is signed with a time.
VOLATILE = re.compile(r'(csrf[-_]token"?\s*(?:value|content)?=?\s*"|X-CSRFToken": ")[^"]+"')


# A question shown only for one province: the same card hidden in one audit and shown in the other.
RELEVANT = """\
      - {id: alasan, type: text, relevant: "${provinsi} = 'jabar'", label: {id: Alasan, en: Reason}}
"""


def page(auth, audit_id: str) -> str:
    response = auth.client.get(f"/audits/{audit_id}")
    assert response.status_code == 200
    return VOLATILE.sub(r'\1…"', response.get_data(as_text=True))


def both_ways(app, auth, audit_id: str) -> tuple[str, str]:
    """The page rendered from the cache (rendered twice, so the second comes from it) and with the cache off."""
    cache = app.extensions[EXTENSION]
    page(auth, audit_id)
    cached = page(auth, audit_id)
    app.extensions[EXTENSION] = None
    try:
        plain = page(auth, audit_id)
    finally:
        app.extensions[EXTENSION] = cache
    return cached, plain


@pytest.fixture
def audits(app, auth, auditor, facility):
    """Two drafts of the repeats checklist at two facilities, by Siti."""
    install(Path(app.config["DATA_DIR"]), text=CHECKLIST + RELEVANT)
    auth.login("siti")
    other = make_facility(app, name="Taman Bermain RW 02", lat=-6.1152, lon=106.1603)
    return start(auth, facility, "alat@1"), start(auth, other, "alat@1")


def steps(auth, first: str, second: str):
    """A walk through what changes a card: answers, filled-in labels, filters, entries, notes, photos, problems."""
    yield "blank"
    answer(auth, first, "provinsi", "banten")
    yield "a choice filter narrows the next question"
    answer(auth, second, "provinsi", "jabar")
    yield "a question shown in one audit, hidden in the other"
    add(auth, first)
    add(auth, second)
    answer(auth, first, "alat[1]/kondisi", "tidak")
    answer(auth, second, "alat[1]/kondisi", "tidak")
    yield "the same answer in both audits, a label filled in from it"
    answer(auth, second, "jumlah_anak", "2")
    answer(auth, second, "anak[2]/umur", "x7")
    yield "counted entries and a refused answer kept as typed"
    auth.post(f"/audits/{first}/notes/provinsi", {"note": "<b>Papan</b> 50% ${provinsi} " + second},
              headers={"HX-Request": "true"})
    photo = auth.post(f"/audits/{first}/photos/alat[1]/foto_alat",
                      {"photo": (io.BytesIO(make_jpeg()), "a.jpg", "image/jpeg")},
                      headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert photo.status_code == 200
    yield "a note naming the other audit, and a photo"
    auth.post("/language", {"locale": "en"})
    yield "in English"


def test_every_page_of_a_walk_is_the_same_with_and_without_the_cache(app, auth, audits):
    first, second = audits
    for step in steps(auth, first, second):
        for audit_id in (first, second):
            cached, plain = both_ways(app, auth, audit_id)
            assert cached == plain, f"{step}: audit {audit_id} differs with the cache"
            other = second if audit_id == first else first
            assert f"/audits/{audit_id}/answers/" in cached and f"/audits/{other}/answers/" not in cached


def test_a_submitted_audit_read_by_its_supervisor_is_the_same_page(app, auth, audits, supervisor):
    first, _ = audits
    answer(auth, first, "provinsi", "jabar")
    position(auth, first)
    page(auth, first)  # the auditor's editable cards are in the cache now
    assert auth.post(f"/audits/{first}/submit").status_code == 302
    cached, plain = both_ways(app, auth, first)
    assert cached == plain and "data-answer-form" not in cached
    auth.post("/logout")
    auth.login("budi")
    cached, plain = both_ways(app, auth, first)
    assert cached == plain and "data-answer-form" not in cached


def test_cards_serve_every_audit_of_a_checklist(app, auth, audits):
    first, second = audits
    page(auth, first)
    cache = app.extensions[EXTENSION]
    size = len(cache)
    assert size > 0
    page(auth, second)
    assert len(cache) == size, "the second audit's blank cards come from the first audit's"


def test_the_cache_forgets_the_least_recently_used_beyond_its_size():
    cache = CardCache(2)
    items = [object(), object(), object()]
    for n, item in enumerate(items):
        cache.put((n,), item, f"card {n}")
        cache.get((0,), items[0])
    assert cache.get((0,), items[0]) == "card 0" and cache.get((1,), items[1]) is None
    assert cache.get((2,), items[2]) == "card 2"
    assert cache.get((2,), object()) is None, "a key names one item object, never another with a reused id"
