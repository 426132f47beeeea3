"""docs/deploy/nginx.conf, run for real: nginx with a self-signed certificate in front of `flask serve`.

The example file itself is used, only its names, paths and ports substituted: a page, a sign-in (Secure
cookie), the enrollment link (https and the public host), an enrollment, a push with a photo and a pull go
through TLS; the hub sees the client's address (not nginx's, not one the client made up); static files come
from disk; a body over the limit stops at nginx; plain HTTP is sent to HTTPS.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from tests.support import ROOT, ServerProcess, free_port, make_jpeg, require

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
EXAMPLE = ROOT / "docs" / "deploy" / "nginx.conf"
SECRET = "deploy-secret-for-tests-" + "x" * 32
# nginx talks to the hub from this address, the client from 127.0.0.1: the hub must count the client's.
NGINX_SIDE = "127.0.0.2"


def site_config(https_port: int, http_port: int, hub_port: int, cert: Path, key: Path) -> str:
    """The example with this machine's names, paths and ports in place of the documented ones."""
    text = EXAMPLE.read_text()
    replaced = {
        "server 127.0.0.1:5000;": f"server 127.0.0.1:{hub_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "listen [::]:443 ssl;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "server_name kla.serangkota.go.id;": "server_name localhost;",
        "/etc/letsencrypt/live/kla.serangkota.go.id/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/kla.serangkota.go.id/privkey.pem": str(key),
        "alias /srv/pantau-kla/static/;": f"alias {ROOT / 'static'}/;",
    }
    for documented, here in replaced.items():
        assert documented in text, f"docs/deploy/nginx.conf no longer says {documented!r}"
        text = text.replace(documented, here)
    return text


def main_config(folder: Path, site: Path) -> str:
    """The parts Debian's /etc/nginx/nginx.conf provides, in a folder of the test's own."""
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n    include /etc/nginx/mime.types;\n"
            f"    access_log {folder / 'access.log'};\n{temp}\n    proxy_bind {NGINX_SIDE};\n    include {site};\n}}\n")


@pytest.fixture
def proxied_hub(tmp_path):
    """A demo hub (PANTAU_PROXY_COUNT=1) served by gunicorn, nginx in front of it with TLS; (https URL, http URL,
    hub, CA file, one-time code)."""
    require(Path(NGINX).exists(), "nginx is not installed (apt-get install nginx-light)")
    require(shutil.which("openssl") is not None, "openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    hub = ServerProcess(tmp_path / "hub", env={"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": SECRET,
                                               "PANTAU_PROXY_COUNT": "1"}, demo=True, serve_args=("--workers", "2"))
    hub.instance.mkdir()
    hub.init()
    code = _prepare(hub)
    hub.start()
    https_port, http_port = free_port(), free_port()
    folder = tmp_path / "nginx"
    folder.mkdir()
    site = folder / "pantau-kla.conf"
    site.write_text(site_config(https_port, http_port, hub.port, cert, key))
    (folder / "nginx.conf").write_text(main_config(folder, site))
    checked = subprocess.run([NGINX, "-t", "-c", str(folder / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(folder / "nginx.conf"), "-g", "daemon off;"], stderr=subprocess.PIPE)
    url = f"https://localhost:{https_port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"{url}/healthz", verify=str(cert), timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or nginx.poll() is not None:
                    raise AssertionError(f"nginx did not answer: {(folder / 'error.log').read_text()[-2000:]}")
                time.sleep(0.1)
        yield url, f"http://localhost:{http_port}", hub, cert, code
    finally:
        nginx.terminate()
        nginx.wait(10)
        hub.stop()


def _prepare(hub: ServerProcess) -> str:
    """The load test's checklist, an auditor of Kecamatan Serang, a registered tablet: its one-time code."""
    from app import create_app
    from app.auth.service import create_user
    from app.cli_support import write_transaction
    from app.extensions import db
    from bench.load import checklist
    from survey import registry
    from survey.checklist import checklist_from_dict
    from sync import service

    app = create_app({"INSTANCE_PATH": str(hub.instance), "ROLE": "hub", "SECRET_KEY": SECRET, "DEMO": True})
    with app.app_context():
        with write_transaction() as session:
            registry.store_version(session, checklist_from_dict(checklist()))
            create_user(session, username="sari", role="auditor", password="kata-sandi-sari",
                        kecamatan_codes=["36.73.01"])
            _, code = service.register_device(session, "tablet-tls", ["36.73.01"])
        db.engine.dispose()
    return code


def _facility(hub: ServerProcess) -> tuple[str, float, float]:
    import sqlite3

    with sqlite3.connect(hub.instance / "pantau.db") as conn:
        found, lat, lon = conn.execute("SELECT id, lat, lon FROM facility WHERE kecamatan_code = '36.73.01' "
                                       "LIMIT 1").fetchone()
    return str(uuid.UUID(found)), lat, lon


def test_the_nginx_example_in_front_of_the_hub(proxied_hub):
    url, plain, hub, ca, code = proxied_hub
    web = requests.Session()
    web.verify, web.trust_env = str(ca), False  # REQUESTS_CA_BUNDLE would otherwise win over `verify`

    # A page and a sign-in over TLS: the session cookie is Secure, and it works (the hub knows it is https).
    page = web.get(f"{url}/login")
    assert page.status_code == 200
    assert "secure" in page.headers["Set-Cookie"].lower()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    # Over https Flask-WTF also wants the Referer on the hub's own public host, as a browser sends it.
    signed_in = web.post(f"{url}/login", data={"csrf_token": token, "username": "admin", "password": "demo"},
                         headers={"Referer": f"{url}/login"}, allow_redirects=False)
    assert signed_in.status_code == 302, signed_in.text[-500:]

    # The enrollment link a tablet's camera opens names the public https address, not the hub's own.
    devices = web.get(f"{url}/devices/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', devices.text).group(1)
    registered = web.post(f"{url}/devices/register", data={"csrf_token": token, "name": "tablet-qr",
                                                            "kecamatan": "36.73.01", "role": "field"},
                          headers={"Referer": f"{url}/devices/"})
    assert registered.status_code == 200, registered.text[-500:]
    assert f"{url}/app/#enroll=" in registered.text

    # A tablet enrolls, sends an audit with its photo, and pulls, all through TLS.
    api = requests.Session()
    api.verify, api.trust_env = str(ca), False
    enrolled = api.post(f"{url}/api/v1/sync/enroll", json={"code": code})
    assert enrolled.status_code == 201, enrolled.text
    device = enrolled.json()
    api.headers["Authorization"] = f"Bearer {device['token']}"
    photo = make_jpeg()
    sha = hashlib.sha256(photo).hexdigest()
    assert api.post(f"{url}/api/v1/sync/photos/missing", json={"sha256": [sha]}).json()["missing"] == [sha]
    assert api.put(f"{url}/api/v1/sync/photos/{sha}", data=photo,
                   headers={"Content-Type": "application/octet-stream"}).status_code == 201
    now = datetime.now(timezone.utc).isoformat()
    audit_id = str(uuid.uuid4())
    facility, lat, lon = _facility(hub)
    doc = {"id": audit_id, "facility_id": facility, "checklist_key": "loadtest@1", "revision": 1,
           "revision_of": None, "auditor": "sari", "device_id": device["device_id"], "started_at": now,
           "submitted_at": now, "score": 1.0, "result": "memenuhi", "lat": lat, "lon": lon, "accuracy_m": 8.0,
           "position_source": "gps", "position_at": now, "position_warnings": [],
           "answers": {f"q{n:02d}": {"value": "ya", "note": None} for n in range(10)},
           "photos": {"foto": [sha]}, "readings": []}
    change = {"origin_id": device["device_id"], "origin_seq": 1, "kind": "audit", "entity_id": audit_id,
              "hlc": f"{int(time.time() * 1000):016d}.0000", "payload": doc, "scope": "36.73.01"}
    pushed = api.post(f"{url}/api/v1/sync/push", data=gzip.compress(json.dumps(
        {"after": 0, "up_to": 1, "entries": [{"local_seq": 1, "change": change}]}).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["acked_seq"] == 1 and pushed.json()["applied"] == 1
    pulled = api.get(f"{url}/api/v1/sync/pull", params={"cursor": 0})
    assert pulled.status_code == 200 and pulled.json()["entries"]

    # The client's own address is what the hub counts (a throttled wrong code), never nginx's nor a made-up one.
    refused = api.post(f"{url}/api/v1/sync/enroll", json={"code": "AAAA-AAAA"},
                       headers={"X-Forwarded-For": "203.0.113.9"})
    assert refused.status_code == 401
    import sqlite3

    with sqlite3.connect(hub.instance / "pantau.db") as conn:
        keys = [row[0] for row in conn.execute("SELECT key FROM throttle_count")]
    assert any("/127.0.0.1/" in key for key in keys), keys
    assert not any(NGINX_SIDE in key or "203.0.113.9" in key for key in keys), keys

    # Static files from disk, revalidated; a body over the limit stops at nginx; plain HTTP goes to HTTPS.
    css = requests.get(f"{url}/static/css/app.css", verify=str(ca))
    assert css.status_code == 200 and css.content == (ROOT / "static" / "css" / "app.css").read_bytes()
    assert css.headers["Cache-Control"] == "no-cache" and "Content-Security-Policy" not in css.headers
    too_big = api.put(f"{url}/api/v1/sync/photos/{'0' * 64}", data=b"\0" * (27 * 1024 * 1024),
                      headers={"Content-Type": "application/octet-stream"})
    assert too_big.status_code == 413
    redirect = requests.get(f"{plain}/login", allow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://localhost")
