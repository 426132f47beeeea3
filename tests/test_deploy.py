"""docs/deploy/nginx.conf and docs/deploy/Caddyfile, run for real: the proxy with a self-signed certificate in
front of `flask serve`.

Each example file itself is used, only its names, paths and ports substituted: a page, a sign-in (Secure
cookie), the enrollment link (https and the public host), an enrollment, a push with a photo and a pull go
through TLS; the hub sees the client's address (not the proxy's, not one the client made up); static files come
from disk; a body just over the app's limit gets the app's refusal, one over the proxy's stops at the proxy;
plain HTTP is sent to HTTPS. One scenario, run once per proxy.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support import ROOT, ServerProcess, free_port, make_jpeg, require

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CADDY = shutil.which("caddy") or "/usr/bin/caddy"
EXAMPLE = ROOT / "docs" / "deploy" / "nginx.conf"
CADDY_EXAMPLE = ROOT / "docs" / "deploy" / "Caddyfile"
SECRET = "deploy-secret-for-tests-" + "x" * 32
# nginx talks to the hub from this address, the client from 127.0.0.1: the hub must count the client's.
NGINX_SIDE = "127.0.0.2"
# Caddy 2.6 cannot choose the address it talks to the hub from (no local_address in its http transport): it is
# 127.0.0.1, so there the client is the one that comes from another address.
CADDY_CLIENT = "127.0.0.2"
APP_LIMIT = 25 * 1024 * 1024  # PANTAU_MAX_UPLOAD_MB's default, as the app counts it


@dataclass
class Proxied:
    """A served hub behind one proxy: what the scenario needs to know about that pair."""

    proxy: str
    url: str  # https, the public name (localhost) and the proxy's port
    plain: str  # http, the same name
    hub: ServerProcess
    ca: Path
    code: str  # a registered tablet's one-time code
    client_side: str  # the address the scenario's client connects from
    proxy_side: str  # the address the proxy connects to the hub from
    redirect_status: int  # what plain HTTP gets


def site_config(https_port: int, http_port: int, hub_port: int, cert: Path, key: Path) -> str:
    """The nginx example with this machine's names, paths and ports in place of the documented ones."""
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


def caddy_config(https_port: int, http_port: int, hub_port: int, cert: Path, key: Path) -> str:
    """The Caddy example with this machine's names, paths and ports in place of the documented ones, and the
    certificate pair the example offers for an office network in place of Let's Encrypt's for the public name.

    Global options in front, for the test only: its own ports (Caddy's redirect then names no port, as for the
    real 80 and 443), only on 127.0.0.1, no admin endpoint (a production Caddy keeps it for `systemctl reload`),
    and never Caddy's local CA in the machine's trust store.
    """
    text = CADDY_EXAMPLE.read_text()
    replaced = {
        "kla.serangkota.go.id {": "localhost {",
        "#tls /etc/caddy/pantau-kla/cert.pem /etc/caddy/pantau-kla/key.pem": f"tls {cert} {key}",
        "reverse_proxy 127.0.0.1:5000 {": f"reverse_proxy 127.0.0.1:{hub_port} {{",
        "root * /srv/pantau-kla/static": f"root * {ROOT / 'static'}",
    }
    for documented, here in replaced.items():
        assert documented in text, f"docs/deploy/Caddyfile no longer says {documented!r}"
        text = text.replace(documented, here)
    assert "#tls internal" in text, "docs/deploy/Caddyfile no longer offers `tls internal`"
    return (f"{{\n\tadmin off\n\thttp_port {http_port}\n\thttps_port {https_port}\n\tdefault_bind 127.0.0.1\n"
            f"\tskip_install_trust\n}}\n\n{text}")


def _wait_for(url: str, ca: Path, process: subprocess.Popen, log: Path, name: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            requests.get(f"{url}/healthz", verify=str(ca), timeout=2)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"{name} did not answer: {log.read_text()[-2000:] if log.exists() else ''}")
            time.sleep(0.1)


@contextlib.contextmanager
def _nginx(folder: Path, hub: ServerProcess, cert: Path, key: Path) -> Iterator[dict]:
    require(Path(NGINX).exists(), "nginx is not installed (apt-get install nginx-light)")
    https_port, http_port = free_port(), free_port()
    folder.mkdir()
    site = folder / "pantau-kla.conf"
    site.write_text(site_config(https_port, http_port, hub.port, cert, key))
    (folder / "nginx.conf").write_text(main_config(folder, site))
    checked = subprocess.run([NGINX, "-t", "-c", str(folder / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(folder / "nginx.conf"), "-g", "daemon off;"], stderr=subprocess.PIPE)
    url = f"https://localhost:{https_port}"
    try:
        _wait_for(url, cert, nginx, folder / "error.log", "nginx")
        yield {"url": url, "plain": f"http://localhost:{http_port}", "client_side": "127.0.0.1",
               "proxy_side": NGINX_SIDE, "redirect_status": 301}
    finally:
        nginx.terminate()
        nginx.wait(10)


@contextlib.contextmanager
def _caddy(folder: Path, hub: ServerProcess, cert: Path, key: Path) -> Iterator[dict]:
    require(Path(CADDY).exists(), "caddy is not installed (apt-get install caddy)")
    https_port, http_port = free_port(), free_port()
    folder.mkdir()
    config = folder / "Caddyfile"
    config.write_text(caddy_config(https_port, http_port, hub.port, cert, key))
    # Caddy keeps its data (certificates, locks, an autosaved config) under $XDG_DATA_HOME / $XDG_CONFIG_HOME,
    # else under $HOME: all of them in the test's folder, so it writes nothing outside.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder / "home"),
           "XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config")}
    checked = subprocess.run([CADDY, "validate", "--config", str(config), "--adapter", "caddyfile"], env=env,
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr[-2000:]
    # As `caddy fmt` writes it: else Caddy warns at every start that the file is not formatted.
    formatted = subprocess.run([CADDY, "fmt", str(CADDY_EXAMPLE)], env=env, capture_output=True, text=True)
    assert formatted.stdout == CADDY_EXAMPLE.read_text(), "docs/deploy/Caddyfile differs from `caddy fmt`'s"
    log = folder / "caddy.log"
    with open(log, "ab") as output:
        caddy = subprocess.Popen([CADDY, "run", "--config", str(config), "--adapter", "caddyfile"], env=env,
                                 stdout=output, stderr=subprocess.STDOUT)
    url = f"https://localhost:{https_port}"
    try:
        _wait_for(url, cert, caddy, log, "caddy")
        yield {"url": url, "plain": f"http://localhost:{http_port}", "client_side": CADDY_CLIENT,
               "proxy_side": "127.0.0.1", "redirect_status": 308}
    finally:
        caddy.terminate()
        caddy.wait(10)


PROXIES = {"nginx": _nginx, "caddy": _caddy}


@pytest.fixture(params=sorted(PROXIES))
def proxied_hub(request, tmp_path) -> Iterator[Proxied]:
    """A demo hub (PANTAU_PROXY_COUNT=1) served by gunicorn, the proxy in front of it with TLS."""
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
    try:
        with PROXIES[request.param](tmp_path / request.param, hub, cert, key) as proxy:
            yield Proxied(proxy=request.param, hub=hub, ca=cert, code=code, **proxy)
    finally:
        hub.stop()


class _FromAddress(HTTPAdapter):
    """Connections from one local address (the loopback network is all of 127.0.0.0/8)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _session(ca: Path, address: str) -> requests.Session:
    session = requests.Session()
    session.verify, session.trust_env = str(ca), False  # REQUESTS_CA_BUNDLE would otherwise win over `verify`
    session.mount("https://", _FromAddress(address))
    session.mount("http://", _FromAddress(address))
    return session


def _put_stopping_at_an_answer(proxied: Proxied, path: str, size: int) -> tuple[int, str]:
    """PUT `size` bytes over HTTP/1.1 the way curl (or a browser) does: stop sending once an answer arrives.

    A proxy that refuses an announced Content-Length answers before it reads the body. nginx then reads and
    drops the rest for a while (lingering close), so even a client that sends on regardless gets its answer;
    Caddy 2.6 (Go's server) closes the connection soon after its answer, and a client that only reads once it
    has sent everything (requests) gets an EOF instead. (Over HTTP/2, which a browser gets from Caddy, the
    answer simply ends the stream.) (status, body) of the answer."""
    parts = urlsplit(proxied.url)
    raw = socket.create_connection((parts.hostname, parts.port), timeout=30, source_address=(proxied.client_side, 0))
    tls = ssl.create_default_context(cafile=str(proxied.ca)).wrap_socket(raw, server_hostname=parts.hostname)
    tls.sendall((f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/octet-stream\r\n"
                 f"Content-Length: {size}\r\nConnection: close\r\n\r\n").encode())
    answer, chunk, sent = b"", b"\0" * 65536, 0
    try:
        while sent < size:
            if select.select([tls], [], [], 0)[0]:
                tls.setblocking(False)
                try:
                    answer = tls.recv(65536)  # a TLS session ticket alone is no answer: SSLWantReadError
                except ssl.SSLWantReadError:
                    pass
                tls.setblocking(True)
                if answer:
                    break
            tls.sendall(chunk[:size - sent])
            sent += len(chunk[:size - sent])
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        pass  # the proxy closed while the body was still coming: its answer is read below
    tls.settimeout(30)
    try:
        while True:
            more = tls.recv(65536)
            if not more:
                break
            answer += more
    except (ConnectionResetError, ssl.SSLError):
        pass
    tls.close()
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode(errors="replace")


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


def test_the_example_in_front_of_the_hub(proxied_hub: Proxied):
    proxied = proxied_hub
    url, plain, hub, ca, code = proxied.url, proxied.plain, proxied.hub, proxied.ca, proxied.code
    web = _session(ca, proxied.client_side)

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
    api = _session(ca, proxied.client_side)
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

    # The client's own address is what the hub counts (a throttled wrong code), never the proxy's nor a made-up
    # one.
    refused = api.post(f"{url}/api/v1/sync/enroll", json={"code": "AAAA-AAAA"},
                       headers={"X-Forwarded-For": "203.0.113.9"})
    assert refused.status_code == 401
    import sqlite3

    with sqlite3.connect(hub.instance / "pantau.db") as conn:
        keys = [row[0] for row in conn.execute("SELECT key FROM throttle_count")]
    assert any(f"/{proxied.client_side}/" in key for key in keys), keys
    assert not any(f"/{proxied.proxy_side}/" in key or "203.0.113.9" in key for key in keys), keys

    # Static files from disk (no header the app would add), revalidated.
    css = api.get(f"{url}/static/css/app.css")
    assert css.status_code == 200 and css.content == (ROOT / "static" / "css" / "app.css").read_bytes()
    assert css.headers["Cache-Control"] == "no-cache" and "Content-Security-Policy" not in css.headers
    assert css.headers["X-Content-Type-Options"] == "nosniff"

    # A body just over the app's limit reaches the app and gets its refusal in words; one that announces more
    # than the proxy's limit (26 MiB) stops at the proxy, before the hub reads any of it.
    octets = {"Content-Type": "application/octet-stream"}
    just_over = api.put(f"{url}/api/v1/sync/photos/{'0' * 64}", data=b"\0" * (APP_LIMIT + 1), headers=octets)
    assert just_over.status_code == 413, just_over.text[-500:]
    assert just_over.json()["error"]["code"] == "upload.too_large", just_over.text[-500:]
    status, text = _put_stopping_at_an_answer(proxied, f"/api/v1/sync/photos/{'0' * 64}", APP_LIMIT + 2 * 1024 * 1024)
    assert status == 413, text[-500:]
    assert "too_large" not in text, f"the app answered, not {proxied.proxy}: {text[-500:]}"
    # The same without a Content-Length (chunked; neither browsers nor the field app send one): the proxy stops
    # it once it has read past its limit, never passing on a body cut short. Caddy 2.6 has begun sending its
    # buffer to the hub by then: it answers 413, or 502 when the hub's end of that connection fails first.
    chunked = api.put(f"{url}/api/v1/sync/photos/{'0' * 64}", headers=octets,
                      data=(b"\0" * 1024 * 1024 for _ in range(27)))
    assert chunked.status_code in ((413, 502) if proxied.proxy == "caddy" else (413,)), chunked.text[-500:]
    assert "too_large" not in chunked.text, f"the app answered, not {proxied.proxy}: {chunked.text[-500:]}"

    # Plain HTTP only sends to HTTPS, the public name on the standard port (nginx: `return 301`; Caddy: its own
    # automatic redirect, 308; the test's HTTPS port is Caddy's https_port, so Caddy names no port either).
    redirect = _session(ca, proxied.client_side).get(f"{plain}/login?next=%2Fdevices%2F", allow_redirects=False)
    assert redirect.status_code == proxied.redirect_status
    assert redirect.headers["Location"] == "https://localhost/login?next=%2Fdevices%2F"
