"""Error codes raised by the map pages, the basemap tiles route and the exports."""

from __future__ import annotations

from app.problems import N_, Forbidden, NotFound, Problem, Problems

MAP_PROBLEMS = Problems(
    Problem("auth.no_kecamatan", N_("No kecamatan is assigned to your account yet. Ask the admin to assign yours."), Forbidden),
    Problem("export.bad_format", N_("Unknown export format %(format)s; use one of %(formats)s.")),
    Problem("export.bad_kind", N_("Unknown facility kind %(kind)s; use one of %(kinds)s.")),
    Problem("export.bad_out", N_("The folder %(folder)s does not exist.")),
    Problem("export.bad_what", N_("Export facilities or audits, not %(what)s.")),
    Problem("export.bad_year", N_("The year must be between %(first)s and %(last)s.")),
    Problem("export.gpkg_unavailable", N_("GeoPackage export needs the GIS libraries, which this installation does not have. "
                                          "Choose GeoJSON, CSV or Excel.")),
    Problem("export.unknown_region", N_("Unknown kecamatan or kabupaten/kota code: %(region)s.")),
    Problem("map.outside_scope", N_("Auditors see the map of their own kecamatan only."), Forbidden),
    Problem("tiles.missing", N_("This basemap has no tile here."), NotFound),
    Problem("tiles.not_configured", N_("No basemap is configured on this installation."), NotFound),
    Problem("wilayah.no_boundary", N_("No boundary is loaded for this region."), NotFound),
    Problem("wilayah.no_layer", N_("There is no such map layer."), NotFound),
)
