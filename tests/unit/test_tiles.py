"""MBTiles reading without an app: TMS rows, metadata, refusals."""

from __future__ import annotations

import sqlite3

import pytest

from geo.problems import BasemapError
from geo.tiles import open_basemap, tile


def mbtiles(path, rows, metadata):
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        connection.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        connection.executemany("INSERT INTO metadata VALUES (?, ?)", list(metadata.items()))
        connection.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
    return path


def test_rows_are_tms_so_y_is_flipped(tmp_path):
    path = mbtiles(tmp_path / "a.mbtiles", [(2, 1, 0, b"south"), (2, 1, 3, b"north")], {"format": "jpg"})
    basemap = open_basemap(path)
    assert tile(basemap, 2, 1, 3) == b"south" and tile(basemap, 2, 1, 0) == b"north"
    assert tile(basemap, 2, 1, 1) is None and tile(basemap, 2, 4, 0) is None and tile(basemap, -1, 0, 0) is None
    assert (basemap.format, basemap.mimetype, basemap.minzoom, basemap.maxzoom) == ("jpg", "image/jpeg", 2, 2)


def test_metadata_zooms_and_bounds_are_read_and_bad_bounds_ignored(tmp_path):
    good = open_basemap(mbtiles(tmp_path / "g.mbtiles", [(5, 0, 0, b"x")],
                                {"minzoom": "3", "maxzoom": "14", "bounds": "106,-6.3,106.3,-6", "name": "Serang"}))
    assert (good.minzoom, good.maxzoom, good.bounds, good.name, good.format) == (3, 14, (106, -6.3, 106.3, -6), "Serang", "png")
    bad = open_basemap(mbtiles(tmp_path / "b.mbtiles", [(5, 0, 0, b"x")], {"bounds": "east,west", "minzoom": "low"}))
    assert bad.bounds is None and bad.minzoom == 5


def test_a_changed_file_is_read_again(tmp_path):
    path = mbtiles(tmp_path / "c.mbtiles", [(1, 0, 0, b"x")], {"name": "first"})
    assert open_basemap(path).name == "first"
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE metadata SET value = 'second and longer' WHERE name = 'name'")
        connection.execute("INSERT INTO tiles VALUES (1, 1, 0, zeroblob(5000))")
    assert open_basemap(path).name == "second and longer"


@pytest.mark.parametrize("setup, code", [
    (lambda p: p.write_bytes(b"\x00" * 200), "tiles.bad_file"),
    (lambda p: mbtiles(p, [], {}), "tiles.empty"),
    (lambda p: mbtiles(p, [(0, 0, 0, b"x")], {"format": "pbf"}), "tiles.unsupported_format"),
    (lambda p: None, "tiles.missing_file"),
])
def test_unusable_files_are_refused_with_a_code(tmp_path, setup, code):
    path = tmp_path / "x.mbtiles"
    setup(path)
    with pytest.raises(BasemapError) as refused:
        open_basemap(path)
    assert refused.value.code == code and refused.value.status == 503


@pytest.mark.parametrize("raw, shown", [
    ("&copy; OpenStreetMap contributors", "&copy; OpenStreetMap contributors"),
    ('<a href="http://evil.example">Peta</a> BIG', "Peta BIG"),
    ('<img src=x onerror="alert(1)">Dinas', "Dinas"),
    ("<img src=x onerror=alert(1)", ""),
])
def test_basemap_attribution_loses_its_markup(raw, shown):
    from geo.tiles import _plain_text

    assert _plain_text(raw) == shown
