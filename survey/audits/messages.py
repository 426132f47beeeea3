"""What an answer's problem code means to the auditor (translated where shown)."""

from app.problems import N_

PROBLEMS = {
    "answer.not_a_choice": N_("Choose one of the options."),
    "answer.na_not_allowed": N_("\"Not applicable\" is not allowed for this item."),
    "answer.not_integer": N_("Enter a whole number."),
    "answer.not_number": N_("Enter a number, for example 12 or 3,5."),
    "answer.below_min": N_("The number is below the lowest allowed value (%(min)s)."),
    "answer.above_max": N_("The number is above the highest allowed value (%(max)s)."),
    "answer.not_a_list": N_("Choose one or more of the options."),
    "answer.duplicate": N_("An option was chosen twice."),
    "answer.not_text": N_("Enter text."),
    "answer.too_long": N_("The answer is too long."),
    "answer.not_a_date": N_("Enter a date."),
    "answer.bad_photo": N_("The photo could not be read."),
    "answer.bad_gps": N_("The position is not valid."),
    "answer.required": N_("This item must be answered."),
    "answer.not_a_time": N_("Enter a time of day, for example 14:30."),
    "answer.not_a_datetime": N_("Enter a date and a time."),
    "answer.not_answerable": N_("This question takes no answer."),
}

WARNINGS = {
    "gps.poor_accuracy": N_("GPS accuracy is worse than %(m)s m. Move into the open and take the position again."),
    "gps.no_accuracy": N_("The device gave no accuracy for this position."),
    "gps.outside_kecamatan": N_("This position is outside the facility's kecamatan."),
    "gps.far_from_facility": N_("This position is more than %(m)s m from the facility's registered location."),
}

RESULTS = {"memenuhi": N_("Meets the standard"), "belum_memenuhi": N_("Does not yet meet the standard")}
ANSWER_LABELS = {"ya": N_("Yes"), "tidak": N_("No"), "sebagian": N_("Partly"), "tidak_berlaku": N_("Not applicable")}
SOURCES = {"gps": N_("device GPS"), "manual": N_("typed by hand"), "map": N_("set on the map")}
STATUSES = {"draft": N_("Draft"), "submitted": N_("Submitted")}
REVIEWS = {"approved": N_("Approved"), "returned": N_("Returned"), "rejected": N_("Rejected")}
SYNC_STATES = {"draft": N_("Draft"), "waiting": N_("Waiting to be sent"), "sent": N_("Sent"),
               "received": N_("Waiting for review"), "approved": N_("Approved"),
               "returned": N_("Returned"), "rejected": N_("Rejected")}
CONFLICTS = {"audit": N_("Audit"), "facility": N_("Facility"), "user": N_("User"), "checklist": N_("Checklist")}
