"""Reading a boundary file (GeoJSON, Shapefile, zipped Shapefile, GeoPackage) into plain features.

Used by `flask geo import` only. The GIS stack (geopandas, pyogrio, pyproj) is imported inside the
functions here, and this module is never imported on a request path (geo.cli imports it inside the
import command): the app answers requests with shapely alone (geo.locate, geo.service).

Every refusal is an AppError with a stable code and changes nothing:
geo.unreadable, geo.unsafe_zip, geo.unknown_layer, geo.empty, geo.missing_field, geo.not_polygons,
geo.no_crs, geo.bad_crs, geo.wrong_level, geo.duplicate_code, geo.parent_mismatch, geo.missing_name
(geo.unknown_parent needs the database: geo.service).

Fields are matched without regard to case. When none is named on the command line, the first of
these present in the file is used (the shared files' names, then BIG / Indonesia Geospasial's, then
Shapefile-truncated and generic ones):
- kecamatan code: kode_kec, KDCPUM, kode_kecamatan, kd_kec, kode
- kecamatan name: nama_kec, WADMKC, nama_kecamatan, nm_kec, nama
- kecamatan parent code (optional, checked against the code): kode_kabkota, kode_kabko, KDPKAB
- desa code: kode_desa, KDEPUM, kode_kel, kode_kelurahan, kd_desa, kode
- desa name: nama_desa, WADMKD, NAMOBJ, nama_kel, nama_kelurahan, nm_desa, nama
- desa parent code (optional, checked against the code): kode_kec, KDCPUM, kd_kec

Names of the regions above (to create them when the database lacks them): kecamatan nama_kec, WADMKC,
nama_kecamatan; kabupaten/kota nama_kabkota, nama_kabko, WADMKK, nama_kab, nama_kota, nama_kabupaten;
provinsi nama_prov, WADMPR, nama_provinsi. Codes of 2, 4, 6 or 10 digits without dots (367301) are
read as Kemendagri codes (36.73.01); BPS codes (3673040) are not Kemendagri codes and are refused.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import shapely

from geo.codes import level_of, parent_of
from geo.coordinates import INDONESIA
from geo.problems import GEO_PROBLEMS

LEVELS = ("kecamatan", "desa")
SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "Shapefile", ".zip": "zipped Shapefile",
            ".gpkg": "GeoPackage"}
CODE_FIELDS = {
    "kecamatan": ("kode_kec", "KDCPUM", "kode_kecamatan", "kd_kec", "kode"),
    "desa": ("kode_desa", "KDEPUM", "kode_kel", "kode_kelurahan", "kd_desa", "kode"),
}
NAME_FIELDS = {
    "kecamatan": ("nama_kec", "WADMKC", "nama_kecamatan", "nm_kec", "nama"),
    "desa": ("nama_desa", "WADMKD", "NAMOBJ", "nama_kel", "nama_kelurahan", "nm_desa", "nama"),
}
PARENT_FIELDS = {
    "kecamatan": ("kode_kabkota", "kode_kabko", "KDPKAB"),
    "desa": ("kode_kec", "KDCPUM", "kd_kec"),
}
# Names of the regions above a feature, by their level.
ANCESTOR_NAME_FIELDS = {
    "kecamatan": ("nama_kec", "WADMKC", "nama_kecamatan"),
    "kabkota": ("nama_kabkota", "nama_kabko", "WADMKK", "nama_kab", "nama_kota", "nama_kabupaten"),
    "provinsi": ("nama_prov", "WADMPR", "nama_provinsi"),
}
EXAMPLES = {"kecamatan": "36.73.01", "desa": "36.73.01.1001"}
# Equal-area projection for areas (World Cylindrical Equal Area): right anywhere in Indonesia.
EQUAL_AREA = "EPSG:6933"
WGS84 = "EPSG:4326"
# Refuse archives that would unpack to more than this: a boundary layer is megabytes, not gigabytes.
MAX_UNZIPPED_BYTES = 2 * 1024**3
# How many offending features an error message names.
SHOWN = 5
_DOTLESS = re.compile(r"^\d{2}(\d{2})?(\d{2})?(\d{4})?$")


@dataclass(frozen=True)
class BoundaryFeature:
    """One region of the file, ready to store."""

    code: str
    name: str
    parent_code: str
    geometry: bytes  # WKB, EPSG:4326, polygonal
    area_km2: float


@dataclass
class BoundaryFile:
    """What a boundary file holds, checked, in EPSG:4326, in code order."""

    source: str  # the file's name, without its folder
    level: str
    features: list[BoundaryFeature]
    ancestors: dict[str, str] = field(default_factory=dict)  # code -> name of regions above, named in the file
    repairs: list[str] = field(default_factory=list)  # "36.73.01: self-intersection repaired"
    notes: list[str] = field(default_factory=list)  # assumptions made, layers skipped, fields used
    crs: str = WGS84  # the file's own coordinate reference system

    @property
    def area_km2(self) -> float:
        """Total area of the features."""
        return sum(feature.area_km2 for feature in self.features)


def read_boundaries(path: str | Path, level: str, code_field: str | None = None, name_field: str | None = None,
                    parent_field: str | None = None, layer: str | None = None) -> BoundaryFile:
    """Read and check a boundary file of kecamatan or desa/kelurahan; raise AppError at the first problem."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    path = Path(path)
    notes: list[str] = []
    source, layer = _source(path, layer, notes)
    frame = _read(source, layer, path)
    if len(frame) == 0:
        raise GEO_PROBLEMS("geo.empty", file=path.name)
    columns = {str(c).lower(): str(c) for c in frame.columns if c != frame.geometry.name}
    fields = _fields(columns, level, code_field, name_field, parent_field)
    notes.append("fields: " + ", ".join(f"{role} {name}" for role, name in fields.items() if name))
    codes = [_code(value) for value in _column(frame, fields["code"])]
    _check_geometry_types(frame, codes)
    frame, crs = _to_wgs84(frame, path, notes)
    _check_codes(codes, level, fields["code"])
    names = [_text(value) for value in _column(frame, fields["name"])]
    _check_names(codes, names, fields["name"])
    if fields["parent"]:
        _check_parents(codes, [_code(v) for v in _column(frame, fields["parent"])], fields["parent"])
    shapes, repairs = _repaired(list(frame.geometry), codes)
    areas = _areas_km2(shapes)
    features = sorted((BoundaryFeature(code, name, parent_of(code), shapely.to_wkb(shape), round(area, 6))
                       for code, name, shape, area in zip(codes, names, shapes, areas)), key=lambda f: f.code)
    return BoundaryFile(source=path.name, level=level, features=features,
                        ancestors=_ancestors(frame, columns, codes), repairs=repairs, notes=notes, crs=crs)


def _source(path: Path, layer: str | None, notes: list[str]) -> tuple[str, str | None]:
    """What to hand to GDAL (a path, or /vsizip/ path into an archive) and the layer to read."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise GEO_PROBLEMS("geo.unreadable/type", suffix=suffix or "-")
    if not path.is_file():
        raise GEO_PROBLEMS("geo.unreadable/missing", file=str(path))
    if suffix == ".zip":
        member = _zip_member(path, layer, notes)
        return f"/vsizip/{path.resolve().as_posix()}/{member}", None
    if suffix == ".gpkg":
        return str(path), _gpkg_layer(path, layer, notes)
    return str(path), None


def _zip_member(path: Path, layer: str | None, notes: list[str]) -> str:
    """The Shapefile inside a zip, refusing archives with unsafe member names (read in place, never unpacked)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise GEO_PROBLEMS("geo.unreadable", file=path.name, reason=str(error)) from None
    for member in members:
        if not _safe_member(member):
            raise GEO_PROBLEMS("geo.unsafe_zip", file=path.name, member=member.filename)
    if sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES:
        raise GEO_PROBLEMS("geo.unsafe_zip/too_large", file=path.name)
    shapefiles = sorted(m.filename for m in members
                        if m.filename.lower().endswith(".shp") and not m.filename.startswith("__MACOSX/"))
    if layer:
        chosen = [name for name in shapefiles if PurePosixPath(name).stem == layer]
        if not chosen:
            raise GEO_PROBLEMS("geo.unknown_layer", layer=layer, file=path.name,
                               available=_listing([PurePosixPath(n).stem for n in shapefiles]))
        return chosen[0]
    if not shapefiles:
        raise GEO_PROBLEMS("geo.unreadable/no_shapefile", file=path.name)
    if len(shapefiles) > 1:
        notes.append(f"read {shapefiles[0]}; the zip also holds {', '.join(shapefiles[1:])} (choose with --layer)")
    return shapefiles[0]


def _safe_member(member: zipfile.ZipInfo) -> bool:
    """False for absolute paths, drive letters, backslashes, '..' and symbolic links."""
    name = member.filename
    if name.startswith(("/", "\\")) or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return False
    if any(part == ".." for part in name.split("/")):
        return False
    is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
    return not is_link


def _gpkg_layer(path: Path, layer: str | None, notes: list[str]) -> str:
    """The GeoPackage layer to read: the one asked for, else the first with geometries."""
    import pyogrio

    try:
        layers = [(str(name), geometry_type) for name, geometry_type in pyogrio.list_layers(path)]
    except (RuntimeError, OSError) as error:  # pyogrio's errors derive from RuntimeError
        raise GEO_PROBLEMS("geo.unreadable", file=path.name, reason=_reason(error)) from None
    spatial = [name for name, geometry_type in layers if geometry_type]
    if layer:
        if layer not in spatial:
            raise GEO_PROBLEMS("geo.unknown_layer", layer=layer, file=path.name, available=_listing(spatial))
        return layer
    if not spatial:
        raise GEO_PROBLEMS("geo.empty", file=path.name)
    if len(spatial) > 1:
        notes.append(f"read layer {spatial[0]}; the file also holds {', '.join(spatial[1:])} (choose with --layer)")
    return spatial[0]


def _read(source: str, layer: str | None, path: Path):
    """The file as a GeoDataFrame, or geo.unreadable."""
    import geopandas

    try:
        return geopandas.read_file(source, layer=layer, engine="pyogrio")
    except (RuntimeError, OSError, ValueError, UnicodeDecodeError) as error:  # pyogrio's errors are RuntimeErrors
        raise GEO_PROBLEMS("geo.unreadable", file=path.name, reason=_reason(error)) from None


def _reason(error: Exception) -> str:
    """GDAL's message without its advice about driver prefixes, which does not apply here."""
    return str(error).split("; It might help", 1)[0].replace("/vsizip/", "")


def _fields(columns: dict[str, str], level: str, code_field: str | None, name_field: str | None,
            parent_field: str | None) -> dict[str, str | None]:
    """The file's code, name and parent-code fields (matched without regard to case)."""
    if code_field is None:
        _check_layer_level(columns, level)
    return {"code": _field(columns, code_field, CODE_FIELDS[level], required=True),
            "name": _field(columns, name_field, NAME_FIELDS[level], required=True),
            "parent": _field(columns, parent_field, PARENT_FIELDS[level], required=parent_field is not None)}


def _field(columns: dict[str, str], asked: str | None, defaults: tuple[str, ...], required: bool) -> str | None:
    """The column asked for, else the first default present; geo.missing_field when required and absent."""
    wanted = (asked,) if asked else defaults
    for name in wanted:
        if name.lower() in columns:
            return columns[name.lower()]
    if not required:
        return None
    described = asked if asked else f"{defaults[0]} (or {', '.join(defaults[1:])})"
    raise GEO_PROBLEMS("geo.missing_field", column=described, available=_listing(sorted(columns.values()), limit=40))


def _check_layer_level(columns: dict[str, str], level: str) -> None:
    """A desa layer imported as kecamatan (or the reverse) is named as such, not as a field problem."""
    other = "desa" if level == "kecamatan" else "kecamatan"
    has_own = any(name.lower() in columns for name in CODE_FIELDS[level][:-1])
    found = [columns[name.lower()] for name in CODE_FIELDS[other][:-1] if name.lower() in columns]
    if found and (level == "kecamatan" or not has_own):
        raise GEO_PROBLEMS("geo.wrong_level", found=other, column=found[0], level=level)


def _column(frame, name: str) -> list:
    """A column's values, with None for every kind of missing value (NaN, pd.NA)."""
    column = frame[name]
    return [None if missing else value for value, missing in zip(column.astype(object), column.isna())]


def _code(value) -> str:
    """A Kemendagri code as text; dotless 2/4/6/10-digit codes get their dots."""
    if value is None:
        return ""
    text = str(value).strip()
    if "." not in text and _DOTLESS.match(text):
        parts = [text[:2], text[2:4], text[4:6], text[6:]]
        text = ".".join(part for part in parts if part)
    return text


def _text(value) -> str:
    """A name as text, spaces tidied."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def _check_geometry_types(frame, codes: list[str]) -> None:
    """Every feature must be a Polygon or MultiPolygon."""
    wrong = [(code or f"#{row + 1}", "no geometry" if shape is None or shape.is_empty else shape.geom_type)
             for row, (code, shape) in enumerate(zip(codes, frame.geometry))
             if shape is None or shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon")]
    if wrong:
        raise GEO_PROBLEMS("geo.not_polygons", kinds=", ".join(sorted({kind for _, kind in wrong})),
                           features=_listing([c for c, _ in wrong]))


def _to_wgs84(frame, path: Path, notes: list[str]):
    """The frame in EPSG:4326; a file without CRS is taken as EPSG:4326 only if its coordinates fit."""
    bounds = frame.total_bounds
    if frame.crs is None:
        if not _lon_lat(bounds):
            raise GEO_PROBLEMS("geo.no_crs", file=path.name, bounds=_bounds_text(bounds))
        notes.append("no coordinate reference system in the file: coordinates are within longitude/latitude "
                     "range, so EPSG:4326 was assumed")
        frame, crs = frame.set_crs(WGS84), "none (EPSG:4326 assumed)"
    else:
        crs = frame.crs.to_string()
        if not frame.crs.equals(WGS84, ignore_axis_order=True):  # OGC:CRS84 is EPSG:4326 in lon/lat order
            notes.append(f"reprojected from {crs} to EPSG:4326")
            frame = frame.to_crs(WGS84)
    if not _in_indonesia(frame.total_bounds):
        raise GEO_PROBLEMS("geo.bad_crs", crs=crs, bounds=_bounds_text(frame.total_bounds))
    return frame, crs


def _lon_lat(bounds) -> bool:
    """True when bounds (minx, miny, maxx, maxy) fit longitude/latitude."""
    minx, miny, maxx, maxy = bounds
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _in_indonesia(bounds) -> bool:
    """True when bounds (minx, miny, maxx, maxy) lie within Indonesia's bounding box (NaN: False)."""
    minx, miny, maxx, maxy = bounds
    south, north, west, east = INDONESIA
    return bool(west <= minx <= maxx <= east and south <= miny <= maxy <= north)


def _bounds_text(bounds) -> str:
    """Bounds as text, e.g. 617934.811, 9312455.998, ..."""
    return ", ".join(f"{value:.10g}" for value in bounds)


def _check_codes(codes: list[str], level: str, field_name: str) -> None:
    """Every code is a Kemendagri code of the level, and appears once."""
    wrong = [code or "(empty)" for code in codes if level_of(code) != level]
    if wrong:
        raise GEO_PROBLEMS("geo.wrong_level/codes", column=field_name, level=level, example=EXAMPLES[level],
                           codes=_listing(wrong))
    seen: dict[str, int] = {}
    for code in codes:
        seen[code] = seen.get(code, 0) + 1
    repeated = sorted(code for code, count in seen.items() if count > 1)
    if repeated:
        raise GEO_PROBLEMS("geo.duplicate_code", codes=_listing(repeated))


def _check_names(codes: list[str], names: list[str], field_name: str) -> None:
    """Every feature has a name."""
    unnamed = [code for code, name in zip(codes, names) if not name]
    if unnamed:
        raise GEO_PROBLEMS("geo.missing_name", column=field_name, codes=_listing(unnamed))


def _check_parents(codes: list[str], parents: list[str], field_name: str) -> None:
    """Where the file gives a parent code, it must be the one the region's own code says."""
    wrong = [f"{code} ({parent})" for code, parent in zip(codes, parents) if parent and parent != parent_of(code)]
    if wrong:
        raise GEO_PROBLEMS("geo.parent_mismatch", column=field_name, codes=_listing(wrong))


def _repaired(shapes: list, codes: list[str]) -> tuple[list, list[str]]:
    """Valid 2D (Multi)Polygons: invalid ones repaired with make_valid, keeping polygonal parts only."""
    result, repairs = [], []
    for code, shape in zip(codes, shapes):
        shape = shapely.force_2d(shape)
        if not shape.is_valid:
            reason = shapely.is_valid_reason(shape).split("[", 1)[0].strip().lower() or "invalid geometry"
            parts = _leaves(shapely.make_valid(shape))
            polygons = [part for part in parts if part.geom_type == "Polygon"]
            if not polygons:
                raise GEO_PROBLEMS("geo.not_polygons", kinds="no area left after repair", features=code)
            dropped = " (lines or points left over were dropped)" if len(polygons) < len(parts) else ""
            shape = polygons[0] if len(polygons) == 1 and shape.geom_type == "Polygon" else \
                shapely.MultiPolygon(polygons)
            repairs.append(f"{code}: {reason} repaired{dropped}")
        result.append(shape)
    return result, repairs


def _leaves(shape) -> list:
    """The non-empty simple parts of a geometry (collections and multi-parts flattened)."""
    if shape.is_empty:
        return []
    if shape.geom_type in ("Polygon", "LineString", "LinearRing", "Point"):
        return [shape]
    return [leaf for part in shapely.get_parts(shape) for leaf in _leaves(part)]


def _areas_km2(shapes: list) -> list[float]:
    """Areas in km², computed in an equal-area projection."""
    import geopandas

    return list(geopandas.GeoSeries(shapes, crs=WGS84).to_crs(EQUAL_AREA).area / 1e6)


def _ancestors(frame, columns: dict[str, str], codes: list[str]) -> dict[str, str]:
    """Names the file gives for the regions above its features (first feature in code order wins)."""
    names: dict[str, str] = {}
    order = sorted(range(len(codes)), key=lambda row: codes[row])
    for level, candidates in ANCESTOR_NAME_FIELDS.items():
        column = next((columns[c.lower()] for c in candidates if c.lower() in columns), None)
        if column is None:
            continue
        values = _column(frame, column)
        for row in order:
            ancestor = _ancestor(codes[row], level)
            name = _text(values[row])
            if ancestor and name and ancestor not in names:
                names[ancestor] = name
    return names


def _ancestor(code: str, level: str) -> str | None:
    """The code of the region of `level` above `code`, if `code` lies under that level."""
    current = parent_of(code)
    while current is not None:
        if level_of(current) == level:
            return current
        current = parent_of(current)
    return None


def _listing(items: list[str], limit: int = SHOWN) -> str:
    """Up to `limit` items, then how many more."""
    shown = ", ".join(items[:limit])
    return shown + (f" … (+{len(items) - limit})" if len(items) > limit else "") if items else "-"
