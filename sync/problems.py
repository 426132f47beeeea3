"""Error codes raised by sync: the API, bundles, enrollment, trust, conflicts (one entry per code, see app.problems)."""

from __future__ import annotations

from app.problems import N_, AppError, Conflict, Forbidden, NotFound, Problem, Problems


class SyncError(AppError):
    """A batch, request or bundle that is refused as a whole; nothing of it is applied."""


SYNC_PROBLEMS = Problems(
    Problem("bundle.bad_manifest", N_("The bundle's manifest is not a Pantau KLA manifest."), SyncError),
    Problem("bundle.bad_manifest/invalid", N_("The bundle's manifest is not valid at %(where)s."), SyncError),
    Problem("bundle.bad_manifest/json", N_("The bundle's manifest is not valid JSON."), SyncError),
    Problem("bundle.bad_manifest/missing", N_("The bundle has no manifest."), SyncError),
    Problem("bundle.bad_signature", N_("The bundle is not signed with this device's key."), SyncError),
    Problem("bundle.empty", N_("The file %(name)s is empty. Choose the bundle (.zip) again.")),
    Problem("bundle.encrypted", N_("%(name)s in the bundle is encrypted; bundles are never encrypted."), SyncError),
    Problem("bundle.member_mismatch", N_("The bundle's files differ from its manifest."), SyncError),
    Problem("bundle.member_mismatch/damaged", N_("%(name)s in the bundle was changed or damaged."), SyncError),
    Problem("bundle.member_mismatch/twice", N_("The bundle lists %(name)s twice."), SyncError),
    Problem("bundle.member_mismatch/unexpected", N_("The bundle holds an unexpected file: %(name)s."), SyncError),
    Problem("bundle.member_too_large", N_("%(name)s in the bundle is larger than allowed."), SyncError),
    Problem("bundle.none", N_("Choose a bundle file first.")),
    Problem("bundle.replay", N_("This return bundle is older than what this device already has."), SyncError),
    Problem("bundle.schema_version", N_("This bundle has schema version %(version)s; this app reads version "
                                        "%(ours)s."), SyncError),
    Problem("bundle.too_large", N_("The bundle unpacks to more than is allowed (a zip bomb?)."), SyncError),
    Problem("bundle.unreadable", N_("This file is not a readable bundle (damaged or incomplete?)."), SyncError),
    Problem("bundle.unsafe_path", N_("The bundle holds an unsafe file path: %(name)s."), SyncError),
    Problem("bundle.unsupported_compression", N_("%(name)s in the bundle is compressed in a way this app does not "
                                                 "read."), SyncError),
    Problem("bundle.wrong_hub", N_("This bundle was made for another hub."), SyncError),
    Problem("bundle.wrong_hub/device_or_hub", N_("This bundle was made for another device or hub."), SyncError),
    Problem("conflict.already_revised", N_("This audit has been corrected since: compare the versions with the "
                                           "correction and resolve with a note."), Conflict),
    Problem("conflict.bad_choice", N_("Choose one of the versions.")),
    Problem("conflict.not_found", N_("This conflict does not exist."), NotFound),
    Problem("conflict.resolved", N_("This conflict is already resolved."), Conflict),
    Problem("conflict.unknown_auditor", N_("The auditor of the other version is not known on this hub.")),
    Problem("device.bad_name", N_("A device name has 2 to 80 characters."), SyncError),
    Problem("device.bad_role", N_("A device is a field device or a lower hub."), SyncError),
    Problem("device.no_scope", N_("Choose at least one kecamatan for the device.")),
    Problem("device.not_found", N_("This device does not exist."), NotFound),
    Problem("device.role_forbidden", N_("Only an admin can register a lower hub."), Forbidden),
    # The field app's API (fieldapp.api): the app is a device of this protocol, so its refusals are sync's.
    Problem("field.bad_auditor", N_("Wrong username or password, or the account is not an active auditor of "
                                     "this device's kecamatan."), SyncError, status=403),
    Problem("field.not_a_field_device", N_("Only a field device can use the field app's API."), SyncError,
            status=403),
    Problem("photo.hash_mismatch/bundle", N_("A photo in the bundle does not match its name (%(sha)s)."), SyncError),
    Problem("review.bad_decision", N_("Unknown review decision.")),
    Problem("review.comment_required", N_("Say what must change: a returned or rejected audit needs a comment.")),
    Problem("review.comment_too_long", N_("A comment has at most 2000 characters.")),
    Problem("review.decision_required", N_("Choose a decision: approve, return for correction, or reject.")),
    Problem("review.not_submitted", N_("Only submitted audits can be reviewed."), Conflict),
    Problem("sync.bad_answer", N_("The hub sent an answer this app cannot read."), SyncError),
    Problem("sync.bad_auditor", N_("The auditor %(name)s of an audit is not an active auditor of "
                                   "kecamatan %(kecamatan)s."), SyncError, status=403),
    Problem("sync.bad_change", N_("A change in %(where)s is malformed."), SyncError),
    Problem("sync.bad_checklist", N_("The checklist in %(where)s is not valid, or its key or sha256 does not match "
                                     "its content."), SyncError),
    Problem("sync.bad_code", N_("This enrollment code is wrong or has expired. Ask the supervisor for "
                                "a new one."), SyncError, status=401),
    Problem("sync.bad_code/missing", N_("Enter the enrollment code the supervisor gave you.")),
    Problem("sync.bad_encoding", N_("The request body uses an encoding this hub does not read "
                                    "(%(encoding)s)."), SyncError, status=415),
    Problem("sync.bad_request", N_("The request body is not valid at %(where)s."), SyncError, status=400),
    Problem("sync.bad_request/gzip", N_("The request body is not valid gzip."), SyncError, status=400),
    Problem("sync.bad_request/json", N_("The request body is not valid JSON."), SyncError, status=400),
    Problem("sync.bad_request/query", N_("The query is not valid at %(where)s."), SyncError, status=400),
    Problem("sync.bad_url", N_("Enter the hub's address, starting with http:// or https://.")),
    Problem("sync.clock_ahead", N_("A change is dated more than %(hours)d hours ahead of this node's clock "
                                   "(%(hlc)s). Check the sending device's date and time."), SyncError),
    Problem("sync.field_not_allowed", N_("This device may not set these facility fields: %(fields)s."), SyncError, status=403),
    Problem("sync.gap", N_("The device skipped changes the hub has not received; it must resend from "
                           "%(seq)d."), SyncError, status=409),
    Problem("sync.identity_spent", N_("This device has already sent its work to a hub under its "
                                      "current identity, so it cannot be enrolled again. Keep syncing "
                                      "with that hub, or set the device up anew."), SyncError, status=409),
    Problem("sync.identity_spent/id_taken", N_("The hub gave this device an id that is already used "
                                               "here."), SyncError, status=409),
    Problem("sync.not_allowed", N_("A field device cannot send %(kinds)s changes."), SyncError, status=403),
    Problem("sync.not_allowed/role", N_("A lower hub cannot send accounts with the role %(role)s."), SyncError, status=403),
    Problem("sync.not_enrolled", N_("This device is not enrolled with a hub yet."), SyncError, status=409),
    Problem("sync.out_of_scope", N_("This device may not send changes about kecamatan %(kecamatan)s, "
                                    "which is outside its scope."), SyncError, status=403),
    Problem("sync.photo_missing", N_("A photo of an audit has not arrived: %(sha)s."), SyncError),
    Problem("sync.photo_unknown", N_("The hub holds no photo %(sha256)s of this device's own audits."), SyncError,
            status=404),
    Problem("sync.photo_missing/other_version", N_("A photo of the other version is not on this hub: %(sha)s")),
    Problem("sync.revoked_device", N_("This device was revoked on the hub."), SyncError, status=403),
    Problem("sync.seq_reused", N_("Two different changes carry the same number %(key)s."), SyncError),
    Problem("sync.too_large", N_("The request is too large."), SyncError, status=413),
    Problem("sync.too_many_waiting", N_("This device would have %(count)d changes waiting for records the hub does "
                                        "not have (at most %(limit)d). Sync the device that registered them first."), SyncError),
    Problem("sync.unauthorized", N_("This device is not enrolled with this hub."), SyncError, status=401),
    Problem("sync.unknown_checklist", N_("Audits use a checklist version this hub does not have: %(keys)s."), SyncError),
    Problem("sync.bad_address", N_("An audit answers %(address)s, which checklist %(key)s does not have."), SyncError),
    Problem("sync.unknown_checklist/other_version", N_("The checklist version of the other version is not on this hub.")),
    Problem("sync.unknown_device", N_("This bundle comes from a device this hub does not know."), SyncError, status=403),
    Problem("sync.wrong_origin", N_("A change claims to come from %(origin)s, which this sender may "
                                    "not speak for."), SyncError, status=403),
)
