"""The Android field app (issue #15) in Debian's Chromium: cold start offline, answer save, sync, sizes.

    python -m bench.fieldapp [--cold 40] [--saves 500] [--rounds 5] [--audits 50] [--photos 4]

A demo hub (hub role) serves the app; a tablet is a persistent Chromium profile in a temporary folder, enrolled
with a one-time code (`flask sync register`), prepared for the field and with the demo auditor signed on, as an
auditor does it in the office. Then, each with its baseline measured in the same run:

1. Cold start offline: the hub process is stopped; the browser is launched on the profile, opens `/app/` and is
   timed until `#facility-list` has its rows (a new browser each time). Baseline: the shell's first contentful
   paint in the same launches (the service worker answering `/app/` from its cache, the stylesheets with it):
   the floor no app code can go under. A trivial page cannot be the floor here: every navigation inside the
   worker's scope is answered with the shell, and one outside it is not served offline at all. Cold means a new
   browser process (Playwright's launch included); the operating system's file cache is warm.
2. Answer save: `store.saveAnswer` in an open audit, each save timed with performance.now(). Baseline,
   interleaved with it: one plain idb `put` of a record of the same shape into a scratch database.
3. Sync: 50 submitted audits with 4 JPEG photos each (about 140 kB, made with Pillow) put into IndexedDB through
   store.js, then `outbox.push()` timed until acknowledged, from a page of the hub's origin that runs no app code
   (an open app page would start its own background sync and race the timed one); 5 rounds, and the hub's
   database checked after (each audit exactly once, every photo). Baseline, taking turns going first: photos of
   the same number and size (other bytes, so the hub stores them anew) sent by plain fetch PUTs to the same photo
   endpoint, one after another and read from IndexedDB as the app does (on the hub's other name, localhost, so
   its scratch data is not the app's), without status, missing-photo question or push: the photo bytes are
   nearly all of the work. The push's requests are watched (fetch wrapped in the page) to say where it spends.
4. Sizes: the app shell (every file the service worker precaches, as served, uncompressed), the stored package
   (the `package.bytes` the app records) and the whole origin's storage estimate, in KB.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.request import Request, urlopen

from bench.common import summary
from tests.support import CHROMIUM, CHROMIUM_ARGS, ROOT, ServerProcess

TARGETS = {"cold start to facility list": ("p95_ms", 1500.0), "answer save (store.saveAnswer)": ("p95_ms", 10.0),
           "shell + package": ("kb", 2048.0)}
KECAMATAN = "36.73.01"  # Serang: the demo's facilities and its auditor
AUDITOR = "auditor"
PIN = "2468"
VIEWPORT = {"width": 800, "height": 1280}
PHOTO_SIZE = (800, 600)

# --- the hub and the tablet ------------------------------------------------------------------------------------


def start_hub(folder: Path) -> ServerProcess:
    """A demo hub as `make run` makes one, serving on a free port."""
    hub = ServerProcess(folder, env={"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": "bench-" + "x" * 32,
                                     "PANTAU_SECURE_COOKIES": "0"}, demo=True)
    hub.init()
    return hub.start()


def enrollment_code(hub: ServerProcess) -> str:
    """A one-time code for a new field device of the kecamatan, as the hub's CLI prints it."""
    done = subprocess.run([sys.executable, "-m", "flask", "sync", "register", "bench-tablet", "--kecamatan", KECAMATAN],
                          cwd=ROOT, env=hub.env, check=True, capture_output=True, text=True)
    return re.search(r"code (\S+)", done.stdout).group(1)


def launch(playwright, profile: Path):
    """Chromium on the tablet's profile, as the tests start it."""
    return playwright.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                         viewport=VIEWPORT)


PAGE_ERRORS: list[str] = []  # uncaught exceptions in the app's pages during the run: none is expected


def app_page(context):
    """A new page whose uncaught exceptions are kept in PAGE_ERRORS."""
    page = context.new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    return page


def install(playwright, profile: Path, hub: ServerProcess, code: str) -> dict:
    """Enroll, prepare for the field, sign the auditor on; wait until the service worker controls the page."""
    context = launch(playwright, profile)
    try:
        page = app_page(context)
        page.goto(f"{hub.url}/app/#enroll={code}")
        page.fill("#enroll-name", "Tablet bench")
        page.click("#enroll-form button[type=submit]")
        page.click("[data-prepare]", timeout=30000)
        page.click(f".auditor-choice[data-username={AUDITOR}]", timeout=60000)
        page.fill("#password", "demo")
        page.fill("#new-pin", PIN)
        page.fill("#new-pin-again", PIN)
        page.click("[data-auditor-form] button[type=submit]")
        page.wait_for_selector("#facility-list .facility-row", timeout=30000)
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30000)
        page.reload()  # a second load, served by the worker: the cache holds the shell
        page.wait_for_selector("#facility-list .facility-row", timeout=30000)
        return stored_sizes(page)
    finally:
        context.close()


def stored_sizes(page) -> dict:
    """The package as the app stored it and the origin's storage estimate, in bytes."""
    return page.evaluate("""async () => {
        const { meta } = await import('/static/app/db.js');
        const estimate = await navigator.storage.estimate();
        const prepared = await meta('package');
        return { package: prepared.bytes, transferred: prepared.transferred, usage: estimate.usage,
                 details: estimate.usageDetails || {}, token: (await meta('device')).token };
    }""")


def package_parts(hub: ServerProcess, token: str) -> dict[str, float]:
    """The package as the hub sends it (uncompressed), KB per top-level part: where its bytes are."""
    with urlopen(Request(f"{hub.url}/api/v1/field/package", headers={"Authorization": f"Bearer {token}"}),
                 timeout=60) as response:
        package = json.loads(response.read())
    return {key: round(len(json.dumps(value, ensure_ascii=False).encode()) / 1024, 1) for key, value in package.items()}


def shell_bytes(hub: ServerProcess) -> dict[str, int]:
    """Each file the service worker precaches, as the hub serves it (no compression asked)."""
    with urlopen(f"{hub.url}/app/sw.js", timeout=30) as response:
        assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", response.read().decode(), re.S).group(1))
    sizes = {}
    for path in assets:
        with urlopen(Request(f"{hub.url}{path}", headers={"Accept-Encoding": "identity"}), timeout=30) as response:
            sizes[path] = len(response.read())
    return sizes


# --- 1. cold start offline -------------------------------------------------------------------------------------


def cold_start(playwright, profile: Path, url: str) -> dict:
    """One launch of the browser with the hub down: seconds to launch, to the shell's first paint, to the rows."""
    started = time.time()
    context = launch(playwright, profile)
    try:
        launched = time.time()
        page = app_page(context)
        response = page.goto(f"{url}/app/", wait_until="commit")
        page.wait_for_selector("#facility-list .facility-row", timeout=30000)
        rows = time.time()
        if not response.from_service_worker:
            raise RuntimeError("the shell did not come from the service worker")
        painted = page.evaluate("""() => {
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            return paint ? performance.timeOrigin + paint.startTime : null;
        }""")
        if painted is None:
            raise RuntimeError("no first-contentful-paint entry")
    finally:
        context.close()
    return {"launch": launched - started, "paint": painted / 1000 - started, "rows": rows - started}


def cold_starts(playwright, profile: Path, hub: ServerProcess, count: int) -> list[dict]:
    """`count` cold starts; the hub must be down."""
    if hub.process.poll() is None:
        raise RuntimeError("the hub is still running")
    return [cold_start(playwright, profile, hub.url) for _ in range(count)]


# --- 2. answer save --------------------------------------------------------------------------------------------

SAVES = """async ({ auditId, addresses, count }) => {
    const store = await import('/static/app/store.js');
    const { openDB } = await import('/static/vendor/idb/index.js');
    const scratch = await openDB('bench-scratch', 1, {
        upgrade(db) { db.createObjectStore('rows', { keyPath: ['audit_id', 'address'] }); } });
    const versions = (await store.sheet(auditId)).versions;
    const saves = [];
    const puts = [];
    for (let n = 0; n < count; n += 1) {
        const address = addresses[n % addresses.length];
        const value = ['ya', 'tidak', 'sebagian'][n % 3];
        let start = performance.now();
        await scratch.put('rows', { audit_id: auditId, address, value, note: null, version: n + 1,
                                    saved_at: new Date().toISOString() });
        puts.push(performance.now() - start);
        start = performance.now();
        const saved = await store.saveAnswer(auditId, address, { value }, versions[address] ?? 0);
        saves.push(performance.now() - start);
        if (!saved.row) throw new Error(`save refused at ${address}`);
        versions[address] = saved.row.version;
    }
    scratch.close();
    return { saves, puts };
}"""


def answer_saves(page, count: int) -> dict[str, list[float]]:
    """Open a new audit through the screens and time `count` saves and plain puts, in milliseconds."""
    page.click(".facility-row")
    page.click(".start-audit")
    page.wait_for_selector(".checklist-section", timeout=30000)
    audit_id = page.evaluate("location.hash").rsplit("/", 1)[1]
    addresses = page.evaluate("""async (auditId) => {
        const store = await import('/static/app/store.js');
        const { database } = await import('/static/app/db.js');
        const audit = await store.audit(auditId);
        const checklist = await (await database()).get('checklists', audit.checklist_key);
        return checklist.data.sections.flatMap((s) => s.items).filter((i) => i.type === 'ynp').map((i) => i.id);
    }""", audit_id)
    return page.evaluate(SAVES, {"auditId": audit_id, "addresses": addresses, "count": count})


# --- 3. sync ---------------------------------------------------------------------------------------------------


def make_photos(count: int, seed: int) -> list[bytes]:
    """Real JPEGs of about 140 kB (a gradient under noise, 800 x 600), each different."""
    from PIL import Image

    rng = random.Random(seed)
    width, height = PHOTO_SIZE
    gradient = Image.merge("RGB", [Image.linear_gradient("L").resize(PHOTO_SIZE).rotate(turn) for turn in (0, 90, 180)])
    photos = []
    for _ in range(count):
        noise = Image.frombytes("RGB", PHOTO_SIZE, rng.randbytes(width * height * 3))
        out = io.BytesIO()
        Image.blend(gradient, noise, 0.25).save(out, "JPEG", quality=80)
        photos.append(out.getvalue())
    return photos


FILL = """async ({ index, photos, width, height }) => {
    const store = await import('/static/app/store.js');
    const { database, meta } = await import('/static/app/db.js');
    const { sha256Hex } = await import('/static/app/clock.js');
    const db = await database();
    const checklists = await db.getAll('checklists');
    const facilities = (await db.getAll('facilities')).filter((f) => checklists.some((c) => c.kinds.includes(f.kind)))
        .sort((a, b) => a.id.localeCompare(b.id));
    const facility = facilities[index % facilities.length];
    const checklist = checklists.find((c) => c.kinds.includes(facility.kind));
    const items = checklist.data.sections.flatMap((s) => s.items);
    const auditor = await meta('auditor');
    const device = await meta('device');
    const audit = await store.startAudit({ facility, checklistKey: checklist.key, auditor: auditor.username,
                                           deviceId: device.device_id });
    for (const item of items.filter((i) => i.type === 'ynp')) {
        await store.saveAnswer(audit.id, item.id, { value: 'ya' });
    }
    const photoItem = (items.find((i) => i.type === 'photo') || items[0]).id;
    for (const text of photos) {
        const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
        await store.addPhoto(audit.id, photoItem, { sha256: await sha256Hex(bytes),
            blob: new Blob([bytes], { type: 'image/jpeg' }), type: 'image/jpeg', width, height, size: bytes.length,
            taken_at: new Date().toISOString() });
    }
    const now = new Date().toISOString();
    await store.updateDraft(audit.id, { lat: facility.lat, lon: facility.lon, accuracy_m: 8, position_source: 'gps',
                                        position_at: now });
    await store.submit(audit.id, { score: 1, result: 'memenuhi' });
    return audit.id;
}"""


def fill_outbox(page, audits: int, photos: list[bytes]) -> list[str]:
    """`audits` submitted audits, each with its share of the photos, made through store.js; their ids."""
    per = len(photos) // audits
    width, height = PHOTO_SIZE
    return [page.evaluate(FILL, {"index": n, "width": width, "height": height,
                                 "photos": encoded(photos[n * per:(n + 1) * per])})
            for n in range(audits)]


# Watches the page's requests (the app's code is not touched): where a push spends its time, per endpoint.
WATCH = """() => {
    if (window.benchRequests) return;
    window.benchRequests = [];
    const fetch = window.fetch;
    window.fetch = async (resource, options) => {
        const start = performance.now();
        try {
            return await fetch(resource, options);
        } finally {
            const url = new URL(typeof resource === 'string' ? resource : resource.url, location.href);
            window.benchRequests.push([url.pathname.replace(/[0-9a-f]{64}$/, '<sha256>'), performance.now() - start]);
        }
    };
}"""

PUSH = """async () => {
    const outbox = await import('/static/app/outbox.js');
    window.benchRequests.length = 0;
    const start = performance.now();
    const result = await outbox.push();
    const ms = performance.now() - start;
    const requests = {};
    for (const [path, took] of window.benchRequests) {
        requests[path] = requests[path] || { n: 0, ms: 0 };
        requests[path].n += 1;
        requests[path].ms += took;
    }
    return { ms, ...result, left: (await outbox.summary()).count, requests };
}"""

# The floor keeps its photos in IndexedDB too, as the app does (a Blob read back from it comes from disk), in a
# scratch database of another origin of the same hub (localhost, not 127.0.0.1): the app's storage figures hold
# only the app's own data, however late the browser frees a deleted database's files.
PUTS = """async ({ photos, token }) => {
    const { openDB, deleteDB } = await import('/static/vendor/idb/index.js');
    const { sha256Hex } = await import('/static/app/clock.js');
    const scratch = await openDB('bench-scratch-photos', 1, {
        upgrade(db) { db.createObjectStore('photos', { keyPath: 'sha256' }); } });
    const shas = [];
    for (const text of photos) {
        const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
        const sha256 = await sha256Hex(bytes);
        await scratch.put('photos', { sha256, blob: new Blob([bytes], { type: 'image/jpeg' }) });
        shas.push(sha256);
    }
    const start = performance.now();
    for (const sha of shas) {
        const { blob } = await scratch.get('photos', sha);
        const response = await fetch(`/api/v1/sync/photos/${sha}`, { method: 'PUT', body: blob,
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/jpeg' } });
        await response.arrayBuffer();
        if (response.status !== 201) throw new Error(`PUT ${sha}: ${response.status}`);
    }
    const ms = performance.now() - start;
    scratch.close();
    await deleteDB('bench-scratch-photos');
    return ms;
}"""


def encoded(photos: list[bytes]) -> list[str]:
    """Photos as base64 text, the way bytes cross into the page."""
    return [base64.b64encode(p).decode() for p in photos]


def sync_rounds(page, floor_page, token: str, rounds: int, audits: int, per_audit: int) -> dict:
    """Each round: the outbox filled with new audits and photos, then the push and the floor timed, in turns first
    (the machine's drift falls on both); the hub is up and no app page is open, so nothing else syncs."""
    page.evaluate(WATCH)
    # The hub's first photo (imports, warm-up), from each origin.
    for seed, warm_up in enumerate((page, floor_page), start=1000):
        warm_up.evaluate(PUTS, {"photos": encoded(make_photos(1, seed=seed)), "token": token})
    pushes, floors, audit_ids, photos, sizes = [], [], [], [], None
    for round_ in range(rounds):
        mine = make_photos(audits * per_audit, seed=2 * round_ + 1)
        theirs = make_photos(audits * per_audit, seed=2 * round_ + 2)
        audit_ids += fill_outbox(page, audits, mine)
        photos += mine
        sizes = sizes or stored_sizes(page)
        if round_ % 2:
            floors.append(floor_page.evaluate(PUTS, {"photos": encoded(theirs), "token": token}))
        pushes.append(page.evaluate(PUSH))
        if not round_ % 2:
            floors.append(floor_page.evaluate(PUTS, {"photos": encoded(theirs), "token": token}))
    return {"pushes": pushes, "floors_ms": floors, "audit_ids": audit_ids, "photos": photos, "with_outbox": sizes,
            "after_sync": stored_sizes(page)}


def hub_counts(hub: ServerProcess, audit_ids: list[str], photos: list[bytes]) -> dict:
    """How many times each audit is on the hub, and how many of its photos it holds (rows, and linked)."""
    import hashlib

    keys = [uuid.UUID(a).hex for a in audit_ids]
    shas = [hashlib.sha256(p).hexdigest() for p in photos]
    with sqlite3.connect(hub.instance / "pantau.db") as conn:
        marks = ",".join("?" * len(keys))
        audits = conn.execute(f"SELECT COUNT(*), COUNT(DISTINCT id) FROM audit WHERE id IN ({marks})", keys).fetchone()
        linked = conn.execute(f"SELECT COUNT(DISTINCT sha256) FROM answer_photo WHERE audit_id IN ({marks})",
                              keys).fetchone()[0]
        stored = conn.execute(f"SELECT COUNT(*) FROM photo WHERE sha256 IN ({','.join('?' * len(shas))})",
                              shas).fetchone()[0]
    return {"audits": audits[0], "distinct_audits": audits[1], "photos_stored": stored, "photos_linked": linked}


# --- the run ---------------------------------------------------------------------------------------------------


def run(cold: int, saves: int, rounds: int, audits: int, per_audit: int) -> dict:
    """Install the app, then measure each part with the hub down or up as it needs."""
    from playwright.sync_api import sync_playwright

    PAGE_ERRORS.clear()
    with tempfile.TemporaryDirectory() as name, sync_playwright() as playwright:
        folder = Path(name)
        (folder / "hub").mkdir()
        hub = start_hub(folder / "hub")
        try:
            stored = install(playwright, folder / "profile", hub, enrollment_code(hub))
            shell = shell_bytes(hub)
            token = stored.pop("token")
            parts = package_parts(hub, token)
            hub.stop()
            starts = cold_starts(playwright, folder / "profile", hub, cold)
            context = launch(playwright, folder / "profile")
            page = app_page(context)
            page.goto(f"{hub.url}/app/")
            page.wait_for_selector("#facility-list .facility-row", timeout=30000)
            timings = answer_saves(page, saves)
            page.close()  # no app page open while the hub is up: its own background sync would race the timed one
            hub.start()
            page = context.new_page()
            page.goto(f"{hub.url}/healthz")
            floor_page = context.new_page()
            floor_page.goto(f"http://localhost:{hub.port}/healthz")
            sync = sync_rounds(page, floor_page, token, rounds, audits, per_audit)
            context.close()
            counts = hub_counts(hub, sync["audit_ids"], sync["photos"])
        finally:
            hub.stop()
    return {"starts": starts, "saves": timings, "sync": sync, "counts": counts, "stored": stored, "shell": shell,
            "package_parts": parts,
            "rounds": rounds, "audits": audits, "photos": audits * per_audit}


def rows_of(result: dict) -> list[dict]:
    """Timing rows (milliseconds) and size rows (KB), each with its baseline and target where it has one."""
    starts, sync = result["starts"], result["sync"]
    kb = {"app shell (precached, uncompressed)": sum(result["shell"].values()) / 1024,
          "package as stored": result["stored"]["package"] / 1024}
    kb["shell + package"] = sum(kb.values())
    kb["package on the wire (gzip)"] = result["stored"]["transferred"] / 1024
    kb["origin storage estimate (prepared)"] = result["stored"]["usage"] / 1024
    kb[f"origin storage estimate ({result['audits']} audits unsent)"] = sync["with_outbox"]["usage"] / 1024
    # What the tablet still holds once the hub has acknowledged everything (sent photos are kept, see the report).
    kb[f"origin storage estimate (all {len(sync['audit_ids'])} sent)"] = sync["after_sync"]["usage"] / 1024
    sync_name = f"sync {result['audits']} audits + {result['photos']} photos"
    rows = [
        summary("baseline: launch → shell first paint", [s["paint"] for s in starts]),
        summary("cold start to facility list", [s["rows"] for s in starts]),
        summary("  of which browser launch", [s["launch"] for s in starts]),
        summary("  of which the app: first paint → rows", [s["rows"] - s["paint"] for s in starts]),
        summary("baseline: plain idb put", [ms / 1000 for ms in result["saves"]["puts"]]),
        summary("answer save (store.saveAnswer)", [ms / 1000 for ms in result["saves"]["saves"]]),
        summary(f"baseline: {result['photos']} plain photo PUTs", [ms / 1000 for ms in sync["floors_ms"]]),
        summary(sync_name, [push["ms"] / 1000 for push in sync["pushes"]]),
        *({"name": name, "kb": round(value, 1)} for name, value in kb.items()),
    ]
    by_name = {row["name"]: row for row in rows}
    for name, base in (("cold start to facility list", rows[0]), ("answer save (store.saveAnswer)", rows[4]),
                       (sync_name, rows[6])):
        for stat in ("p50_ms", "p95_ms"):
            by_name[name][f"vs_baseline_{stat[:3]}"] = round(by_name[name][stat] / base[stat], 2)
    for name, (field, limit) in TARGETS.items():
        by_name[name]["target"] = f"{field} < {limit:g}"
        by_name[name]["meets_target"] = by_name[name][field] < limit
    return rows


def push_breakdown(pushes: list[dict]) -> dict:
    """Per endpoint, the requests of one push and their milliseconds (the median over the rounds)."""
    paths = sorted({path for push in pushes for path in push["requests"]})
    return {path: {"n": round(statistics.median(p["requests"].get(path, {"n": 0})["n"] for p in pushes)),
                   "ms": round(statistics.median(p["requests"].get(path, {"ms": 0})["ms"] for p in pushes), 1)}
            for path in paths}


def report(rows: list[dict], extra: dict) -> None:
    """A table for people and one JSON line for tools."""
    title = "field app: Android tablet in Chromium (installed, offline)"
    print(f"\n{title}")
    print(f"{'measure':<42}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'x base p50':>11}{'x base p95':>11}"
          f"  target")
    for row in (r for r in rows if "p95_ms" in r):
        print(f"{row['name']:<42}{row['n']:>5}{row['p50_ms']:>10.2f}{row['p95_ms']:>10.2f}{row['mean_ms']:>10.2f}"
              f"{row.get('vs_baseline_p50', ''):>11}{row.get('vs_baseline_p95', ''):>11}  {_verdict(row)}")
    print(f"{'size':<42}{'KB':>10}  target")
    for row in (r for r in rows if "kb" in r):
        print(f"{row['name']:<42}{row['kb']:>10.1f}  {_verdict(row)}")
    for key, value in extra.items():
        print(f"{key}: {value}")
    print(json.dumps({"benchmark": title, "results": rows, **extra}))


def _verdict(row: dict) -> str:
    return f"{row['target']}: {'met' if row['meets_target'] else 'MISSED'}" if "target" in row else ""


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", type=int, default=40, help="cold starts of the browser")
    parser.add_argument("--saves", type=int, default=500, help="answer saves (and as many plain puts)")
    parser.add_argument("--rounds", type=int, default=5, help="syncs of a full outbox (and as many floors)")
    parser.add_argument("--audits", type=int, default=50, help="submitted audits in the outbox")
    parser.add_argument("--photos", type=int, default=4, help="photos per audit")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    result = run(args.cold, args.saves, args.rounds, args.audits, args.photos)
    rows = rows_of(result)
    pushes = result["sync"]["pushes"]
    photo_bytes = sum(map(len, result["sync"]["photos"])) / len(pushes)
    extra = {"hub_after_sync": result["counts"], "pushed": [p["pushed"] for p in pushes],
             "outbox_left": [p["left"] for p in pushes], "photo_mb_per_round": round(photo_bytes / 2**20, 1),
             "push_requests": push_breakdown(pushes),
             "cold_start_ms": [round(s["rows"] * 1000) for s in result["starts"]],
             "sync_and_floor_ms_by_round": [[round(push["ms"]), round(floor)]
                                            for push, floor in zip(pushes, result["sync"]["floors_ms"])],
             "package_kb_by_part": result["package_parts"], "storage_detail_prepared": result["stored"]["details"],
             "page_errors": sorted(set(PAGE_ERRORS)),
             # Other work on the machine moves browser launches most: the 1-minute load before and after, per CPU.
             "load_per_cpu": [round(load_before[0] / os.cpu_count(), 2), round(os.getloadavg()[0] / os.cpu_count(), 2)]}
    report(rows, extra)
    return rows


if __name__ == "__main__":
    main()
