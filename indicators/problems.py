"""Error codes raised by indicators: the indicator set file, entered values, evidence, packages (see app.problems)."""

from __future__ import annotations

from app.problems import N_, AppError, NotFound, Problem, Problems


class IndicatorSetError(AppError):
    """A bad indicator file: a stable code (`indicators.*`), a msgid and where (`location`)."""

    def __init__(self, code: str, message: str, location: str, **params):
        super().__init__(code, message, **params)
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {super().__str__()}"


class EvidenceError(AppError):
    """An evidence file the store refuses (`evidence.*`)."""


INDICATOR_PROBLEMS = Problems(
    Problem("evidence.bad_name", N_("The file name is missing, too long or contains a path."), EvidenceError),
    Problem("evidence.bad_type", N_("%(name)s is not a PDF, a photo (JPEG, PNG, WebP), a spreadsheet or "
                                    "document (xlsx, docx, ods, odt) or a CSV/text file."), EvidenceError),
    Problem("evidence.empty", N_("The file %(name)s is empty."), EvidenceError),
    Problem("evidence.file_missing", N_("An evidence file is missing from this hub: %(sha)s.")),
    Problem("evidence.kabkota_required", N_("Name the kabupaten/kota with --kabkota (%(n)s are loaded).")),
    Problem("evidence.not_found", N_("This evidence file does not exist."), NotFound),
    Problem("evidence.photo_damaged", N_("A stored photo no longer matches its SHA-256: %(sha)s.")),
    Problem("evidence.photo_missing", N_("A photo of an audit is missing from this hub: %(sha)s.")),
    Problem("evidence.too_large", N_("The file %(name)s is larger than %(limit_mb)s MB."), EvidenceError),
    Problem("evidence.too_many", N_("Attach at most 10 files at once.")),
    Problem("indicators.bad_checklist", N_("Bad checklist id %(value)s."), IndicatorSetError),
    Problem("indicators.bad_choice", N_("%(key)s must be one of %(allowed)s."), IndicatorSetError),
    Problem("indicators.bad_counts", N_("Give both the number counted and the total, or neither (percent indicators only).")),
    Problem("indicators.bad_counts/range", N_("The number counted must be between 0 and the total, and the total above 0.")),
    Problem("indicators.bad_encoding", N_("The file is not UTF-8 text."), IndicatorSetError),
    Problem("indicators.bad_file", N_("The file must be a mapping with id, title and indicators."), IndicatorSetError),
    Problem("indicators.bad_id", N_("The set id may have lowercase letters, digits, - and _."), IndicatorSetError),
    Problem("indicators.bad_indicator", N_("An indicator must be a mapping."), IndicatorSetError),
    Problem("indicators.bad_levels", N_("levels lists kabkota and/or kecamatan, each once."), IndicatorSetError),
    Problem("indicators.bad_list", N_("%(key)s must be a list of names."), IndicatorSetError),
    Problem("indicators.bad_number", N_("number must be a whole number from 1 to 99."), IndicatorSetError),
    Problem("indicators.bad_number_value", N_("%(key)s must be a number above 0."), IndicatorSetError),
    Problem("indicators.bad_points", N_("Points are whole numbers from 0 to 1000.")),
    Problem("indicators.bad_points/file", N_("points must be a whole number from 0 to 1000."), IndicatorSetError),
    Problem("indicators.bad_result", N_("A result is memenuhi or belum_memenuhi, not %(value)s."), IndicatorSetError),
    Problem("indicators.bad_target", N_("A percent target is at most 100."), IndicatorSetError),
    Problem("indicators.bad_text", N_("%(key)s needs an Indonesian (id) and an English (en) text."), IndicatorSetError),
    Problem("indicators.bad_value", N_("%(text)s is not a number.")),
    Problem("indicators.bad_yaml", N_("The file is not valid YAML."), IndicatorSetError),
    Problem("indicators.bad_year", N_("The year must be between 2000 and 2100.")),
    Problem("indicators.bad_year/file", N_("applies_from must be a year such as 2022."), IndicatorSetError),
    Problem("indicators.bad_year/not_found", N_("The year must be between 2000 and 2100."), NotFound),
    Problem("indicators.demo_loaded", N_("Indicators are already computed here; the sample audits are not added twice.")),
    Problem("indicators.demo_only", N_("Sample audits are only for a demo installation (PANTAU_DEMO=1, after flask init).")),
    Problem("indicators.duplicate_number", N_("Indicator number %(number)s appears twice."), IndicatorSetError),
    Problem("indicators.filename_mismatch", N_("The set id %(id)s does not match the file name."), IndicatorSetError),
    Problem("indicators.formula_for_entered", N_("An entered indicator has no formula."), IndicatorSetError),
    Problem("indicators.level_not_allowed", N_("This indicator is entered for the kabupaten/kota as a whole.")),
    Problem("indicators.levels_for_facility", N_("A facility-derived indicator is computed at every level; "
                                                 "remove levels."), IndicatorSetError),
    Problem("indicators.missing", N_("%(key)s is missing or empty."), IndicatorSetError),
    Problem("indicators.no_formula", N_("A facility-derived indicator needs a formula."), IndicatorSetError),
    Problem("indicators.no_set", N_("No indicator set applies to %(year)s.")),
    Problem("indicators.no_set/not_found", N_("No indicator set applies to %(year)s."), NotFound),
    Problem("indicators.none", N_("The set has no indicators."), IndicatorSetError),
    Problem("indicators.not_computed", N_("The indicators of this year have not been computed yet."), NotFound),
    Problem("indicators.not_entered", N_("This indicator is computed from approved audits; it cannot be entered.")),
    Problem("indicators.not_whole", N_("%(text)s is not a whole number: counts are written without decimals, for example 1234 "
                                       "or 1.234.")),
    Problem("indicators.note_required", N_("Say where the value comes from: a note is required.")),
    Problem("indicators.note_too_long", N_("A note has at most 2000 characters.")),
    Problem("indicators.points_total", N_("The points add up to %(total)s; they must add up to 1000.")),
    Problem("indicators.points_total/file", N_("The points add up to %(total)s; they must add up to 1000."), IndicatorSetError),
    Problem("indicators.unit_measure", N_("A share is in percent and a count is a count."), IndicatorSetError),
    Problem("indicators.unknown_indicator", N_("There is no indicator %(number)s."), NotFound),
    Problem("indicators.unknown_kind", N_("Unknown facility kind %(value)s."), IndicatorSetError),
    Problem("indicators.unknown_set", N_("There is no indicator set %(set_id)s."), NotFound),
    Problem("indicators.unknown_set/invalid", N_("There is no indicator set %(set_id)s.")),
    Problem("indicators.value_range/count", N_("A count is a whole number, 0 or more.")),
    Problem("indicators.value_range/percent", N_("A percentage is between 0 and 100.")),
    Problem("indicators.value_range/yes_no", N_("Answer 1 for yes or 0 for no.")),
    Problem("indicators.value_required", N_("Enter a value.")),
)
