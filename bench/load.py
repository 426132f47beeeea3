"""Load: enrolled devices push audits with photos and pull while planners work on the hub, then the database is
checked: no failure, every audit exactly once, every photo stored once.

    python -m bench.load [--devices 50] [--planners 20] [--duration 300] [--workers N] [--postgres]

The hub is a real `flask serve` (gunicorn, several worker processes) on 127.0.0.1, in demo mode (the planner's
account and the demo's approved audits, so dashboards have content) with a synthetic 10-item checklist the
devices fill. Each device is registered on the hub for one kecamatan and enrolls with its own one-time code,
then, every 5 to 15 s, submits one to three audits with photos (photos the hub lacks, `photos/missing`, are
PUT first), pushes them, pulls its kecamatan's changes and asks its status. Planners sign in (`planner`, password
"demo") and, every 2 to 6 s, move between the KLA dashboard, indicator pages, the facility map and its layers,
and the exports.
locust drives them from its own process (`bench/locustfile.py`: gevent never enters this one).

Afterwards: each device's acknowledged audits are on the hub exactly once (audit rows and change-log rows per
id), the total equals what the devices were acknowledged, every photo they sent has one row and one file.
Reported: p50/p95/p99 per endpoint with the baseline (/healthz, in the same run) first, as a table and one JSON
line. `make bench` runs the full run on SQLite and PostgreSQL; tests/test_load.py runs a short one on each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from bench.common import percentile

ROOT = Path(__file__).resolve().parent.parent
CHECKLIST_ID = "loadtest"
ITEMS = [f"q{n:02d}" for n in range(10)]
PHOTO_ITEM = "foto"
KABKOTA = "36.73"
SECRET = "load-" + "x" * 40


def checklist() -> dict:
    """Ten yes/no/partly items and a photo item, for every facility kind."""
    items = [{"id": item, "type": "ynp", "required": True, "label": {"id": f"Butir {n}", "en": f"Item {n}"}}
             for n, item in enumerate(ITEMS)]
    items.append({"id": PHOTO_ITEM, "type": "photo", "label": {"id": "Foto", "en": "Photo"}})
    return {"id": CHECKLIST_ID, "version": 1, "title": {"id": "Uji beban", "en": "Load test"},
            "facility_kinds": ["all"],
            "source": "bench: synthetic", "source_status": "unverified", "scoring": {"memenuhi_min": 0.8},
            "sections": [{"id": "semua", "title": {"id": "Semua", "en": "All"}, "source": "bench", "items": items}]}


def hub_env(database_url: str | None) -> dict[str, str]:
    env = {"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": SECRET, "PANTAU_SECURE_COOKIES": "0", "PANTAU_DEMO": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {done.stderr[-2000:]}")


def prepare(folder: Path, database_url: str | None, devices: int, year: int) -> dict:
    """The demo hub with indicators computed and published; the checklist, an auditor per kecamatan and the
    devices registered (their codes not yet spent): the plan the locust users follow."""
    from app import create_app
    from app.auth.service import create_user
    from app.cli_support import write_transaction
    from app.extensions import db
    from geo.models import Wilayah
    from survey import registry
    from survey.checklist import checklist_from_dict
    from survey.facilities.models import Facility
    from sync import service
    from sqlalchemy import select

    env = {**os.environ, "PANTAU_INSTANCE_PATH": str(folder), "FLASK_APP": "app", **hub_env(database_url)}
    flask(env, "init")
    flask(env, "indicators", "demo", "--if-missing")
    config = {"INSTANCE_PATH": str(folder), "ROLE": "hub", "SECRET_KEY": SECRET, "DEMO": True}
    if database_url:
        config["DATABASE_URL"] = database_url
    app = create_app(config)
    with app.app_context():
        with write_transaction() as session:
            registry.store_version(session, checklist_from_dict(checklist()))
            kecamatan = list(session.execute(select(Wilayah.code).where(Wilayah.level == "kecamatan",
                                                                         Wilayah.parent_code == KABKOTA)
                                             .order_by(Wilayah.code)).scalars())
            auditors = {}
            for code in kecamatan:
                auditors[code] = f"auditor{code.replace('.', '')}"
                create_user(session, username=auditors[code], role="auditor", password="kata-sandi-beban",
                            kecamatan_codes=[code])
            facilities = {code: [] for code in kecamatan}
            for facility in session.execute(select(Facility).where(Facility.kecamatan_code.in_(kecamatan))).scalars():
                facilities[facility.kecamatan_code].append({"id": str(facility.id), "lat": facility.lat,
                                                            "lon": facility.lon})
            registered = []
            for n in range(devices):
                code = kecamatan[n % len(kecamatan)]
                device, one_time = service.register_device(session, f"tablet-{n:02d}", [code])
                registered.append({"name": f"tablet-{n:02d}", "code": one_time, "kecamatan": code})
        db.engine.dispose()
    flask(env, "sync", "publish")  # a hub in use has published what devices pull
    return {"devices": registered, "facilities": facilities, "auditors": auditors, "kecamatan": kecamatan,
            "checklist_key": f"{CHECKLIST_ID}@1", "items": ITEMS, "photo_item": PHOTO_ITEM, "photos_per_audit": 2,
            "planners": ["planner"], "kabkota": KABKOTA, "year": year}


def run_locust(plan: dict, url: str, folder: Path, duration: int, spawn_rate: float) -> tuple[int, dict, str]:
    """locust headless in its own process; its exit code, the devices' results and request times, its output."""
    (folder / "plan.json").write_text(json.dumps(plan))
    results = folder / "results.json"
    env = {**os.environ, "PANTAU_LOAD_PLAN": str(folder / "plan.json"), "PANTAU_LOAD_RESULTS": str(results)}
    users = plan["device_count"] + plan["planner_count"]
    done = subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                           "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{duration}s",
                           "--stop-timeout", "60", "--host", url, "--only-summary", "--loglevel", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=duration + 300)
    if not results.exists():
        raise RuntimeError(f"locust wrote no results (exit {done.returncode}): {done.stderr[-3000:]}")
    return done.returncode, json.loads(results.read_text()), done.stdout + done.stderr


def check_database(folder: Path, database_url: str | None, devices: list[dict]) -> dict:
    """What the devices were acknowledged, against what the hub holds: each audit once, each photo once."""
    from sqlalchemy import create_engine, text

    url = database_url or f"sqlite:///{folder / 'pantau.db'}"
    engine = create_engine(url)
    ids = [uuid.UUID(d["device_id"]) for d in devices]
    acked = {a for d in devices for a in d["acked"]}
    unacked = {a for d in devices for a in d["unacked"]}
    photos = {p for d in devices for p in d["photos"]}
    hexes = [i.hex for i in ids] if engine.dialect.name == "sqlite" else ids

    def in_clause(name: str, values: list) -> tuple[str, dict]:
        keys = {f"{name}{n}": v for n, v in enumerate(values)}
        return ", ".join(f":{k}" for k in keys) or "NULL", keys

    with engine.connect() as connection:
        devices_in, params = in_clause("d", hexes)
        audit_counts = dict(connection.execute(text(
            f"SELECT id, count(*) FROM audit WHERE device_id IN ({devices_in}) GROUP BY id"), params).all())
        change_counts = dict(connection.execute(text(
            f"SELECT entity_id, count(*) FROM sync_change WHERE kind = 'audit' AND origin_id IN ({devices_in}) "
            "GROUP BY entity_id"), params).all())
        acked_seq = dict(connection.execute(text(f"SELECT id, acked_seq FROM device WHERE id IN ({devices_in})"),
                                            params).all())
        shas, params = in_clause("p", sorted(photos))
        photo_rows = dict(connection.execute(text(f"SELECT sha256, count(*) FROM photo WHERE sha256 IN ({shas}) "
                                                  "GROUP BY sha256"), params).all())
        links = connection.execute(text(
            "SELECT count(*) FROM answer_photo WHERE audit_id IN "
            f"(SELECT id FROM audit WHERE device_id IN ({devices_in}))"),
            {f"d{n}": v for n, v in enumerate(hexes)}).scalar_one()
    engine.dispose()
    held = {str(uuid.UUID(str(k))) for k in audit_counts}
    # Originals live at photos/original/<2 hex>/<sha256>.<ext>: one file per photo, whatever its extension.
    originals: dict[str, int] = {}
    for path in (folder / "photos" / "original").rglob("*.*"):
        originals[path.stem] = originals.get(path.stem, 0) + 1
    acked_by_hub = {str(uuid.UUID(str(k))) if not isinstance(k, uuid.UUID) else str(k): v for k, v in acked_seq.items()}
    return {
        "audits_acked": len(acked),
        "audits_on_hub": len(held),
        "audits_unacked_at_end": len(unacked),
        "audit_rows_once": all(n == 1 for n in audit_counts.values()),
        "change_rows_once": all(n == 1 for n in change_counts.values()) and set(map(str, change_counts)) == held,
        "every_acked_audit_once": acked <= held and held <= acked | unacked,
        "acked_seq_matches": all(acked_by_hub.get(d["device_id"]) == d["acked_seq"] for d in devices),
        "photos_sent": len(photos),
        "photos_stored_once": set(photo_rows) == photos and all(n == 1 for n in photo_rows.values())
                              and all(originals.get(sha) == 1 for sha in photos),
        "photo_links": links,
    }


def rows_from(times_ms: dict[str, list[float]]) -> list[dict]:
    """p50/p95/p99 per endpoint; the baseline first, then by name."""
    rows = []
    for name in sorted(times_ms, key=lambda n: (not n.startswith("baseline"), n)):
        samples = times_ms[name]
        rows.append({"name": name, "n": len(samples), "p50_ms": round(percentile(samples, 50), 1),
                     "p95_ms": round(percentile(samples, 95), 1), "p99_ms": round(percentile(samples, 99), 1)})
    return rows


def run(devices: int = 50, planners: int = 20, duration: int = 300, postgres: bool = False,
        workers: int | None = None, device_wait=(5.0, 15.0), planner_wait=(2.0, 6.0), spawn_rate: float = 10.0,
        photo_size=(480, 360)) -> dict:
    """Prepare a hub, serve it, load it, check it. The result: the measures, the checks, the failures."""
    from tests.support import ServerProcess, postgres_url
    from tests.test_migrations import make_postgres_database

    cleanup, database_url = None, None
    if postgres:
        admin = postgres_url()
        if admin is None:
            raise RuntimeError("PostgreSQL is not answering on 127.0.0.1:5432")
        cleanup = make_postgres_database(admin)
        database_url = next(cleanup)
    try:
        with tempfile.TemporaryDirectory(prefix="pantau-load-") as name:
            folder = Path(name) / "hub"
            folder.mkdir()
            plan = prepare(folder, database_url, devices, datetime.now().year)
            plan.update(device_count=devices, planner_count=planners, device_wait_s=list(device_wait),
                        planner_wait_s=list(planner_wait), photo_size=list(photo_size))
            serve_args = ("--workers", str(workers)) if workers else ()
            server = ServerProcess(folder, env=hub_env(database_url), demo=True, serve_args=serve_args)
            server.start()
            started = time.perf_counter()
            try:
                exit_code, results, output = run_locust(plan, server.url, Path(name), duration, spawn_rate)
            finally:
                server.stop()
            elapsed = time.perf_counter() - started
            checks = check_database(folder, database_url, results["devices"])
            log = (folder / "server.log").read_text()
    finally:
        if cleanup is not None:
            cleanup.close()
    rows = rows_from(results["times_ms"])
    requests = sum(r["n"] for r in rows)
    return {"database": "postgresql" if postgres else "sqlite", "devices": devices, "planners": planners,
            "duration_s": duration, "workers": workers or "default", "requests": requests,
            "requests_per_s": round(requests / elapsed, 1), "failures": len(results["failures"]),
            "failure_samples": results["failures"][:5], "locust_exit": exit_code, "checks": checks, "rows": rows,
            "server_errors": [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line][:5],
            "locust_output": output[-1500:] if exit_code else ""}


def report(result: dict) -> None:
    """The table for people, one JSON line for tools (as bench.common.report)."""
    title = (f"load on {result['database']}: {result['devices']} devices + {result['planners']} planners, "
             f"{result['duration_s']} s, gunicorn workers {result['workers']}")
    print(f"\n{title}")
    print(f"{'endpoint':<30}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'p95/base':>10}")
    base = result["rows"][0]["p95_ms"] or 1e-9
    for row in result["rows"]:
        print(f"{row['name']:<30}{row['n']:>7}{row['p50_ms']:>10.1f}{row['p95_ms']:>10.1f}{row['p99_ms']:>10.1f}"
              f"{row['p95_ms'] / base:>10.1f}")
    print(f"requests: {result['requests']} ({result['requests_per_s']}/s), failures: {result['failures']}")
    for key, value in result["checks"].items():
        print(f"{key}: {value}")
    if result["failure_samples"]:
        print("failures, first ones:", *result["failure_samples"], sep="\n  ")
    print(json.dumps({"benchmark": title, "results": result["rows"],
                      **{k: v for k, v in result.items() if k not in ("rows", "locust_output")}}))


def ok(result: dict) -> bool:
    """No failure, and the database holds exactly what the devices were told it holds."""
    checks = result["checks"]
    return (result["failures"] == 0 and result["locust_exit"] == 0 and checks["audit_rows_once"]
            and checks["change_rows_once"] and checks["every_acked_audit_once"] and checks["acked_seq_matches"]
            and checks["photos_stored_once"] and checks["audits_acked"] > 0)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--planners", type=int, default=20)
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: flask serve's)")
    parser.add_argument("--postgres", action="store_true", help="run on a fresh PostgreSQL database")
    args = parser.parse_args(argv)
    result = run(args.devices, args.planners, args.duration, args.postgres, args.workers)
    report(result)
    if not ok(result):
        print(result["locust_output"])
        raise SystemExit(f"load on {result['database']}: failures or a database check failed")
    return result


if __name__ == "__main__":
    main()
