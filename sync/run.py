"""Running a sync from a device (CLI or the Sync button): enroll, push, pull. Each batch commits alone,
so an interruption keeps every batch already acknowledged and the next run resumes after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from app.cli_support import write_transaction
from app.db import utcnow
from app.node import self_device
from app.problems import N_
from survey.photos import PhotoStore
from sync import service
from sync.client import Hub
from sync.problems import SYNC_PROBLEMS, SyncError


@dataclass
class Summary:
    """What a sync did, for the CLI and the device's sync panel."""

    pushed: int = 0
    photos: int = 0
    pulled: int = 0
    applied: int = 0
    conflicts: int = 0
    recovered: int = 0  # own changes the hub gave back after a restore from an older backup
    notes: list[str] = field(default_factory=list)  # what the user should know (catalog texts: N_)


def photo_store() -> PhotoStore:
    return PhotoStore(Path(current_app.config["DATA_DIR"]) / "photos")


def enroll(url: str, code: str) -> dict:
    """Exchange a one-time code with the hub and keep the credentials, under the id the hub minted.

    Refused here, before the code is spent, when this node's changes already reached a hub under
    its current id (sync.service.identity_spent).
    """
    with write_transaction() as session:
        service.check_may_enroll(session)
        me_name = self_device(session).name
    answer = Hub(url).call("POST", "/api/v1/sync/enroll", {"code": code, "name": me_name})
    if not isinstance(answer, dict) or not {"device_id", "token", "device_key", "hub_id"} <= set(answer):
        raise SYNC_PROBLEMS("sync.bad_answer")
    with write_transaction() as session:
        service.save_enrollment(session, url, answer)
    return answer


def _hub(url: str | None) -> tuple[Hub, object]:
    with write_transaction() as session:
        peer = service._require_peer(session)
        if url:
            peer.url = url.rstrip("/")
        return Hub(peer.url, peer.token), peer.hub_id


def push(url: str | None = None, summary: Summary | None = None) -> Summary:
    """Send every change the hub has not acknowledged, photos first, in batches."""
    summary = summary or Summary()
    hub, hub_id = _hub(url)
    store = photo_store()
    while True:
        with write_transaction() as session:
            peer = service.peer(session)
            after = peer.pushed_seq
            entries, up_to = service.outgoing(session, hub_id, after, service.PAGE)
        if up_to == after:
            return summary
        wanted = sorted(service.photos_of(entries))
        if wanted:
            missing = hub.call("POST", "/api/v1/sync/photos/missing", {"sha256": wanted}).get("missing", [])
            for sha in missing:
                hub.call("PUT", f"/api/v1/sync/photos/{sha}", store.open_bytes(sha), "application/octet-stream")
            summary.photos += len(missing)
        try:
            ack = hub.call("POST", "/api/v1/sync/push", {"after": after, "up_to": up_to, "entries": [
                {"local_seq": seq, "change": change.to_dict()} for seq, change in entries]})
        except SyncError as error:
            if error.code != "sync.gap":
                _remember_error(error)
                raise
            ack = {"acked_seq": hub.call("GET", "/api/v1/sync/status")["acked_seq"], "conflicts": 0}
        with write_transaction() as session:
            peer = service.peer(session)
            peer.pushed_seq, peer.last_error = int(ack["acked_seq"]), None
            peer.last_sync_at = utcnow()
        summary.pushed += len(entries)
        summary.conflicts += int(ack.get("conflicts", 0))


def pull(url: str | None = None, summary: Summary | None = None) -> Summary:
    """Fetch and apply the hub's changes for this device, page by page."""
    summary = summary or Summary()
    hub, _ = _hub(url)
    store = photo_store()
    while True:
        with write_transaction() as session:
            cursor = service.peer(session).pull_cursor
        page = hub.call("GET", f"/api/v1/sync/pull?cursor={cursor}&limit={service.PAGE}")
        entries = service.parse_entries(page.get("entries"), "pull")
        with write_transaction() as session:
            result = service.receive_pull(session, service.peer(session), entries, int(page["cursor"]), store)
        summary.pulled += len(entries)
        summary.applied += result.applied
        if not page.get("more"):
            return summary


def recover(url: str | None = None, summary: Summary | None = None) -> Summary:
    """After a restore from an older backup: take back from the hub this node's own changes it sent after the
    backup (with their photos), before pulling, so a review of one of those audits finds it. Resumable: each
    page commits with how far it got; done once the hub has no more of the lost numbers."""
    summary = summary or Summary()
    with write_transaction() as session:
        lost = service.lost_window(session)
    if lost is None:
        return summary
    hub, _ = _hub(url)
    store = photo_store()
    after, before = lost
    while True:
        try:
            page = hub.call("GET", f"/api/v1/sync/own?after={after}&limit={service.PAGE}")
        except SyncError as error:
            if error.code not in ("request.not_found", "http.404"):
                raise
            # A hub from before this request cannot give anything back: sync on as before, and say so once.
            with write_transaction() as session:
                service.lost_recovered(session, None)
            summary.notes.append(N_("This hub cannot give back what this device made after its backup (the hub runs an "
                                    "older version). Those audits stay on the hub; sync goes on as usual."))
            return summary
        entries = service.parse_entries(page.get("entries"), "own")
        for sha in sorted(service.photos_of(entries)):  # photos first: an audit is applied only with its photos
            with write_transaction() as session:
                if not service.has_photo(session, store, sha):
                    service.store_photo(session, store, sha, hub.fetch(f"/api/v1/sync/photos/{sha}"),
                                        current_app.config["MAX_CONTENT_LENGTH"])
                    summary.photos += 1
        last = max((change.origin_seq for _, change in entries), default=before)
        with write_transaction() as session:
            result = service.receive_own(session, service.peer(session), entries, lost, store)
            done = not page.get("more") or last >= before
            service.lost_recovered(session, None if done else last)
        summary.recovered += result.applied
        summary.pulled += len(entries)
        summary.applied += result.applied
        if done:
            return summary
        after = last


def now(url: str | None = None) -> Summary:
    """Push, take back what a restore lost, then pull; a failure of any is remembered for the device's sync page."""
    try:
        summary = pull(url, recover(url, push(url)))
    except SyncError as error:
        _remember_error(error)
        raise
    with write_transaction() as session:
        service.peer(session).last_error = None
    return summary


def _remember_error(error: SyncError) -> None:
    """Keep the stable code and the technical detail; the page says it in words (sync.client.last_problem)."""
    with write_transaction() as session:
        peer = service.peer(session)
        if peer is not None:
            peer.last_error = f"{error.code} {error.params.get('detail', '')}".strip()[:300]
