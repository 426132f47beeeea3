"""Who may send what: the rules a receiver applies to every new change of a batch, after its shape. Pure.

A batch comes from a *sender*: a field device or a lower hub registered here (a push or a bundle),
or the upper hub this node enrolled with (a pull or a return bundle). docs/sync.md, "Enrollment and
scope", states the rules; each refusal refuses the whole batch with a stable code. The facts the rules
need (devices, facilities, accounts) are read by `sync.queries.trust_facts` and passed in as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.auth.scope import NAMED_AUDITORS
from sync import hlc as clock
from sync.changes import Change
from sync.problems import SYNC_PROBLEMS, SyncError

# Every synced facility field (survey.facilities.models.FACILITY_FIELDS, which imports the models; a test holds them
# equal): nothing else can be set on a facility by anyone, hubs included.
FACILITY_FIELDS = frozenset(("kind", "name", "official_id", "address", "lat", "lon", "kecamatan_code", "desa_code",
                             "status", "verified"))
# What a field device may send; regions, accounts and review decisions are made on hubs.
FIELD_KINDS = frozenset({"audit", "facility", "checklist"})
# The facility fields a field device may set: everything a supervisor may correct on a tablet, but never
# `verified` = true (verification is the hub's). A rule stricter than the field app's own forms would
# refuse the device's whole outbox at every sync, so the two are kept equal (tests/test_hostile_identity.py).
FIELD_EDITABLE = frozenset({"kind", "name", "official_id", "address", "lat", "lon", "desa_code", "kecamatan_code",
                            "status"})
# A sending device may leave at most this many changes waiting for a dependency (docs/sync.md, rule 5).
MAX_WAITING = 1000


@dataclass(frozen=True)
class Sender:
    """Who delivered a batch: role "field" or "hub" (registered here), or "upper" (the hub we enrolled with)."""

    id: str
    role: str
    scope: frozenset = frozenset()


@dataclass(frozen=True)
class Account:
    """What the rules need of a user account."""

    role: str
    active: bool
    kecamatan: frozenset


@dataclass
class Facts:
    """What the receiver holds that the rules look at, read once per batch."""

    receiver_id: str
    now_ms: int
    parents: dict = field(default_factory=dict)  # device id -> parent id or None, for known devices
    facility_kecamatan: dict = field(default_factory=dict)  # facility id -> kecamatan code (held here)
    facility_exists: set = field(default_factory=set)  # facility ids with a row here
    accounts: dict = field(default_factory=dict)  # username -> Account
    audit_facility: dict = field(default_factory=dict)  # audit id -> facility id (held here)
    wilayah_parent: dict = field(default_factory=dict)  # wilayah code -> (level, parent code)
    # The receiver's own numbers lost in a restore, (after, before): the upper hub gives back what it holds of them.
    own_lost: tuple[int, int] | None = None


@dataclass
class Verdict:
    """The batch's changes with their scope recomputed, and the origins first seen beneath a lower hub."""

    changes: list
    new_origins: list


def vet(changes: list[Change], sender: Sender, facts: Facts) -> Verdict:
    """Refuse the batch (SyncError) unless the sender may send every one of these new changes."""
    for change in changes:
        _check_clock(change, facts)
        if change.origin_id == facts.receiver_id and not _given_back(change, sender, facts):
            raise _wrong_origin(change)
    if sender.role == "upper":  # the hub above decides scope; it only may not speak for us
        return Verdict([replace(c, scope=_scope_of(c, changes, facts, c.scope)) for c in changes], [])
    new_origins = _check_origins(changes, sender, facts)
    if sender.role != "hub":
        refused = sorted({c.kind for c in changes} - FIELD_KINDS)
        if refused:
            raise SYNC_PROBLEMS("sync.not_allowed", kinds=", ".join(refused))
    vetted = []
    for change in changes:
        CHECKS[change.kind](change, changes, sender, facts)
        vetted.append(replace(change, scope=_scope_of(change, changes, facts, None)))
    return Verdict(vetted, new_origins)


# --- clocks and origins ------------------------------------------------------------------------------


def _check_clock(change: Change, facts: Facts) -> None:
    """A timestamp far ahead would drag this node's clock, and every clock that syncs with it, along."""
    if clock.ahead(change.hlc, facts.now_ms):
        raise SYNC_PROBLEMS("sync.clock_ahead", hours=clock.MAX_SKEW_MS // 3_600_000, hlc=str(change.hlc)[:24])


def _wrong_origin(change: Change) -> SyncError:
    return SYNC_PROBLEMS("sync.wrong_origin", origin=change.origin_id)


def _given_back(change: Change, sender: Sender, facts: Facts) -> bool:
    """One of our own changes the upper hub holds from before we were restored (sync.run.recover)."""
    return (sender.role == "upper" and facts.own_lost is not None
            and facts.own_lost[0] < change.origin_seq < facts.own_lost[1])


def _check_origins(changes: list[Change], sender: Sender, facts: Facts) -> list[str]:
    """A field device speaks only for itself; a lower hub for itself and the nodes beneath it."""
    unknown = []
    for origin in sorted({c.origin_id for c in changes}):
        if origin == sender.id:
            continue
        if sender.role != "hub":
            raise _wrong_origin(next(c for c in changes if c.origin_id == origin))
        if origin not in facts.parents:
            unknown.append(origin)  # first seen through this lower hub: it is beneath it from now on
        elif sender.id not in _ancestors(origin, facts.parents):
            raise _wrong_origin(next(c for c in changes if c.origin_id == origin))
    return unknown


def _ancestors(device: str, parents: dict) -> list[str]:
    """The nodes a device was first seen through, nearest first (bounded: a tree, never a cycle)."""
    chain, current = [], parents.get(device)
    while current is not None and current not in chain and len(chain) < 64:
        chain.append(current)
        current = parents.get(current)
    return chain


# --- scope: where each change belongs ---------------------------------------------------------------


def _facility_kecamatan(facility_id: str, batch: list[Change], facts: Facts) -> str | None:
    """The facility's kecamatan here, or, when it is not here yet, where this batch registers it."""
    if not isinstance(facility_id, str):
        return None
    known = facts.facility_kecamatan.get(facility_id)
    if known:
        return known
    offered = [c for c in batch if c.kind == "facility" and c.payload.get("facility_id") == facility_id
               and isinstance(c.payload.get("fields"), dict) and isinstance(c.payload["fields"].get("kecamatan_code"), str)]
    return max(offered, key=lambda c: (c.hlc, c.key)).payload["fields"]["kecamatan_code"] if offered else None


def _scope_of(change: Change, batch: list[Change], facts: Facts, fallback: str | None) -> str | None:
    """The kecamatan a change belongs to, computed here: what the sender wrote is never trusted."""
    doc = change.payload
    if change.kind == "facility":
        fields = doc.get("fields") if isinstance(doc.get("fields"), dict) else {}
        moved_to = fields.get("kecamatan_code")
        return (moved_to if isinstance(moved_to, str) else None) or _facility_kecamatan(
            doc.get("facility_id"), batch, facts) or fallback
    if change.kind == "audit":
        return _facility_kecamatan(doc.get("facility_id"), batch, facts) or fallback
    if change.kind == "review":
        facility_id = facts.audit_facility.get(str(doc.get("audit_id"))) or next(
            (c.payload.get("facility_id") for c in batch if c.kind == "audit" and c.entity_id == doc.get("audit_id")), None)
        return (_facility_kecamatan(facility_id, batch, facts) if facility_id else None) or fallback
    if change.kind == "wilayah":
        level = doc.get("level")
        where = doc.get("code") if level == "kecamatan" else doc.get("parent_code") if level == "desa" else None
        return where if isinstance(where, str) else None
    return None


def _out_of_scope(kecamatan) -> SyncError:
    return SYNC_PROBLEMS("sync.out_of_scope", kecamatan=str(kecamatan or "?")[:40])


def _in_scope(code, sender: Sender) -> bool:
    return isinstance(code, str) and code in sender.scope


def _desa_in_scope(code, sender: Sender, facts: Facts) -> bool:
    """A desa code is in scope when its kecamatan is; an unknown desa code waits like any dependency."""
    if code is None:
        return True
    if not isinstance(code, str):
        return False
    known = facts.wilayah_parent.get(code)
    return known is None or known[1] in sender.scope


# --- per kind -----------------------------------------------------------------------------------------


def _check_audit(change: Change, batch: list[Change], sender: Sender, facts: Facts) -> None:
    doc = change.payload
    kecamatan = _facility_kecamatan(doc.get("facility_id"), batch, facts)
    if kecamatan is None and sender.role == "hub" and _in_scope(change.scope, sender):
        kecamatan = change.scope  # its facility is on its way through this hub: the audit waits for it
    if not _in_scope(kecamatan, sender):
        raise _out_of_scope(kecamatan)
    if sender.role != "hub" and doc.get("device_id") not in (None, change.origin_id):
        raise _wrong_origin(change)
    auditor = doc.get("auditor") if isinstance(doc.get("auditor"), str) else None
    account = facts.accounts.get(auditor) or _relayed_account(auditor, batch)
    if account is None and sender.role == "hub":
        return  # an account on its way through this hub: the audit waits for it
    if account is None or not account.active or account.role not in NAMED_AUDITORS or not _covers(account, kecamatan):
        raise SYNC_PROBLEMS("sync.bad_auditor", name=str(doc.get("auditor"))[:40], kecamatan=kecamatan)


def _covers(account: Account, kecamatan: str) -> bool:
    """An auditor works in their kecamatan; a supervisor without kecamatan works city-wide (as the pages treat them)."""
    return kecamatan in account.kecamatan or (account.role == "supervisor" and not account.kecamatan)


def _relayed_account(username, batch: list[Change]) -> Account | None:
    offered = [c for c in batch if c.kind == "user" and c.payload.get("username") == username]
    if not offered:
        return None
    doc = max(offered, key=lambda c: (c.hlc, c.key)).payload
    return Account(doc.get("role"), bool(doc.get("active")), frozenset(doc.get("kecamatan") or ()))


def _check_facility(change: Change, batch: list[Change], sender: Sender, facts: Facts) -> None:
    doc = change.payload
    fields = doc.get("fields") if isinstance(doc.get("fields"), dict) else {}
    unknown = sorted(set(fields) - FACILITY_FIELDS)
    if unknown:
        raise _field_not_allowed(unknown)
    facility_id = doc.get("facility_id") if isinstance(doc.get("facility_id"), str) else ""
    current = facts.facility_kecamatan.get(facility_id)
    registering = facility_id not in facts.facility_exists and current is None
    if sender.role != "hub":
        refused = sorted(name for name in fields
                         if name not in FIELD_EDITABLE and not (name == "verified" and fields[name] is False))
        if refused:
            raise _field_not_allowed(refused)
    if current is not None and not _in_scope(current, sender):
        raise _out_of_scope(current)
    moved_to = fields.get("kecamatan_code")
    if "kecamatan_code" in fields and not _in_scope(moved_to, sender):
        raise _out_of_scope(moved_to)
    if current is None and moved_to is None:
        where = _facility_kecamatan(facility_id, batch, facts)
        if where is None and sender.role == "hub" and _in_scope(change.scope, sender):
            where = change.scope  # an edit relayed ahead of its registration waits for it
        if not _in_scope(where, sender):
            raise _out_of_scope(where)
    if not _desa_in_scope(fields.get("desa_code"), sender, facts):
        raise _out_of_scope(facts.wilayah_parent[fields["desa_code"]][1])


def _field_not_allowed(names: list[str]) -> SyncError:
    return SYNC_PROBLEMS("sync.field_not_allowed", fields=", ".join(str(n)[:32] for n in names[:10]))


def _check_review(change: Change, batch: list[Change], sender: Sender, facts: Facts) -> None:
    where = _scope_of(change, batch, facts, None)
    if where is not None and not _in_scope(where, sender):
        raise _out_of_scope(where)


def _check_user(change: Change, batch: list[Change], sender: Sender, facts: Facts) -> None:
    doc = change.payload
    codes = {c for c in doc.get("kecamatan") or () if isinstance(c, str)} if isinstance(doc.get("kecamatan"), list) else set()
    if doc.get("role") not in NAMED_AUDITORS:
        raise SYNC_PROBLEMS("sync.not_allowed/role", role=str(doc.get("role"))[:20])
    if not codes or not codes <= sender.scope:
        raise _out_of_scope(", ".join(sorted(codes - sender.scope)) or "-")


def _check_wilayah(change: Change, batch: list[Change], sender: Sender, facts: Facts) -> None:
    where = _scope_of(change, batch, facts, None)
    if where is None:  # a provinsi or kabupaten/kota: only one that the hub's kecamatan lie in
        if not any(code.startswith(f"{change.entity_id}.") for code in sender.scope):
            raise _out_of_scope(change.entity_id)
    elif where not in sender.scope:
        raise _out_of_scope(where)


def _check_checklist(change: Change, batch: list[Change], sender: Sender, facts: Facts) -> None:
    """Checklist texts go to everyone; their content is checked where they are parsed."""

CHECKS = {"audit": _check_audit, "facility": _check_facility, "review": _check_review, "user": _check_user,
          "wilayah": _check_wilayah, "checklist": _check_checklist}
