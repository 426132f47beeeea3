"""The field app's words, by key, rendered into its shell in both languages (static/app/texts.js reads them).

Texts the hub's pages already have (problems, warnings, results, states, kinds) come from their own tables, so a
tablet says exactly what the desktop page says; the rest are the app's own, in the same catalog.
"""

from __future__ import annotations

from functools import lru_cache

from flask_babel import force_locale, get_translations

from app.problems import N_
from survey.audits import messages
from survey.kinds import KINDS

APP_TEXTS = {
    "app.name": N_("Pantau KLA field app"),
    "app.update": N_("A new version of the app is ready. Your drafts and unsent audits are kept."),
    "app.reload": N_("Use the new version"),
    "nav.home": N_("Facilities"),
    "nav.sync": N_("Send"),
    "nav.settings": N_("Settings"),
    "role.auditor": N_("Auditor"),
    "net.down": N_("Cannot reach the hub. Check the connection; everything stays on this tablet and is sent later."),
    "net.timeout": N_("The hub did not answer in time. Everything stays on this tablet; try again later."),
    "net.refused": N_("The hub refused the request (HTTP %(status)s)."),
    "storage.full": N_("This tablet's storage is full: the answer was NOT saved. Free some space (photos, other apps) and try again."),
    "storage.failed": N_("The answer was NOT saved on this tablet: %(error)s"),
    "enroll.title": N_("Enroll this tablet"),
    "enroll.intro": N_("Scan the QR code on the hub's Devices page with the tablet's camera, or type the one-time code shown there."),
    "enroll.code": N_("One-time code"),
    "enroll.name": N_("Name of this tablet"),
    "enroll.name_hint": N_("e.g. Tablet Gugus Tugas 1"),
    "enroll.button": N_("Enroll this tablet"),
    "enroll.working": N_("Enrolling…"),
    "enroll.insecure": N_("This page is not served over HTTPS: the app cannot work offline, take photos or use GPS here. Ask the administrator for the hub's https:// address."),
    "prepare.title": N_("Prepare for the field"),
    "prepare.intro": N_("Enrolled with %(hub)s. Store your kecamatan's facilities, checklists and maps on this tablet to work without a connection."),
    "prepare.button": N_("Prepare for the field"),
    "prepare.again": N_("Prepare again"),
    "prepare.working": N_("Downloading facilities, checklists and maps…"),
    "prepare.ready": N_("Ready offline"),
    "prepare.summary": N_("%(facilities)s facilities, %(checklists)s checklists"),
    "prepare.when": N_("Prepared %(when)s · %(size)s on this tablet"),
    "auditor.title": N_("Who is auditing?"),
    "auditor.intro": N_("Choose your name. The first time on this tablet you sign in with your hub password and choose a PIN; after that the PIN is enough, also offline."),
    "auditor.none": N_("The hub has no auditor account for this kecamatan. Ask an administrator to create one, then prepare again."),
    "auditor.has_pin": N_("Switch in with your PIN"),
    "auditor.first_time": N_("First time on this tablet"),
    "auditor.first_time_hint": N_("Needs the office connection once: your hub password is checked by the hub, never kept on the tablet."),
    "auditor.password": N_("Hub password"),
    "auditor.pin": N_("PIN"),
    "auditor.new_pin": N_("Choose a PIN (4 to 8 digits)"),
    "auditor.new_pin_again": N_("The PIN again"),
    "auditor.pin_rule": N_("A PIN is 4 to 8 digits."),
    "auditor.pin_mismatch": N_("The two PINs differ."),
    "auditor.wrong_pin": N_("Wrong PIN."),
    "auditor.pin_locked": N_("Too many wrong PINs: sign on again with your hub password (needs the office connection)."),
    "auditor.continue": N_("Continue"),
    "auditor.other": N_("Someone else"),
    "auditor.switch": N_("Switch auditor"),
    "home.title": N_("Facilities"),
    "home.search": N_("Search by name, NPSN or address"),
    "home.none": N_("No facility matches."),
    "home.drafts": N_("%(n)s in progress"),
    "home.waiting": N_("%(n)s audits waiting to be sent"),
    "facility.start": N_("Start an audit"),
    "facility.audits": N_("Audits on this tablet"),
    "facility.no_audits": N_("No audit of this facility on this tablet yet."),
    "facility.no_checklist": N_("No checklist applies to this kind of facility."),
    "facility.gone": N_("This facility is not on this tablet."),
    "audit.gone": N_("This audit is not on this tablet."),
    "audit.no_checklist": N_("Checklist missing"),
    "audit.no_checklist_hint": N_("This audit's checklist is not on this tablet. Prepare for the field again."),
    "audit.sections": N_("Sections"),
    "audit.version": N_("version %(v)s"),
    "audit.revision": N_("revision %(n)d"),
    "audit.answered": N_("%(a)d of %(t)d answered"),
    "audit.submit": N_("Check and submit"),
    "audit.submit_confirm": N_("Submit this audit? It cannot be changed afterwards; a correction is a new revision."),
    "audit.incomplete": N_("Not yet: %(n)s items are missing or invalid."),
    "audit.not_draft": N_("This audit was already submitted (perhaps in another tab): nothing was changed."),
    "audit.no_position": N_("Record the audit's position before submitting."),
    "audit.submitted_at": N_("Submitted %(when)s"),
    "audit.returned": N_("Returned for correction"),
    "audit.returned_when": N_("Returned %(when)s"),
    "audit.correct": N_("Make a correction"),
    "audit.correcting": N_("Correcting revision %(n)d, returned by the supervisor"),
    "audit.correcting_hint": N_("Change what the comment asks for, then check and submit this revision."),
    "answer.saving": N_("Saving…"),
    "answer.saved": N_("Saved %(time)s"),
    "answer.kept": N_("Kept as typed, but not counted until it is corrected."),
    "answer.stale": N_("Changed in another tab: this is the newer answer."),
    "photo.saving": N_("Keeping the photo…"),
    "photo.empty": N_("The file is empty."),
    "photo.not_a_picture": N_("This is not a photo (JPEG, PNG or WebP)."),
    "photo.unreadable": N_("The photo could not be read."),
    "photo.too_large": N_("The photo is too large."),
    "photo.alt": N_("Photo %(n)s of %(item)s"),
    "photo.file": N_("File %(n)s"),
    "photo.remove": N_("Remove photo %(n)s"),
    "photo.remove_confirm": N_("Remove this photo from the item?"),
    "repeat.remove": N_("Remove entry %(n)d"),
    "repeat.remove_confirm": N_("Remove entry %(n)d with its answers and photos?"),
    "position.title": N_("Audit position"),
    "position.none": N_("No position recorded yet."),
    "position.take": N_("Take GPS position"),
    "position.searching": N_("Looking for satellites…"),
    "position.live": N_("Accuracy now ± %(m)s m…"),
    "position.kept": N_("Position kept (± %(m)s m)."),
    "position.failed": N_("No GPS position. Move into the open and try again, or type the coordinates."),
    "position.denied": N_("The tablet does not allow this app to use GPS. Allow location for the app in the browser's settings."),
    "position.unavailable": N_("This tablet has no GPS."),
    "position.manual": N_("No GPS? Set the position by hand"),
    "position.manual_hint": N_("Tap the map where the facility is, or type the coordinates. The audit records that the position was set by hand."),
    "position.map": N_("Map of the kecamatan: tap to set the position"),
    "position.registered": N_("Registered location"),
    "position.chosen": N_("Chosen position"),
    "position.no_map": N_("The map could not be shown on this tablet; type the coordinates."),
    "position.lat": N_("Latitude"),
    "position.lon": N_("Longitude"),
    "position.save": N_("Save this position"),
    "position.far_outside": N_("This position is %(km)d km from kecamatan %(name)s: it cannot be where the facility is. "
                               "Check the coordinates (south of the equator the latitude is negative, e.g. -6.12)."),
    "position.confirm_outside": N_("This position is %(km)s km outside kecamatan %(name)s. Is it right?"),
    "position.confirm": N_("Save anyway: the position is right"),
    "position.bad": N_("Enter a latitude between -90 and 90 and a longitude between -180 and 180, e.g. -6.1201 and 106.1503."),
    "result.none": N_("No scored items"),
    "choices.none": N_("No option applies given the answers so far."),
    "status.draft": N_("Draft"),
    "status.submitted": N_("Submitted"),
    "sync.title": N_("Send to the hub"),
    "sync.nothing": N_("Everything is sent."),
    "sync.waiting": N_("%(n)s audits with %(photos)s photos waiting to be sent."),
    "sync.now": N_("Send now"),
    "sync.working": N_("Sending…"),
    "sync.progress": N_("Sent %(done)s of %(total)s…"),
    "sync.last_ok": N_("Last sent %(when)s."),
    "sync.last_failed": N_("Not sent (%(when)s): %(message)s"),
    "sync.restart": N_("The hub has more changes from this tablet than the tablet itself: its data may have been cleared. Tell the supervisor."),
    "sync.audits": N_("Submitted audits"),
    "sync.photo_lost": N_("A photo of an unsent audit (%(sha)s) is no longer on this tablet and the hub does not have it: tell the supervisor."),
    "sync.no_audits": N_("No audit submitted on this tablet yet."),
    "export.title": N_("No connection to the hub?"),
    "export.intro": N_("Save the unsent audits as one signed file, then bring it to the office on a USB stick or send it through a chat app. The supervisor imports it on the hub's Devices page."),
    "export.button": N_("Export unsent"),
    "export.last": N_("Last exported %(when)s (%(n)s changes)."),
    "settings.title": N_("Settings"),
    "settings.storage": N_("Storage"),
    "settings.persisted": N_("Storage is persistent: the browser will not clear this app's data when space runs low."),
    "settings.not_persisted": N_("Storage is not persistent: the browser may clear this app's data when space runs low. Send often, or allow persistent storage."),
    "settings.persist": N_("Ask for persistent storage"),
    "clock.skew": N_("The tablet's clock says %(tablet)s, the hub's %(hub)s. Set the tablet's date and time "
                     "(Android Settings, Date & time) so audits carry the right time."),
    "settings.usage": N_("%(used)s used of %(quota)s available."),
    "settings.device": N_("This tablet"),
    "settings.device_line": N_("%(name)s, enrolled with %(hub)s"),
    "settings.scope": N_("Kecamatan"),
}


def _tables() -> dict[str, str]:
    """Every key the app may show: its own texts and the hub's tables, by prefix."""
    texts = dict(APP_TEXTS)
    texts.update({f"problem.{code}": text for code, text in messages.PROBLEMS.items()})
    texts.update({f"warning.{code}": text for code, text in messages.WARNINGS.items()})
    texts.update({f"result.{code}": text for code, text in messages.RESULTS.items()})
    texts.update({f"source.{code}": text for code, text in messages.SOURCES.items()})
    texts.update({f"sync_state.{code}": text for code, text in messages.SYNC_STATES.items()})
    texts.update({f"kind.{kind.code}": kind.short for kind in KINDS})
    return texts


@lru_cache(maxsize=1)
def app_texts(locales: tuple[str, ...] = ("id", "en")) -> dict[str, dict[str, str]]:
    """{locale: {key: text}}, untranslated %(name)s parameters kept for the app to fill in (once per process: the
    catalog is compiled before the app starts; the shell and the worker's version read it on every request)."""
    tables = _tables()
    result = {}
    for locale in locales:
        with force_locale(locale):
            translations = get_translations()
            result[locale] = {key: translations.ugettext(text) for key, text in tables.items()}
    return result
