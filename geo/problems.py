"""Error codes raised by geo: wilayah, boundaries, coordinates, the basemap."""

from __future__ import annotations

from app.problems import N_, AppError, NotFound, Problem, Problems


class BasemapError(AppError):
    """The configured MBTiles file cannot be used."""

    status = 503


GEO_PROBLEMS = Problems(
    Problem("export.bad_result", N_("Unknown result %(result)s; use memenuhi, belum_memenuhi or none.")),
    Problem("geo.bad_coordinates", N_("The position is not a valid latitude and longitude.")),
    Problem("geo.bad_coordinates/range", N_("Latitude must be between -90 and 90 and longitude between -180 and 180.")),
    Problem("geo.bad_crs", N_("Read in the coordinate reference system %(crs)s, the boundaries lie outside Indonesia "
                              "(%(bounds)s): the file's coordinate reference system is wrong or missing.")),
    Problem("geo.duplicate_code", N_("These codes appear in more than one feature: %(codes)s. Each region must be one feature "
                                     "(a MultiPolygon when it has several parts).")),
    Problem("geo.empty", N_("The file %(file)s holds no features.")),
    Problem("geo.missing_field", N_("The file has no field %(column)s. Its fields: %(available)s.")),
    Problem("geo.missing_name", N_("These features have no name in field %(column)s: %(codes)s.")),
    Problem("geo.no_boundaries", N_("No kecamatan or desa/kelurahan boundaries are loaded: import them with flask geo import.")),
    Problem("geo.no_crs", N_("The file %(file)s does not say its coordinate reference system (a Shapefile without its .prj?) "
                             "and its coordinates (%(bounds)s) are not longitude/latitude.")),
    Problem("geo.not_polygons", N_("Boundaries must be polygons. These features are not (%(kinds)s): %(features)s.")),
    Problem("geo.outside_indonesia", N_("This position is outside Indonesia. Check that latitude and longitude are not "
                                        "swapped.")),
    Problem("geo.parent_mismatch", N_("Field %(column)s disagrees with the region codes, which already name their parent: "
                                      "%(codes)s.")),
    Problem("geo.unknown_layer", N_("There is no layer %(layer)s in %(file)s. Layers: %(available)s.")),
    Problem("geo.unknown_parent", N_("These regions above the file's features are neither loaded nor named in the file: "
                                     "%(codes)s. Import the level above first, or use a file with their names.")),
    Problem("geo.unreadable", N_("Cannot read %(file)s: %(reason)s")),
    Problem("geo.unreadable/missing", N_("There is no file %(file)s.")),
    Problem("geo.unreadable/no_shapefile", N_("The zip file %(file)s holds no Shapefile (.shp).")),
    Problem("geo.unreadable/type", N_("Unknown boundary file type %(suffix)s: use GeoJSON (.geojson), a Shapefile (.shp, or "
                                      ".zip holding one) or a GeoPackage (.gpkg).")),
    Problem("geo.unsafe_zip", N_("The zip file %(file)s has an unsafe member %(member)s (a path leaving the folder, or a "
                                 "link): it is refused.")),
    Problem("geo.unsafe_zip/too_large", N_("The zip file %(file)s unpacks to more than 2 GB: it is refused.")),
    Problem("geo.wrong_level", N_("This file holds %(found)s codes (field %(column)s), not %(level)s codes: import it with "
                                  "--level %(found)s.")),
    Problem("geo.wrong_level/codes", N_("Field %(column)s must hold Kemendagri %(level)s codes, like %(example)s. These are "
                                        "not: %(codes)s.")),
    Problem("tiles.bad_file", N_("The basemap file %(path)s is not an MBTiles file (not a SQLite database)."), BasemapError),
    Problem("tiles.bad_file/no_tables", N_("The basemap file %(path)s is not an MBTiles file: it has no "
                                           "metadata and tiles tables."), BasemapError),
    Problem("tiles.empty", N_("The basemap file %(path)s holds no tiles."), BasemapError),
    Problem("tiles.missing_file", N_("The basemap file %(path)s does not exist (setting PANTAU_MBTILES)."), BasemapError),
    Problem("tiles.unsupported_format", N_("The basemap file %(path)s holds %(format)s tiles; only raster tiles "
                                           "(png, jpg, webp) can be shown."), BasemapError),
    Problem("wilayah.not_found", N_("This region is not loaded on this device."), NotFound),
    Problem("wilayah.not_found/cli", N_("This region is not loaded on this device.")),
    Problem("wilayah.unknown_kecamatan", N_("Unknown kecamatan code: %(codes)s.")),
    Problem("wilayah.unknown_kecamatan/not_found", N_("Unknown kecamatan code: %(codes)s."), NotFound),
)
