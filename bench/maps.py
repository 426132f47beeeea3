"""Map endpoints in-process (Flask test client, SQLite): layers first and cached, markers, coverage; payload sizes.

The real kecamatan and desa/kelurahan layers of ../shared/data/boundaries are imported; Kabupaten PALI gets
FACILITIES facilities at random points inside its kecamatan, two thirds of them audited this year. The
baseline, measured in the same run, is GET /healthz (the cost of any request through the stack).

    python -m bench.maps [--facilities N] [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import uuid

import shapely

from bench.common import report, summary
from tests.support import SHARED

BOUNDARIES = SHARED / "data" / "boundaries"
REGIONS = {"kota-serang": "36.73", "kota-blitar": "35.72", "kabupaten-pali": "16.12"}
TARGET_BYTES = 150_000


def build(facilities: int):
    """An app with the real layers, a planner and PALI's facilities and audits."""
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.service import create_user
    from app.cli_support import write_transaction
    from geo.models import Wilayah
    from survey import registry
    from survey.audits.models import Audit
    from survey.facilities.models import Facility
    from sync.service import ensure_self_device

    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-maps-"), "WTF_CSRF_ENABLED": False})
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
        with write_transaction() as session:
            ensure_self_device(session, "field")
    for slug in REGIONS:
        for level, name in (("kecamatan", f"kecamatan_{slug}.geojson"), ("desa", f"desa_kelurahan_{slug}.geojson")):
            result = runner.invoke(args=["geo", "import", str(BOUNDARIES / name), "--level", level])
            if result.exit_code:
                raise RuntimeError(result.output)
    rng = random.Random(2026)
    with app.app_context(), write_transaction() as session:
        planner = create_user(session, username="perencana", role="planner", password="bench-pass-1",
                              full_name="Perencana", kecamatan_codes=[])
        checklist = registry.store_version(session, registry.installed()["rbra@1"])
        kecamatan = session.query(Wilayah).filter(Wilayah.level == "kecamatan", Wilayah.code.like("16.12.%")).all()
        shapes = [(k.code, shapely.from_wkb(k.boundary)) for k in kecamatan]
        when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
        for index in range(facilities):
            code, shape = shapes[index % len(shapes)]
            minx, miny, maxx, maxy = shape.bounds
            while True:
                point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                if shape.contains(point):
                    break
            facility = Facility(id=uuid.uuid4(), kind="ruang_bermain", name=f"Taman {index:05d}", kecamatan_code=code,
                                lat=point.y, lon=point.x)
            session.add(facility)
            if index % 3:
                good = rng.random() < 0.6
                session.add(Audit(facility_id=facility.id, checklist_key=checklist.key, status="submitted",
                                  auditor_id=planner.id, submitted_at=when, score=0.8 if good else 0.4,
                                  result="memenuhi" if good else "belum_memenuhi"))
    return app


def measure(app, repeat: int) -> tuple[list[dict], dict]:
    """Time each endpoint; the uncached layer is simplified again each time (its cache emptied)."""
    import time

    from geo import layers

    client = app.test_client()
    client.post("/login", data={"username": "perencana", "password": "bench-pass-1"})

    def timed(path: str, before=None, headers=None, expect: int = 200) -> list[float]:
        samples = []
        for _ in range(repeat):
            if before:
                before()
            start = time.perf_counter()
            response = client.get(path, headers=headers or {})
            samples.append(time.perf_counter() - start)
            if response.status_code != expect:
                raise RuntimeError(f"{path}: {response.status_code}")
        return samples

    layer = "/wilayah/16.12/layers/kecamatan.geojson"
    etag = client.get(layer).headers["ETag"]
    rows = [
        summary("baseline: GET /healthz", timed("/healthz")),
        summary("layer, simplified now", timed(layer, before=layers._layers.clear)),
        summary("layer, cached", timed(layer)),
        summary("layer, 304 revalidated", timed(layer, headers={"If-None-Match": etag}, expect=304)),
        summary("facilities.geojson", timed("/wilayah/16.12/facilities.geojson")),
        summary("coverage.geojson", timed("/wilayah/16.12/coverage.geojson")),
        summary("map page", timed("/wilayah/16.12/map")),
    ]
    sizes = {}
    for slug, code in REGIONS.items():
        for level in ("kecamatan", "desa"):
            sizes[f"{level}_{slug}"] = len(client.get(f"/wilayah/{code}/layers/{level}.geojson").get_data())
    sizes["facilities_kabupaten-pali"] = len(client.get("/wilayah/16.12/facilities.geojson").get_data())
    base = {row["name"]: row["p50_ms"] for row in rows}
    ratios = {"simplify/cached": round(base["layer, simplified now"] / base["layer, cached"], 1),
              "cached/healthz": round(base["layer, cached"] / base["baseline: GET /healthz"], 1)}
    return rows, {"payload_bytes": sizes, "ratios": ratios,
                  "targets": {"every layer under 150 KB": all(v < TARGET_BYTES for k, v in sizes.items()
                                                             if not k.startswith("facilities"))}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facilities", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    if not BOUNDARIES.is_dir():
        print(f"bench.maps: shared boundary data not found at {BOUNDARIES}", file=sys.stderr)
        return {}
    app = build(args.facilities)
    rows, extra = measure(app, args.repeat)
    title = f"maps: Kabupaten PALI with {args.facilities} facilities (in-process, SQLite)"
    report(title, rows, extra)
    return {"benchmark": title, "results": rows, **extra}


if __name__ == "__main__":
    json.dumps(main())
