"""A small world of devices and hubs that make sync changes, and a reference model of the merge.

Used by tests/test_sync_property.py. Pure Python: no Flask, no database. The reference model
(`expected_state`) is written from docs/sync.md (rules 2–4), not from the merge (sync/apply*.py), so the merge
engine is checked against an independent statement of what the state must be:

* facility field: the edit with the largest (hlc, device); every edit is kept; edits of one field
  on one base by more than one (hlc, device) are a conflict `"<field>:<base>"` listing them all;
* audit: the content of the change with the smallest (origin_id, origin_seq); each other content
  (content hash over kind, entity, HLC and payload) is one conflict with the kept version, keyed by
  the two change keys `"origin:seq"` sorted as text, showing the kept key, the other key and the
  other document (what sync.apply_audits records);
* review state of an audit: the decision of its review with the largest (hlc, device).

Facility official ids (NPSN) are unique per facility in worlds made for the model
(`shared_official_ids=False`): the rules say nothing about two facilities claiming one NPSN.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hypothesis import strategies as st

from survey.facilities.models import FACILITY_FIELDS
from sync.changes import Change, canonical
from sync.hlc import decode, encode

# The six kecamatan of Kota Serang, as survey.demo.seed_regions loads them (real Kemendagri codes).
KECAMATAN_CODES = ("36.73.01", "36.73.02", "36.73.03", "36.73.04", "36.73.05", "36.73.06")
KIND_CODES = ("ruang_bermain", "sekolah", "puskesmas", "pka", "lainnya")  # survey.kinds.KIND_CODES
STATUSES = ("active", "closed", "deleted")
CHECKLIST_KEY = "ktr@1"
# The seven observation items of survey/checklists/ktr-v1.yaml (the eighth, a photo, stays empty).
KTR_ITEMS = ("tanda_dilarang_merokok", "tidak_ada_yang_merokok", "tidak_ada_ruang_merokok", "tidak_ada_iklan_rokok",
             "tidak_ada_asbak", "tidak_ada_bau_asap", "tidak_ada_puntung")
YNP = ("ya", "tidak", "sebagian")
DECISIONS = ("approved", "returned", "rejected")
AUDITOR = "siti"
T0 = 1_795_000_000_000  # ms: November 2026


def key_text(key: tuple) -> str:
    return f"{key[0]}:{key[1]}"


def when(hlc: str) -> str:
    """An aware ISO time from an HLC's milliseconds, as sync.wire.iso writes them."""
    return datetime.fromtimestamp(decode(hlc)[0] / 1000, tz=timezone.utc).isoformat()


# --- the world --------------------------------------------------------------------------------------


@dataclass
class Node:
    """A device or hub: its id, its clock and its origin sequence."""

    id: str
    last: str = encode(0, 0)
    seq: int = 0


@dataclass
class World:
    """What the devices and hubs made, in the order they made it (each node numbers its own 1..n)."""

    devices: list[str]
    hubs: list[str]
    changes: list[Change] = field(default_factory=list)
    checklist: dict | None = None

    @property
    def origins(self) -> list[str]:
        return self.devices + self.hubs

    def __repr__(self) -> str:
        return f"World({len(self.changes)} changes; see the note below)"

    def _repr_pretty_(self, printer, cycle) -> None:  # how Hypothesis prints a drawn value
        printer.text(repr(self))

    def describe(self) -> str:
        lines = [f"devices={self.devices} hubs={self.hubs}"]
        for c in self.changes:
            lines.append(f"  {c.origin_id[:8]}:{c.origin_seq} {c.kind:9} {c.entity_id[:8]} {c.hlc} "
                         f"{_short(c.payload)}")
        return "\n".join(lines)


def _short(payload: dict) -> str:
    if "fields" in payload:
        return f"fields={sorted(payload['fields'])} base={payload.get('base')}"
    if "answers" in payload:
        return f"rev={payload['revision']} of={str(payload['revision_of'])[:8]} fac={payload['facility_id'][:8]}"
    if "decision" in payload:
        return f"{payload['decision']} audit={payload['audit_id'][:8]}"
    return ""


class _Builder:
    """Makes changes the way nodes do: each node's HLC never goes back and covers what it has seen."""

    def __init__(self, draw, world: World, avoid_known_bugs: bool, shared_official_ids: bool):
        self.draw, self.world, self.avoid_known_bugs = draw, world, avoid_known_bugs
        self.shared_official_ids = shared_official_ids
        self.nodes = {o: Node(o) for o in world.origins}
        self.facilities: list[dict] = []  # {"id", "index", "hlc", "edits": {(device, field): [hlc...]}}
        self.audits: list[dict] = []  # {"id", "author", "payload", "hlc", "clones", "revised", "reviewed"}
        self.checklist_sent = False

    def hlc(self, node: str, seen: str | None = None) -> str:
        """The node's next HLC: a wall time drawn from a few milliseconds (so different nodes often
        issue equal HLCs and the device tie-break matters), never below what it issued or saw."""
        state = self.nodes[node]
        floor = max(state.last, seen or state.last)
        wall = encode(T0 + self.draw(st.integers(0, 3)), self.draw(st.integers(0, 1)))
        if wall <= floor:
            ms, counter = decode(floor)
            wall = encode(ms, counter + 1)
        state.last = wall
        return wall

    def same_hlc(self, nodes: list[str], seen: str | None = None) -> str:
        """One HLC issued by several nodes at once (legal: each issues it above what it had)."""
        together = max(self.hlc(node, seen) for node in nodes)
        for node in nodes:
            self.nodes[node].last = together
        return together

    def emit(self, node: str, kind: str, entity_id: str, payload: dict, hlc: str, scope: str | None) -> Change:
        state = self.nodes[node]
        state.seq += 1
        change = Change(origin_id=node, origin_seq=state.seq, kind=kind, entity_id=entity_id, hlc=hlc,
                        payload=payload, scope=scope)
        self.world.changes.append(change)
        return change

    # values -------------------------------------------------------------------------------------

    def value(self, name: str, facility_index: int):
        d = self.draw
        if name == "kind":
            return d(st.sampled_from(KIND_CODES[:2] if self.shared_official_ids else KIND_CODES))
        if name == "name":
            return d(st.sampled_from(("Taman Bermain RW 01", "SD Negeri 1 Serang", "Puskesmas Kasemen", "RPTRA Ceria",
                                      "Taman Baca Melati")))
        if name == "official_id":
            if self.shared_official_ids:  # two facilities may claim one NPSN (the unique index clashes)
                return d(st.sampled_from((None, "20600001", "20600002")))
            return d(st.one_of(st.none(), st.integers(0, 2).map(lambda k: str(20600000 + facility_index * 10 + k))))
        if name == "address":
            return d(st.one_of(st.none(), st.sampled_from(("Jl. Ahmad Yani 1", "Kec. Serang, Kota Serang"))))
        if name == "lat":
            return d(st.one_of(st.none(), st.integers(-62000, -60500).map(lambda v: v / 10000)))  # inside Kota Serang
        if name == "lon":
            return d(st.one_of(st.none(), st.integers(1061000, 1062200).map(lambda v: v / 10000)))
        if name == "kecamatan_code":
            return d(st.sampled_from(KECAMATAN_CODES))
        if name == "desa_code":
            return None  # no desa are loaded on the hub
        if name == "status":
            return d(st.sampled_from(STATUSES))
        if name == "verified":
            return d(st.booleans())
        raise AssertionError(name)

    # actions ------------------------------------------------------------------------------------

    def register(self, device: str) -> None:
        facility_id = str(self.draw(st.uuids(version=4)))
        index = len(self.facilities)
        hlc = self.hlc(device)
        fields = {name: self.value(name, index) for name in FACILITY_FIELDS}
        self.emit(device, "facility", facility_id, {"facility_id": facility_id, "fields": fields, "base": {}}, hlc,
                  fields["kecamatan_code"])
        self.facilities.append({"id": facility_id, "index": index, "hlc": hlc, "kecamatan": fields["kecamatan_code"],
                                "edits": {}})

    def _seen(self, facility: dict, device: str) -> str:
        """What an editor has seen of a facility: its registration and the editor's own edits."""
        return max([facility["hlc"]] + [h for (dev, _), hlcs in facility["edits"].items() if dev == device for h in hlcs])

    def _emit_edit(self, device: str, facility: dict, fields: dict, base: dict, hlc: str) -> None:
        self.emit(device, "facility", facility["id"], {"facility_id": facility["id"], "fields": fields, "base": base},
                  hlc, facility["kecamatan"])
        for name in fields:
            facility["edits"].setdefault((device, name), []).append(hlc)

    def edit(self, device: str) -> None:
        facility = self.draw(st.sampled_from(self.facilities))
        names = self.draw(st.lists(st.sampled_from(FACILITY_FIELDS), min_size=1, max_size=3, unique=True))
        hlc = self.hlc(device, self._seen(facility, device))
        fields, base = {}, {}
        for name in names:
            fields[name] = self.value(name, facility["index"])
            # What the editor saw of this field: nothing (None), the registration, or one of its own edits.
            chosen = self.draw(st.sampled_from([None, facility["hlc"]] + facility["edits"].get((device, name), [])))
            if chosen:
                base[name] = chosen
        self._emit_edit(device, facility, fields, base, hlc)

    def concurrent_edits(self) -> None:
        """Two or three devices edit the same fields of one facility on the same base, offline; often
        at the very same HLC, so that only the device id decides the winner."""
        facility = self.draw(st.sampled_from(self.facilities))
        editors = self.draw(st.lists(st.sampled_from(self.world.devices), min_size=2, max_size=3, unique=True))
        names = self.draw(st.lists(st.sampled_from(FACILITY_FIELDS), min_size=1, max_size=2, unique=True))
        on_registration = self.draw(st.booleans())
        seen = max(self._seen(facility, device) for device in editors)
        together = self.same_hlc(editors, seen) if self.draw(st.booleans()) else None
        for device in editors:
            hlc = together or self.hlc(device, seen)
            fields = {name: self.value(name, facility["index"]) for name in names}
            self._emit_edit(device, facility, fields, {name: facility["hlc"] for name in names} if on_registration else {},
                            hlc)

    def _answers(self) -> tuple[dict, float, str]:
        values = self.draw(st.lists(st.sampled_from(YNP), min_size=len(KTR_ITEMS), max_size=len(KTR_ITEMS)))
        notes = self.draw(st.lists(st.sampled_from((None, "catatan")), min_size=len(KTR_ITEMS), max_size=len(KTR_ITEMS)))
        answers = {item: {"value": v, "note": n} for item, v, n in zip(KTR_ITEMS, values, notes)}
        score = round(sum({"ya": 1.0, "sebagian": 0.5, "tidak": 0.0}[v] for v in values) / len(values), 4)
        return answers, score, "memenuhi" if score >= 0.85 else "belum_memenuhi"

    def _audit_payload(self, audit_id: str, device: str, facility_id: str, hlc: str, revision: int,
                       revision_of: str | None) -> dict:
        answers, score, result = self._answers()
        return {"id": audit_id, "facility_id": facility_id, "checklist_key": CHECKLIST_KEY, "revision": revision,
                "revision_of": revision_of, "auditor": AUDITOR, "device_id": device, "started_at": when(hlc),
                "submitted_at": when(hlc), "score": score, "result": result, "lat": None, "lon": None,
                "accuracy_m": None, "position_source": None, "position_at": None, "position_warnings": [],
                "answers": answers, "photos": {}, "readings": []}

    def _checklist_first(self, device: str) -> None:
        if not self.checklist_sent:  # the text of ktr@1 travels before the first audit filled with it
            self.checklist_sent = True
            self.emit(device, "checklist", CHECKLIST_KEY, self.world.checklist, self.hlc(device), None)

    def audit(self, device: str) -> None:
        facility = self.draw(st.sampled_from(self.facilities))
        self._checklist_first(device)
        audit_id = str(self.draw(st.uuids(version=4)))
        hlc = self.hlc(device, facility["hlc"])
        payload = self._audit_payload(audit_id, device, facility["id"], hlc, 1, None)
        self.emit(device, "audit", audit_id, payload, hlc, facility["kecamatan"])
        self.audits.append({"id": audit_id, "author": device, "payload": payload, "hlc": hlc,
                            "kecamatan": facility["kecamatan"], "clones": set(),
                            "revised": False, "reviewed": False})

    def revise(self, device: str) -> bool:
        own = [a for a in self.audits if a["author"] == device and not (self.avoid_known_bugs and a["clones"])]
        if not own:
            return False
        original = self.draw(st.sampled_from(own))
        original["revised"] = True
        audit_id = str(self.draw(st.uuids(version=4)))
        hlc = self.hlc(device, original["hlc"])
        payload = self._audit_payload(audit_id, device, original["payload"]["facility_id"], hlc,
                                      original["payload"]["revision"] + 1, original["id"])
        self.emit(device, "audit", audit_id, payload, hlc, original["kecamatan"])
        self.audits.append({"id": audit_id, "author": device, "payload": payload, "hlc": hlc,
                            "kecamatan": original["kecamatan"], "clones": set(),
                            "revised": False, "reviewed": False})
        return True

    def clone(self, device: str) -> bool:
        """A tablet cloned from another one submits the same audit (same id, facility, revision) with other answers."""
        others = [a for a in self.audits if a["author"] != device and device not in a["clones"]
                  and not (self.avoid_known_bugs and (a["clones"] or a["revised"] or a["reviewed"]))]
        if not others:
            return False
        audit = self.draw(st.sampled_from(others))
        self._checklist_first(device)
        hlc = self.hlc(device)
        doc = audit["payload"]
        payload = self._audit_payload(audit["id"], device, doc["facility_id"], hlc, doc["revision"], doc["revision_of"])
        self.emit(device, "audit", audit["id"], payload, hlc, audit["kecamatan"])
        audit["clones"].add(device)
        return True

    def review(self, hub: str, audit: dict | None = None, hlc: str | None = None) -> bool:
        audits = [a for a in self.audits if not (self.avoid_known_bugs and a["clones"])]
        if audit is None and not audits:
            return False
        audit = audit or self.draw(st.sampled_from(audits))
        audit["reviewed"] = True
        hlc = hlc or self.hlc(hub, audit["hlc"])
        decision = self.draw(st.sampled_from(DECISIONS))
        comment = "" if decision == "approved" else self.draw(st.sampled_from(("Foto kurang", "Ulangi butir 2")))
        review_id = str(self.draw(st.uuids(version=4)))
        payload = {"id": review_id, "audit_id": audit["id"], "decision": decision, "comment": comment,
                   "reviewer": "budi", "decided_at": when(hlc), "device_id": audit["author"]}
        self.emit(hub, "review", audit["id"], payload, hlc, audit["kecamatan"])
        return True

    def concurrent_reviews(self) -> bool:
        """Two hubs decide on the same audit at the same HLC: the larger hub id's decision stands."""
        audits = [a for a in self.audits if not (self.avoid_known_bugs and a["clones"])]
        if len(self.world.hubs) < 2 or not audits:
            return False
        audit = self.draw(st.sampled_from(audits))
        together = self.same_hlc(self.world.hubs, audit["hlc"])
        for hub in self.world.hubs:
            self.review(hub, audit, together)
        return True


ACTIONS = ("register", "edit", "edit", "concurrent_edits", "audit", "audit", "audit", "revise", "clone", "clone",
           "review", "review", "concurrent_reviews")


@st.composite
def worlds(draw, checklist: dict, avoid_known_bugs: bool = False, shared_official_ids: bool = False,
           max_steps: int = 14, max_hubs: int = 2) -> World:
    """2–3 devices and 1–2 hubs making registrations, field edits (some concurrent: on one base, often
    at one HLC), audits, revisions, clones and reviews (some by two hubs at one HLC).

    `checklist` is the checklist change payload of ktr@1 (sync.documents.checklist_document).
    With `avoid_known_bugs`, an audit submitted again by a cloned tablet has exactly two versions and
    is never revised or reviewed: the cases the merge engine got wrong until commit 0c32adb (their
    minimal examples are regression tests in tests/test_sync_property.py).
    With `shared_official_ids`, facilities draw their NPSN from two values (and their kind from two),
    so that two facilities often claim one NPSN.
    """
    devices = [str(u) for u in draw(st.lists(st.uuids(version=4), min_size=2, max_size=3, unique=True))]
    hubs = [str(u) for u in draw(st.lists(st.uuids(version=4), min_size=1, max_size=max_hubs, unique=True)
                                 .filter(lambda us: not {str(u) for u in us} & set(devices)))]
    world = World(devices=devices, hubs=hubs, checklist=checklist)
    builder = _Builder(draw, world, avoid_known_bugs, shared_official_ids)
    builder.register(draw(st.sampled_from(devices)))
    for action in draw(st.lists(st.sampled_from(ACTIONS), min_size=4, max_size=max_steps)):
        device = draw(st.sampled_from(devices))
        if action == "review":
            builder.review(draw(st.sampled_from(hubs)))
        elif action in ("concurrent_edits", "concurrent_reviews"):
            getattr(builder, action)()
        else:
            getattr(builder, action)(device)
    return world


# --- delivery schedules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One transfer: the changes (indices into World.changes) and whether it commits or is interrupted."""

    batch: tuple[int, ...]
    commit: bool = True


@st.composite
def schedules(draw, size: int) -> list[Delivery]:
    """Every change in a random order, split into random batches; some changes sent 2–3 times, some
    whole batches repeated, some transfers interrupted (rolled back) and sent again later."""
    order = draw(st.permutations(range(size)))
    cuts = sorted(draw(st.sets(st.integers(1, max(size - 1, 1)), max_size=min(size, 5)))) if size > 1 else []
    batches = [list(order[a:b]) for a, b in zip([0] + cuts, cuts + [size]) if order[a:b]]
    for index in draw(st.lists(st.integers(0, size - 1), max_size=4)):  # the same change delivered again
        for _ in range(draw(st.integers(1, 2))):
            batches[draw(st.integers(0, len(batches) - 1))].append(index)
    deliveries = [Delivery(tuple(b)) for b in batches]
    for _ in range(draw(st.integers(0, 2))):  # a whole batch delivered again, later
        deliveries.append(draw(st.sampled_from(deliveries)))
    for _ in range(draw(st.integers(0, 2))):  # an interrupted transfer, retried later
        at = draw(st.integers(0, len(deliveries) - 1))
        retried = deliveries[at]
        deliveries.insert(at, Delivery(retried.batch, commit=False))
        if draw(st.booleans()):  # ... or retried only after other batches
            deliveries.pop(at + 1)
            deliveries.insert(draw(st.integers(at + 1, len(deliveries))), retried)
    return deliveries


# --- the reference model ------------------------------------------------------------------------------


def _sha(change: Change) -> str:
    """Content identity of a change: kind, entity, HLC and payload (what travels besides the key)."""
    return canonical({"kind": change.kind, "entity_id": change.entity_id, "hlc": change.hlc,
                      "payload": change.payload})


def expected_state(world: World) -> dict:
    """The hub's state after it holds every change of the world (docs/sync.md rules 2–4)."""
    changes = {c.key: c for c in world.changes}.values()

    # Facilities: every edit kept; the current value per field is the edit with the largest (hlc, device).
    edits = []
    for c in changes:
        if c.kind == "facility":
            for name, value in c.payload["fields"].items():
                edits.append((c.payload["facility_id"], name, canonical(value), c.hlc, c.origin_id,
                              (c.payload.get("base") or {}).get(name)))
    facilities: dict[str, dict] = {}
    best: dict[tuple, tuple] = {}
    for facility_id, name, value, hlc, device, _ in edits:
        if (facility_id, name) not in best or (hlc, device) > best[(facility_id, name)][:2]:
            best[(facility_id, name)] = (hlc, device, value)
    for (facility_id, name), (_, _, value) in best.items():
        facilities.setdefault(facility_id, {})[name] = value
    # A conflict: its key, and what it must show (every version: HLC, device, value).
    conflicts: dict[tuple, str] = {}
    siblings: dict[tuple, set] = {}
    for facility_id, name, value, hlc, device, base in edits:
        siblings.setdefault((facility_id, name, base), set()).add((hlc, device, value))
    for (facility_id, name, base), versions in siblings.items():
        if len(versions) > 1:
            conflicts[("facility", facility_id, f"{name}:{base}")] = canonical(sorted(versions))

    # Audits: the smallest (origin, seq) wins; every other content (its smallest key) is one conflict
    # with it, showing the kept key, the other key and the other document.
    by_audit: dict[str, list[Change]] = {}
    for c in changes:
        if c.kind == "audit":
            by_audit.setdefault(c.entity_id, []).append(c)
    audits = {}
    for audit_id, versions in by_audit.items():
        versions.sort(key=lambda c: c.key)
        kept = versions[0]
        audits[audit_id] = (kept, key_text(kept.key))
        others: dict[str, Change] = {}
        for other in versions:
            if _sha(other) != _sha(kept):
                others.setdefault(_sha(other), other)
        for other in others.values():
            conflicts[("audit", audit_id, "|".join(sorted([key_text(other.key), key_text(kept.key)])))] = canonical(
                [key_text(kept.key), key_text(other.key), canonical(other.payload)])

    # Reviews: all kept; the review state of an audit is its latest by (hlc, device).
    reviews = {c.payload["id"]: c for c in changes if c.kind == "review"}
    latest: dict[str, Change] = {}
    for c in reviews.values():
        audit_id = c.payload["audit_id"]
        if audit_id not in latest or (c.hlc, c.origin_id) > (latest[audit_id].hlc, latest[audit_id].origin_id):
            latest[audit_id] = c

    audit_rows = []
    for audit_id, (kept, source) in audits.items():
        doc, review = kept.payload, latest.get(audit_id)
        audit_rows.append(canonical({
            "id": audit_id, "facility_id": doc["facility_id"], "checklist_key": doc["checklist_key"],
            "revision": doc["revision"], "revision_of": doc["revision_of"], "auditor": doc["auditor"],
            "device_id": doc["device_id"], "result": doc["result"], "score": doc["score"],
            "submitted_at": doc["submitted_at"], "answers": doc["answers"], "sync_source": source,
            "review_status": review.payload["decision"] if review else None,
            "review_comment": review.payload["comment"] if review else None,
            "reviewed_at": review.payload["decided_at"] if review else None}))
    return {
        "facilities": sorted(canonical({"id": f, **{k: _plain(v) for k, v in values.items()}})
                             for f, values in facilities.items()),
        "facility_edits": sorted(edits),
        "audits": sorted(audit_rows),
        "reviews": sorted((r.payload["id"], r.payload["audit_id"], r.payload["decision"], r.payload["comment"],
                           r.payload["reviewer"], r.payload["decided_at"], r.hlc, r.origin_id)
                          for r in reviews.values()),
        "conflicts": sorted(conflicts),
        "conflict_details": sorted((*key, shown) for key, shown in conflicts.items()),
        "changes": sorted((c.origin_id, c.origin_seq, c.kind, c.entity_id, c.hlc, True) for c in changes),
    }


def _plain(canonical_json: str):
    import json

    return json.loads(canonical_json)


def new_id() -> str:
    return str(uuid.uuid4())


# --- hand-made changes, for the minimal examples of known bugs ------------------------------------------


def registration(device: str, seq: int, hlc: str, facility_id: str, **fields) -> Change:
    values = {"kind": "sekolah", "name": "SD Negeri 1 Serang", "official_id": None, "address": None, "lat": -6.12,
              "lon": 106.15, "kecamatan_code": "36.73.01", "desa_code": None, "status": "active", "verified": True,
              **fields}
    return Change(device, seq, "facility", facility_id, hlc, {"facility_id": facility_id, "fields": values, "base": {}},
                  values["kecamatan_code"])


def field_edit(device: str, seq: int, hlc: str, facility_id: str, fields: dict, base: dict) -> Change:
    return Change(device, seq, "facility", facility_id, hlc, {"facility_id": facility_id, "fields": fields, "base": base},
                  "36.73.01")


def checklist_change(device: str, seq: int, hlc: str, checklist: dict) -> Change:
    return Change(device, seq, "checklist", CHECKLIST_KEY, hlc, checklist, None)


def audit_change(device: str, seq: int, hlc: str, audit_id: str, facility_id: str, value: str = "ya",
                 revision: int = 1, revision_of: str | None = None, author: str | None = None) -> Change:
    """An audit answered `value` on every KTR item, as submitted on `author` (default: the device)."""
    answers = {item: {"value": value, "note": None} for item in KTR_ITEMS}
    score = {"ya": 1.0, "sebagian": 0.5, "tidak": 0.0}[value]
    payload = {"id": audit_id, "facility_id": facility_id, "checklist_key": CHECKLIST_KEY, "revision": revision,
               "revision_of": revision_of, "auditor": AUDITOR, "device_id": author or device, "started_at": when(hlc),
               "submitted_at": when(hlc), "score": score, "result": "memenuhi" if score >= 0.85 else "belum_memenuhi",
               "lat": None, "lon": None, "accuracy_m": None, "position_source": None, "position_at": None,
               "position_warnings": [], "answers": answers, "photos": {}, "readings": []}
    return Change(device, seq, "audit", audit_id, hlc, payload, "36.73.01")


def review_change(hub: str, seq: int, hlc: str, review_id: str, audit_id: str, decision: str, device: str) -> Change:
    payload = {"id": review_id, "audit_id": audit_id, "decision": decision,
               "comment": "" if decision == "approved" else "Ulangi butir 2", "reviewer": "budi",
               "decided_at": when(hlc), "device_id": device}
    return Change(hub, seq, "review", audit_id, hlc, payload, "36.73.01")
