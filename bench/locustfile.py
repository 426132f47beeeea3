"""The load test's users (locust): enrolled devices pushing audits with photos and pulling, planners on pages.

Run by `bench/load.py` (python -m bench.load), never imported by the app or by pytest: locust patches the
standard library with gevent when it starts, so it always runs in a process of its own. The plan (hub URL,
enrollment codes, facilities per kecamatan, the checklist, the year) comes as a JSON file named by
PANTAU_LOAD_PLAN; at the end every device writes what the hub acknowledged to PANTAU_LOAD_RESULTS, and every
request's time goes there too, so bench/load.py computes exact percentiles and checks the database against it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import os
import random
import re
import time
import uuid
from datetime import datetime, timezone

from locust import HttpUser, between, events, task
from PIL import Image

PLAN = json.loads(open(os.environ["PANTAU_LOAD_PLAN"]).read())
API = "/api/v1/sync"
CODES = iter(PLAN["devices"])
DEVICES: list["Device"] = []
TIMES: dict[str, list[float]] = {}
FAILURES: list[str] = []
PHOTO_SIDE = tuple(PLAN.get("photo_size", (480, 360)))


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_):
    TIMES.setdefault(name, []).append(response_time)
    if exception is not None:
        FAILURES.append(f"{request_type} {name}: {str(exception)[:300]}")


@events.quitting.add_listener
def _write_results(environment, **_):
    devices = [{"device_id": d.device_id, "acked_seq": d.acked_seq, "acked": d.acked, "unacked": d.unacked(),
                "photos": sorted(d.photos)} for d in DEVICES if d.device_id]
    with open(os.environ["PANTAU_LOAD_RESULTS"], "w") as out:
        json.dump({"devices": devices, "times_ms": TIMES, "failures": FAILURES}, out)


_NOISE = Image.effect_noise(PHOTO_SIDE, 40).convert("RGB")


def jpeg(label: str) -> bytes:
    """A photo no other audit has (its label in the JPEG comment): camera-like noise, so it weighs as a real one."""
    buffer = io.BytesIO()
    _NOISE.save(buffer, "JPEG", quality=80, comment=label.encode())
    return buffer.getvalue()


def hlc_after(last: str) -> str:
    """This device's next clock reading (sync.hlc.tick, written out here: locust never imports the app)."""
    now = int(time.time() * 1000)
    last_ms, counter = (int(part) for part in last.split("."))
    return f"{now:016d}.0000" if now > last_ms else f"{last_ms:016d}.{counter + 1:04d}"


class Device(HttpUser):
    """A tablet: enrolled with its own code, it submits audits with photos and syncs every few seconds."""

    fixed_count = PLAN["device_count"]
    wait_time = between(*PLAN["device_wait_s"])

    def on_start(self):
        self.device_id = None
        self.code = next(CODES)
        self.seq, self.acked_seq, self.clock = 0, 0, "0000000000000000.0000"
        self.outbox: list[tuple[int, dict, dict[str, bytes]]] = []  # (seq, change, photos) not yet acknowledged
        self.acked: list[str] = []
        self.photos: set[str] = set()
        self.cursor = 0
        DEVICES.append(self)
        answer = self.client.post(f"{API}/enroll", json={"code": self.code["code"], "name": self.code["name"]},
                                  name="enroll")
        answer.raise_for_status()
        body = answer.json()
        self.device_id, self.token = body["device_id"], body["token"]
        self.headers = {"Authorization": f"Bearer {self.token}", "Accept-Encoding": "gzip"}
        self.kecamatan = self.code["kecamatan"]

    def unacked(self) -> list[str]:
        return [change["entity_id"] for _, change, _ in self.outbox]

    def _audit(self) -> tuple[int, dict, dict[str, bytes]]:
        self.seq += 1
        self.clock = hlc_after(self.clock)
        facility = random.choice(PLAN["facilities"][self.kecamatan])
        photos = {}
        for n in range(PLAN["photos_per_audit"]):
            data = jpeg(f"{self.device_id}/{self.seq}/{n}")
            photos[hashlib.sha256(data).hexdigest()] = data
        at = datetime.now(timezone.utc).isoformat()
        audit_id = str(uuid.uuid4())
        values = ("ya", "tidak", "sebagian")
        doc = {"id": audit_id, "facility_id": facility["id"], "checklist_key": PLAN["checklist_key"], "revision": 1,
               "revision_of": None, "auditor": PLAN["auditors"][self.kecamatan], "device_id": self.device_id,
               "started_at": at, "submitted_at": at, "score": 0.8, "result": "memenuhi", "lat": facility["lat"],
               "lon": facility["lon"], "accuracy_m": 8.0, "position_source": "gps", "position_at": at,
               "position_warnings": [],
               "answers": {item: {"value": values[(self.seq + i) % 3], "note": None}
                           for i, item in enumerate(PLAN["items"])},
               "photos": {PLAN["photo_item"]: sorted(photos)}, "readings": []}
        change = {"origin_id": self.device_id, "origin_seq": self.seq, "kind": "audit", "entity_id": audit_id,
                  "hlc": self.clock, "payload": doc, "scope": self.kecamatan}
        return self.seq, change, photos

    def _call(self, method: str, path: str, name: str, body=None, data: bytes | None = None):
        headers = dict(self.headers)
        if body is not None:
            data = gzip.compress(json.dumps(body, separators=(",", ":")).encode(), 6)
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        elif data is not None:
            headers["Content-Type"] = "application/octet-stream"
        with self.client.request(method, path, data=data, headers=headers, name=name, catch_response=True) as answer:
            if answer.status_code >= 400:
                answer.failure(f"{answer.status_code} {answer.error or answer.text[:300]}")
                return None
            return answer.json()

    @task(3)
    def submit_and_push(self):
        """One to three audits done since the last sync, then the sync: photos the hub lacks, then the batch."""
        for _ in range(random.randint(1, 3)):
            self.outbox.append(self._audit())
        photos = {sha: data for _, _, shas in self.outbox for sha, data in shas.items()}
        found = self._call("POST", f"{API}/photos/missing", "photos/missing", body={"sha256": sorted(photos)})
        if found is None:
            return
        for sha in found["missing"]:
            if self._call("PUT", f"{API}/photos/{sha}", "photos/{sha}", data=photos[sha]) is None:
                return
        up_to = self.outbox[-1][0]
        ack = self._call("POST", f"{API}/push", "push", body={
            "after": self.acked_seq, "up_to": up_to,
            "entries": [{"local_seq": seq, "change": change} for seq, change, _ in self.outbox]})
        if ack is None:
            return  # kept in the outbox: the next sync sends the same changes again (a no-op where they arrived)
        self.acked_seq = ack["acked_seq"]
        self.acked += [change["entity_id"] for seq, change, _ in self.outbox if seq <= self.acked_seq]
        self.photos.update(photos)
        self.outbox = [entry for entry in self.outbox if entry[0] > self.acked_seq]

    @task(2)
    def pull(self):
        """The hub's changes for this kecamatan after the cursor, page by page."""
        for _ in range(20):
            page = self._call("GET", f"{API}/pull?cursor={self.cursor}", "pull")
            if page is None:
                return
            self.cursor = page["cursor"]
            if not page["more"]:
                return

    @task(1)
    def status(self):
        self._call("GET", f"{API}/status?seq={self.seq}", "status")


class Planner(HttpUser):
    """A planner signed in, moving between the KLA dashboard, the facility map and its layers, indicator pages
    and downloads; and the baseline, /healthz, measured in the same run."""

    fixed_count = PLAN["planner_count"]
    wait_time = between(*PLAN["planner_wait_s"])
    numbers = itertools.cycle(range(1, 25))

    def on_start(self):
        page = self.client.get("/login", name="login page")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        account = PLAN["planners"][random.randrange(len(PLAN["planners"]))]
        with self.client.post("/login", data={"csrf_token": token, "username": account, "password": "demo"},
                              name="sign in", allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in answered {answer.status_code}")
        self.city, self.year = PLAN["kabkota"], PLAN["year"]

    def _get(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {answer.error or answer.text[:200]}")

    @task(2)
    def healthz(self):
        self._get("/healthz", "baseline: /healthz")

    @task(4)
    def dashboard(self):
        self._get(f"/indicators/{self.city}/{self.year}", "indicators dashboard")

    @task(2)
    def indicator(self):
        self._get(f"/indicators/{self.city}/{self.year}/{next(self.numbers)}", "indicator page")

    @task(1)
    def kecamatan(self):
        self._get(f"/indicators/kecamatan/{random.choice(PLAN['kecamatan'])}/{self.year}", "indicators kecamatan")

    @task(2)
    def facility_map(self):
        self._get(f"/wilayah/{self.city}/map", "facility map")
        self._get(f"/wilayah/{self.city}/layers/kecamatan.geojson", "layer kecamatan.geojson")
        self._get(f"/wilayah/{self.city}/facilities.geojson", "layer facilities.geojson")
        self._get(f"/wilayah/{self.city}/coverage.geojson", "layer coverage.geojson")

    @task(1)
    def indicator_map(self):
        self._get(f"/indicators/{self.city}/{self.year}/{next(self.numbers)}/map.geojson", "indicator map.geojson")

    @task(1)
    def exports(self):
        self._get(f"/wilayah/{self.city}/export/facilities.csv", "export facilities.csv")
        self._get(f"/indicators/{self.city}/{self.year}/export.xlsx", "export indicators.xlsx")

    @task(1)
    def export_audits(self):
        self._get(f"/wilayah/{self.city}/export/audits.csv", "export audits.csv")
