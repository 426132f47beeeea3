"""Error codes raised by survey: facilities, audits and their photos (one entry per code, see app.problems)."""

from __future__ import annotations

from app.problems import N_, AppError, Conflict, Forbidden, NotFound, Problem, Problems


class PhotoError(AppError):
    """A photo the store refuses, with a stable code (`photo.*`) and a translatable message."""


class StaleAnswer(Conflict):
    """A save based on an older version of the answer than the stored one (another tab changed it)."""


SURVEY_PROBLEMS = Problems(
    Problem("answer.bad_version", N_("This page is out of date. Reload it and answer again.")),
    Problem("answer.stale", N_("Another tab or window changed this answer meanwhile. It now shows the newer "
                               "value: check it, and answer again if it is not right."), StaleAnswer),
    Problem("audit.answer_too_long", N_("An answer has at most 10,000 characters.")),
    Problem("audit.checklist_not_for_kind", N_("This checklist is not for this kind of facility.")),
    Problem("audit.incomplete", N_("The audit cannot be submitted yet: %(n)d items need attention.")),
    Problem("audit.no_checklist", N_("Choose at least one checklist.")),
    Problem("audit.no_position", N_("Record the audit's position before submitting.")),
    Problem("audit.not_found", N_("This audit does not exist."), NotFound),
    Problem("audit.not_submitted", N_("Only a submitted audit can be corrected."), Conflict),
    Problem("audit.not_yours", N_("Only the auditor who started this audit can change it."), Forbidden),
    Problem("audit.not_yours/correct", N_("Only the auditor who made this audit can correct it."), Forbidden),
    Problem("audit.not_yours/draft", N_("Only the auditor who started this audit can open the draft."), Forbidden),
    Problem("audit.note_too_long", N_("A note has at most 2000 characters.")),
    Problem("audit.photo_by_upload", N_("Add photos with the camera button.")),
    Problem("audit.read_only", N_("This audit was already submitted and can no longer change. Reload the page to "
                                  "see it; to change it, make a correction."), Conflict),
    Problem("audit.revision_open", N_("A correction of this audit is already in progress."), Conflict),
    Problem("audit.unknown_item", N_("This question is not in the checklist."), NotFound),
    Problem("audit.no_such_instance", N_("This entry of the list no longer exists: reload the page."), NotFound),
    Problem("audit.not_answerable", N_("This question is filled in by the form itself and takes no answer.")),
    Problem("audit.not_answerable/hidden", N_("This part of the form does not apply given the answers so far.")),
    Problem("audit.not_a_repeat", N_("Entries can only be added to a repeated part of the form.")),
    Problem("audit.counted_repeat", N_("The number of entries here follows another answer; change that answer.")),
    Problem("audit.too_many_instances", N_("At most %(n)d entries can be added here.")),
    Problem("facility.bad_kind", N_("Unknown facility kind.")),
    Problem("facility.bad_name", N_("A facility name has 3 to 160 characters.")),
    Problem("facility.bad_npsn", N_("An NPSN has exactly 8 digits.")),
    Problem("facility.bad_status", N_("Unknown facility status.")),
    Problem("facility.duplicate_official_id", N_("Another facility already has the official id %(id)s."), Conflict),
    Problem("facility.not_found", N_("This facility does not exist or is outside your kecamatan."), NotFound),
    Problem("facility.outside_device", N_("This device syncs only the kecamatan it was enrolled for; register this "
                                          "facility on a device of that kecamatan."), Forbidden),
    Problem("facility.outside_scope", N_("You can only register facilities in your own kecamatan."), Forbidden),
    Problem("facility.partial_position", N_("Give both latitude and longitude, or neither.")),
    Problem("facility.verify_on_hub", N_("Facilities are confirmed on the hub, where the supervisor sees every "
                                         "registration. Sync this device first."), Conflict),
    Problem("gps.bad_accuracy", N_("The accuracy must be a distance in metres.")),
    Problem("gps.bad_source", N_("Unknown position source.")),
    Problem("gps.confirm_outside", N_("This position is %(km)s km outside kecamatan %(name)s. Is it right?"), status=409),
    Problem("gps.far_outside", N_("This position is %(km)d km from kecamatan %(name)s: it cannot be where the facility is. "
                                  "Check the coordinates (south of the equator the latitude is negative, e.g. -6.12).")),
    Problem("file.empty", N_("The file is empty. Record or choose it again."), PhotoError),
    Problem("file.not_audio", N_("This file is not a recording. Choose an audio file (MP3, M4A, WAV, OGG, AMR)."),
            PhotoError),
    Problem("file.not_video", N_("This file is not a video. Choose an MP4, MOV, 3GP or WebM video."), PhotoError),
    Problem("file.not_osm", N_("This file is not OpenStreetMap data (.osm)."), PhotoError),
    Problem("file.unknown_kind", N_("This kind of file is not accepted. Choose a recording, a video, a PDF, a ZIP "
                                    "or an OpenStreetMap file."), PhotoError),
    Problem("photo.corrupt", N_("This photo is damaged or incomplete. Take it again or choose another file."), PhotoError),
    Problem("photo.empty", N_("The photo file is empty. Take the photo again."), PhotoError),
    Problem("photo.empty/not_chosen", N_("Choose or take a photo first.")),
    Problem("photo.hash_mismatch", N_("The photo arrived damaged (its checksum does not match). Send it again."), PhotoError),
    Problem("photo.not_an_image", N_("This file is not a photo. Choose a JPEG, PNG or WebP picture."), PhotoError),
    Problem("photo.too_large", N_("This photo is %(size_mb)s MB; the limit is %(limit_mb)s MB."), PhotoError, status=413),
    Problem("photo.too_many_pixels", N_("This picture is too large to process (more than %(limit_mp)s megapixels)."), PhotoError),
    Problem("photo.unsupported_format", N_("%(format)s files are not supported here. Choose a JPEG, PNG or WebP "
                                           "picture."), PhotoError),
    Problem("wilayah.desa_not_in_kecamatan", N_("Desa/kelurahan %(code)s is not in kecamatan %(kecamatan)s.")),
    Problem("catalog.no_form", N_("Choose an XLSForm workbook (.xlsx or .xls) to upload.")),
    Problem("catalog.bad_attachment", N_("%(name)s is not a CSV file: attach only the CSV files the form names.")),
    Problem("catalog.not_found", N_("This checklist version is not in the catalog."), NotFound),
    Problem("catalog.not_draft", N_("This version was already published."), Conflict),
    Problem("catalog.not_published", N_("Only a published version can be retired."), Conflict),
)
