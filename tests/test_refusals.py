"""Every refusal is shown: htmx refusals as a fragment with a stable code, sync failures in words.

htmx 2 swaps no 4xx/5xx body; static/js/app.js reads the fragment and shows it beside the control
(tests/browser/test_refusals.py). Here: the server's side of that contract, and the sync client's words.
"""

from __future__ import annotations

import io
import socket
import ssl
import struct
import threading
import urllib.error

import pytest
from sqlalchemy import func, select

from survey.audits.models import Photo
from sync.client import Hub, hub_refusal, last_problem, unreachable
from sync.problems import SyncError
from tests.support import html, make_jpeg
from tests.test_audits import KTR_ITEMS, answer, position, scalar, start


@pytest.fixture
def app_config(tmp_path):
    """A field device whose upload limit is 1 MB, so the 413 path is cheap to reach."""
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "field", "DEMO": False,
            "MAX_UPLOAD_MB": 1}


@pytest.fixture
def signed_in(auth, auditor):
    auth.login(auditor)
    return auth


def photo(auth, audit_id: str, payload: bytes, name: str, item: str = "foto_bukti_ktr"):
    return auth.post(f"/audits/{audit_id}/photos/{item}", {"photo": (io.BytesIO(payload), name, "image/jpeg")},
                     content_type="multipart/form-data", headers={"HX-Request": "true"})


def refusal(response) -> tuple[str, str]:
    """The htmx error fragment's stable code and message."""
    fragment = html(response).select_one("[data-error-code]")
    assert fragment is not None and fragment["role"] == "alert", response.get_data(as_text=True)[:300]
    return fragment["data-error-code"], fragment.get_text(strip=True)


@pytest.mark.parametrize("payload, name, status, code, words", [
    (b"catatan rapat, bukan foto\n", "catatan.txt", 422, "photo.not_an_image", "bukan foto"),
    (b"", "IMG_0001.jpg", 422, "photo.empty", "kosong"),
    (b"\xff\xd8\xff" + b"\0" * (1024 * 1024 + 10), "besar.jpg", 413, "upload.too_large", "batasnya 1 MB"),
], ids=["text-file", "zero-bytes", "over-the-upload-limit"])
def test_a_refused_photo_answers_htmx_with_a_fragment_in_the_users_language(app, signed_in, facility, payload, name,
                                                                            status, code, words):
    audit_id = start(signed_in, facility, "ktr@1")
    response = photo(signed_in, audit_id, payload, name)
    assert response.status_code == status
    assert refusal(response)[0] == code and words in refusal(response)[1]
    assert "HX-Retarget" not in response.headers  # shown beside the control by app.js, never swapped into #flash
    assert scalar(app, select(func.count()).select_from(Photo)) == 0


def test_a_picture_over_the_pixel_limit_is_refused_before_it_is_decoded(app, signed_in, facility):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12_000, 9_000), 1).save(out, "PNG")  # 108 MP, a few hundred kB
    audit_id = start(signed_in, facility, "ktr@1")
    response = photo(signed_in, audit_id, out.getvalue(), "panorama.png")
    assert response.status_code == 422
    assert refusal(response)[0] == "photo.too_many_pixels" and "60 megapiksel" in refusal(response)[1]


@pytest.mark.parametrize("lat, lon, code", [("abc", "xyz", "geo.bad_coordinates"), ("95", "106.1", "geo.bad_coordinates"),
                                            ("-6.1", "200", "geo.bad_coordinates"), ("6.12", "-106.15", "geo.outside_indonesia")])
def test_garbage_coordinates_answer_with_a_fragment(signed_in, facility, lat, lon, code):
    audit_id = start(signed_in, facility, "ktr@1")
    response = position(signed_in, audit_id, lat=lat, lon=lon, source="manual", accuracy="")
    assert response.status_code == 422 and refusal(response)[0] == code


def test_a_second_tab_after_submit_is_told_the_audit_was_already_submitted(signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    for item in KTR_ITEMS:
        answer(signed_in, audit_id, item, "ya")
    position(signed_in, audit_id)
    assert signed_in.post(f"/audits/{audit_id}/submit").status_code == 302
    for response in (photo(signed_in, audit_id, make_jpeg(), "IMG_0002.jpg"), position(signed_in, audit_id),
                     answer(signed_in, audit_id, "tanda_dilarang_merokok", "tidak")):
        assert response.status_code == 409
        code, message = refusal(response)
        assert code == "audit.read_only" and "sudah dikirim" in message and "Muat ulang" in message
    again = signed_in.post(f"/audits/{audit_id}/submit")
    assert again.status_code == 422 and "sudah dikirim" in html(again).get_text()


def test_network_and_server_words_reach_the_page_in_the_users_language(signed_in, facility):
    body = html(signed_in.client.get("/facilities/")).body
    assert body["data-msg-network"].startswith("Tidak terhubung ke aplikasi")
    assert "%(status)s" in body["data-msg-server"]
    signed_in.post("/language", {"locale": "en", "next": "/facilities/"})
    body = html(signed_in.client.get("/facilities/")).body
    assert body["data-msg-network"].startswith("Cannot reach the app")


# --- Sync errors in words --------------------------------------------------------------------------------------


def _resetting_server() -> tuple[str, threading.Thread]:
    """A TCP server that accepts one connection and resets it (RST): `[Errno 104] Connection reset by peer`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread


def test_a_connection_reset_is_said_in_words_and_the_errno_kept_as_detail():
    url, thread = _resetting_server()
    with pytest.raises(SyncError) as caught:
        Hub(url).call("GET", "/api/v1/sync/status")
    thread.join(5)
    error = caught.value
    assert error.code == "sync.unreachable"
    assert error.message.startswith("The connection to the hub was cut off")
    assert "Errno" not in error.message % error.params
    assert "ConnectionResetError" in error.params["detail"] or "RemoteDisconnected" in error.params["detail"]


@pytest.mark.parametrize("raised, code, start_of_words", [
    (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")), "sync.unreachable", "Nothing answers"),
    (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "sync.unreachable", "The hub's address could"),
    (urllib.error.URLError(OSError(101, "Network is unreachable")), "sync.unreachable", "This device has no network"),
    (TimeoutError("timed out"), "sync.timeout", "The hub did not answer in time"),
    (socket.timeout("timed out"), "sync.timeout", "The hub did not answer in time"),
    (urllib.error.URLError(ssl.SSLCertVerificationError(1, "certificate verify failed")), "sync.tls", "The hub's security"),
    (urllib.error.URLError(ssl.SSLError(1, "wrong version number")), "sync.tls", "The secure connection"),
    (ConnectionResetError(104, "Connection reset by peer"), "sync.unreachable", "The connection to the hub was cut"),
    (OSError(5, "Input/output error"), "sync.unreachable", "The hub cannot be reached"),
], ids=["refused", "dns", "no-route", "timeout", "socket-timeout", "certificate", "tls", "reset", "other-oserror"])
def test_network_failures_become_words(raised, code, start_of_words):
    error = unreachable(raised)
    assert error.code == code and error.message.startswith(start_of_words)
    assert "[Errno" not in error.message and error.params["detail"]


@pytest.mark.parametrize("status, code, hub_message, expected_code, start_of_words", [
    (401, "sync.unauthorized", "Perangkat ini belum terdaftar di hub ini.", "sync.unauthorized", "The hub no longer knows"),
    (403, "sync.revoked_device", "x", "sync.revoked_device", "This device was revoked"),
    (409, "sync.clock_ahead", "Jam perangkat terlalu maju.", "sync.clock_ahead", "The hub refused: %(reason)s"),
    (401, None, None, "http.401", "The hub no longer knows"),
    (404, None, None, "http.404", "No Pantau KLA hub answers"),
    (429, None, None, "http.429", "The hub is busy"),
    (502, None, None, "http.502", "The hub had a problem of its own"),
    (418, None, None, "http.418", "The hub refused the request"),
])
def test_hub_refusals_become_words(status, code, hub_message, expected_code, start_of_words):
    error = hub_refusal(status, code, hub_message)
    assert error.code == expected_code and error.message.startswith(start_of_words)
    error.message % error.params  # every placeholder has its value


def test_sync_now_against_a_dead_hub_says_so_in_words_with_the_detail_folded(app, auth, auditor):
    import uuid

    from app.cli_support import write_transaction
    from sync.models import SyncPeer

    url, thread = _resetting_server()
    with app.app_context(), write_transaction() as session:
        session.add(SyncPeer(hub_id=uuid.uuid4(), url=url, token="t" * 40, device_key="k" * 64))
    auth.login(auditor)
    page = html(auth.post("/sync/now", follow_redirects=True))
    thread.join(5)
    flashed = page.select_one("#flash .notice.error").get_text()
    assert "Koneksi ke hub terputus" in flashed and "Errno" not in flashed
    problem = page.select_one("[data-last-problem]")
    assert problem["data-last-problem"] == "sync.unreachable"
    assert "Errno" not in problem.select_one(".error-text").get_text()
    assert "Connection" in problem.select_one("details code").get_text()  # the detail, folded


def test_last_problem_keeps_code_and_detail_apart():
    problem = last_problem("sync.unreachable ConnectionResetError: [Errno 104] Connection reset by peer")
    assert problem.code == "sync.unreachable" and "[Errno 104]" in problem.detail
    assert "Errno" not in problem.message and problem.message.startswith("The hub could not be reached")
    assert last_problem("http.500 HTTP 500").message.startswith("The last sync did not finish")
    assert last_problem(None) is None


def test_a_dead_end_page_offers_the_way_back(client, auth, auditor):
    auth.login(auditor)
    came_from = "http://localhost/facilities/new"
    response = client.post("/facilities/new", data={"name": "Taman"}, headers={"Referer": came_from})  # no CSRF token
    assert response.status_code == 400
    page = html(response)
    assert page.select_one("[data-error-code]")["data-error-code"] == "request.csrf"
    assert page.find("a", string="Kembali ke halaman sebelumnya")["href"] == came_from
    elsewhere = client.post("/facilities/new", data={}, headers={"Referer": "https://example.org/x"})
    assert not html(elsewhere).find("a", string="Kembali ke halaman sebelumnya")  # never off this site
