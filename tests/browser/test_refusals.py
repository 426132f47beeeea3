"""Every refused htmx request is shown beside its control, in the user's language; a network failure in words.

htmx 2 swaps nothing for a 4xx/5xx answer: before static/js/app.js handled it, a `.txt` chosen as a photo
left "Mengunggah foto…" on screen forever, garbage coordinates did nothing, and a second tab after submit
said "check the connection". One audit of the KTR checklist per language and size.
"""

from __future__ import annotations

import io
import os

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_audit_flow import GEO, answer_everything, db_rows, start_ktr_audit
from tests.support import ServerProcess, make_jpeg

MESSAGES = {
    "id": {"not_image": "bukan foto", "empty": "kosong", "pixels": "megapiksel", "coords": "lintang",
           "network": "Tidak terhubung ke aplikasi", "submitted": "sudah dikirim"},
    "en": {"not_image": "not a photo", "empty": "empty", "pixels": "megapixels", "coords": "latitude",
           "network": "Cannot reach the app", "submitted": "already submitted"},
}


def huge_png(width: int = 12_000, height: int = 9_000) -> bytes:
    """A 108-megapixel blank PNG: a few hundred kB on disk, past the server's 60 MP decompression guard."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def huge_photo() -> bytes:
    return huge_png()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo app with a 2 MB upload limit, so a body over it (werkzeug's 413) is cheap to send."""
    server = ServerProcess(tmp_path_factory.mktemp("demo"), env={"PANTAU_MAX_UPLOAD_MB": "2"})
    server.init()
    server.start()
    yield server
    server.stop()


def shot(tab, name: str) -> None:
    """The screen as the user sees it (not the whole page): the refusal is beside the control in view."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def refused_upload(page, form, name: str, mime: str, data: bytes, code: str) -> str:
    """Choose a file that the server refuses with `code`; return the code and message shown beside the photo control."""
    form.locator("input[type=file]").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    slot = form.locator(f"[data-error-slot][data-error-code^='{code}']")
    slot.wait_for()
    assert form.locator("[data-upload-status]").inner_text() == ""  # "Uploading photo…" went away
    assert slot.get_attribute("role") == "alert"
    return slot.get_attribute("data-error-code") + " " + slot.inner_text()


def refused_position(page, lat: str, lon: str, code: str) -> str:
    """Type coordinates in the manual form and save; return the refusal (`code`) shown beside the form."""
    form = page.locator("[data-manual-form]")
    form.locator("[name=lat]").fill(lat)
    form.locator("[name=lon]").fill(lon)
    if code.startswith("network."):  # no answer at all: app.js says so right after the form
        form.locator("button[type=submit]").click()
        refusal = page.locator(f"[data-manual-form] + [data-refusal][data-error-code^='{code}']")
    else:  # the server answers with the position panel, the refusal beside the form (not the last one's panel)
        # The response arrives before htmx swaps it in: mark the last refusal so only the new one can match.
        page.evaluate("document.querySelectorAll('[data-manual] [role=alert]').forEach(el => el.dataset.seen = '1')")
        with page.expect_response(lambda response: response.url.endswith("/position")):
            form.locator("button[type=submit]").click()
        refusal = page.locator(f"[data-manual] [role=alert][data-error-code^='{code}']:not([data-seen])")
    refusal.wait_for()
    return refusal.get_attribute("data-error-code") + " " + refusal.inner_text()


@pytest.mark.parametrize("size, lang", [("tablet", "id"), ("phone", "en")])
def test_every_refusal_is_shown_beside_its_control(demo_server, tab_factory, tmp_path, huge_photo, size, lang):
    words = MESSAGES[lang]
    tab = tab_factory(demo_server.url, size, geolocation=GEO, permissions=["geolocation"])
    tab.login("auditor")
    if lang == "en":
        tab.set_language("en")
    audit_url = start_ktr_audit(tab)
    page = tab.page
    audit_id = audit_url.split("#")[0].rstrip("/").split("/")[-1]
    audit_url = tab.base + "/audits/" + audit_id
    form = page.locator("article.item-photo form.photo-form").first
    photos_before = db_rows(demo_server, "SELECT count(*) FROM photo")[0][0]

    text = refused_upload(page, form, "catatan.txt", "text/plain", b"bukan foto\n", "photo.not_an_image")
    assert text.startswith("photo.not_an_image") and words["not_image"] in text.lower()
    text = refused_upload(page, form, "IMG_0001.jpg", "image/jpeg", b"", "photo.empty")
    assert text.startswith("photo.empty") and words["empty"] in text.lower()
    over_the_limit = b"\xff\xd8\xff" + os.urandom(3 * 1024 * 1024)
    text = refused_upload(page, form, "IMG_9999.jpg", "image/jpeg", over_the_limit, "upload.too_large")
    assert text.startswith("upload.too_large") and "2 MB" in text  # werkzeug's 413 reaches the user too
    text = refused_upload(page, form, "panorama.png", "image/png", huge_photo, "photo.too_many_pixels")
    assert text.startswith("photo.too_many_pixels") and words["pixels"] in text
    form.evaluate("el => el.closest('article').scrollIntoView({block: 'center'})")
    shot(tab, f"refusal-photo-{size}-{lang}")
    assert db_rows(demo_server, "SELECT count(*) FROM photo")[0][0] == photos_before  # nothing stored

    page.locator("[data-manual] summary").click()
    text = refused_position(page, "abc", "xyz", "geo.bad_coordinates")
    assert text.startswith("geo.bad_coordinates")
    text = refused_position(page, "95", "106.1", "geo.bad_coordinates")
    assert text.startswith("geo.bad_coordinates") and words["coords"] in text.lower() and "-90" in text  # the range, not the first refusal
    page.locator("[data-manual-form]").evaluate("el => el.scrollIntoView({block: 'center'})")
    shot(tab, f"refusal-coordinates-{size}-{lang}")

    # The app out of reach: said in words, beside the form; the next success clears it.
    tab.context.set_offline(True)
    text = refused_position(page, "-6.1125", "106.1612", "network.")
    assert text.startswith("network.") and words["network"] in text
    tab.context.set_offline(False)
    page.locator("[data-manual-form] [name=lat]").fill("-6.1126")
    page.locator("[data-manual-form] [name=lon]").fill("106.1613")
    with page.expect_response(lambda r: r.url.endswith("/position")) as answer:
        page.locator("[data-manual-form] button[type=submit]").click()
    assert answer.value.status == 200
    page.wait_for_function("() => document.querySelector('#position [data-manual-form]') && !document.querySelector('[data-refusal]')")
    position = db_rows(demo_server, "SELECT lat, lon, position_source FROM audit WHERE id = ?", audit_id.replace("-", ""))[0]
    assert position == (pytest.approx(-6.1126), pytest.approx(106.1613), "manual")

    # A second tab on the same draft (the checklist and the review page), then the first tab submits.
    stale = tab.context.new_page()
    stale.goto(audit_url)
    stale.wait_for_selector("#position .pos-line")
    photo_path = tmp_path / "IMG_20261120_091500.jpg"
    photo_path.write_bytes(make_jpeg(800, 600))
    answer_everything(tab, photo_path)
    stale_review = tab.context.new_page()  # complete, so its submit button is enabled
    stale_review.goto(audit_url.rstrip("/") + "/review")
    page.goto(audit_url.rstrip("/") + "/review")
    page.locator("form[action$='/submit'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert db_rows(demo_server, "SELECT status FROM audit WHERE id = ?", audit_id.replace("-", "")) == [("submitted",)]

    stale_form = stale.locator("article.item-photo form.photo-form").first
    text = refused_upload(stale, stale_form, "IMG_0002.jpg", "image/jpeg", make_jpeg(640, 480), "audit.read_only")
    assert text.startswith("audit.read_only") and words["submitted"] in text
    stale.locator("[data-manual]").evaluate("details => { details.open = true; }")  # open already after a hand-set position
    text = refused_position(stale, "-6.1127", "106.1614", "audit.read_only")
    assert text.startswith("audit.read_only") and words["network"] not in text
    stale_review.locator("form[action$='/submit'] button[type=submit]").click()
    stale_review.wait_for_load_state("networkidle")
    assert words["submitted"] in stale_review.locator("main").inner_text()
    assert not tab.foreign
