"""The demo: Kota Serang's real kecamatan codes and names, approximate boundaries, facilities, users.

The boundaries here are NOT real: they are Voronoi cells around approximate kecamatan centres,
clipped to a 13-point outline of the city, made by this module so the demo needs no data file.
Real boundaries come in with `flask geo import` (see README).
"""

from __future__ import annotations

import random

import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.service import create_user
from geo.codes import kabkota_kind
from geo.models import Wilayah
from survey.facilities.locating import relocate_facilities
from survey.facilities.models import Facility

APPROXIMATE = "approximate demo boundary (generated, not survey data)"

# Kemendagri codes and names: Kepmendagri 300.2.2-2138/2025 (../shared/kla-reference.md §4).
PROVINSI = ("36", "Banten")
KABKOTA = ("36.73", "Kota Serang")
# Code, name, approximate centre (lon, lat) rounded to 0.01°.
KECAMATAN = (
    ("36.73.01", "Serang", (106.16, -6.11)),
    ("36.73.02", "Kasemen", (106.19, -6.06)),
    ("36.73.03", "Walantaka", (106.22, -6.15)),
    ("36.73.04", "Curug", (106.17, -6.19)),
    ("36.73.05", "Cipocok Jaya", (106.17, -6.14)),
    ("36.73.06", "Taktakan", (106.11, -6.13)),
)
OUTLINE = Polygon([(106.23, -6.19), (106.18, -6.22), (106.14, -6.21), (106.15, -6.17), (106.07, -6.18),
                   (106.07, -6.12), (106.11, -6.09), (106.15, -6.07), (106.15, -6.02), (106.22, -6.03),
                   (106.22, -6.13), (106.26, -6.15), (106.22, -6.19)])

DEMO_USERS = (
    ("auditor", "auditor", "Siti Rahmawati", ("36.73.01", "36.73.05")),
    ("supervisor", "supervisor", "Budi Santoso", ()),
    ("planner", "planner", "Dewi Lestari", ()),
    ("admin", "admin", "Admin Demo", ()),
)

# Per kecamatan: 3 play spaces, 5 schools, a reading garden, a puskesmas; one PKA for the city. 6 × 10 = 60.
_PLAY = ("Taman Bermain RW {n:02d}", "RTH Taman {k}", "RPTRA {k} {n}")
_SCHOOLS = ("SD Negeri {n} {k}", "SD Negeri {m} {k}", "SMP Negeri {n} {k}", "MI Al-Hidayah {k}", "PAUD Melati {k}")


def demo_boundaries() -> dict[str, Polygon]:
    """Approximate kecamatan polygons: Voronoi cells of the centres, clipped to the city outline."""
    seeds = MultiPoint([centre for _, _, centre in KECAMATAN])
    cells = shapely.voronoi_polygons(seeds, extend_to=OUTLINE.buffer(0.1))
    result = {}
    for code, _, centre in KECAMATAN:
        cell = next(c for c in cells.geoms if c.contains(Point(centre)))
        result[code] = shapely.set_precision(cell.intersection(OUTLINE), 1e-6)
    return result


def is_seeded(session: Session) -> bool:
    """True when the demo is already loaded (its kabupaten/kota exists)."""
    return session.get(Wilayah, KABKOTA[0]) is not None


def seed(session: Session) -> dict[str, int]:
    """Load the demo into an empty database; return what was added."""
    boundaries = seed_regions(session)
    facilities = _facilities(boundaries)
    session.add_all(facilities)
    session.flush()
    relocate_facilities(session)
    for username, role, full_name, kecamatan in DEMO_USERS:
        create_user(session, username=username, role=role, password="demo", full_name=full_name,
                    kecamatan_codes=list(kecamatan), is_demo=True)
    session.flush()
    return {"wilayah": 2 + len(KECAMATAN), "facilities": len(facilities), "users": len(DEMO_USERS)}


def seed_regions(session: Session) -> dict[str, Polygon]:
    """Banten, Kota Serang and its six kecamatan with approximate boundaries."""
    boundaries = demo_boundaries()
    session.add(Wilayah(code=PROVINSI[0], level="provinsi", name=PROVINSI[1]))
    session.add(Wilayah(code=KABKOTA[0], level="kabkota", name=KABKOTA[1], kind=kabkota_kind(KABKOTA[0]),
                        parent_code=PROVINSI[0], boundary=shapely.union_all(list(boundaries.values())).wkb,
                        boundary_note=APPROXIMATE))
    for code, name, _ in KECAMATAN:
        session.add(Wilayah(code=code, level="kecamatan", name=name, parent_code=KABKOTA[0],
                            boundary=boundaries[code].wkb, boundary_note=APPROXIMATE))
    session.flush()
    return boundaries


def demo_users(session: Session) -> list[User]:
    """The demo accounts."""
    return list(session.execute(select(User).where(User.is_demo.is_(True))).scalars())


def _facilities(boundaries: dict[str, Polygon]) -> list[Facility]:
    rng = random.Random(3673)  # fixed: every demo has the same facilities in the same places
    facilities = []
    npsn = 20601000
    for index, (code, name, _) in enumerate(KECAMATAN):
        area = boundaries[code]
        names = [("ruang_bermain", p.format(n=i + 1, k=name)) for i, p in enumerate(_PLAY)]
        names += [("sekolah", s.format(n=index + 1, m=index + 7, k=name)) for s in _SCHOOLS]
        names += [("lainnya", f"Taman Baca Masyarakat {name}"), ("puskesmas", f"Puskesmas {name}")]
        if code == "36.73.01":
            names[-3] = ("pka", "Pusat Kreativitas Anak Kota Serang")
        for kind, facility_name in names:
            lon, lat = _random_point(rng, area)
            official = None
            if kind == "sekolah":
                npsn += rng.randint(1, 40)
                official = str(npsn)
            facilities.append(Facility(kind=kind, name=facility_name, official_id=official, kecamatan_code=code,
                                       lat=round(lat, 6), lon=round(lon, 6), address=f"Kec. {name}, Kota Serang"))
    return facilities


def _random_point(rng: random.Random, area: Polygon) -> tuple[float, float]:
    # Kept 300 m inside the edge so a demo facility never sits on an approximate border.
    inner = area.buffer(-0.003)
    minx, miny, maxx, maxy = inner.bounds
    while True:
        point = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if inner.contains(point):
            return point.x, point.y
