"""The corpus of bad sync bundles (docs/sync.md, "Bad input and how each is refused"), built by code.

Nothing here is a committed file: every bad bundle, the zip bomb included, is made on demand from a
valid bundle, in a temporary folder. `build_corpus` lists the cases as data: a name, the bytes (or a
function of the test's environment that makes them) and the stable code the refusal must carry.

Also here, because both sync test modules need them: `ValidBundle`, which writes a real push bundle
with `sync.bundle.write` (a checklist change and a KTR audit with a photo), and `snapshot` /
`photo_files`, what a refusal must leave exactly as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import secrets
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Protocol

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from sync import bundle, hlc
from sync.changes import Change

MiB = 1024 * 1024
BOMB_BYTES = 300 * MiB  # zeros deflate about 1000:1, far past bundle.MAX_RATIO
HASHED_TABLES = ("sync_change", "audit", "answer", "photo", "facility", "device")
CREATED_AT = "2026-11-20T03:00:00+00:00"
NOT_A_HLC = "zzzzzzzzzzzzzzzz.zzzz"  # 21 characters, as an HLC has, but no clock reading
NOT_A_PHOTO = b"Foto menyusul lewat WhatsApp."  # a text file where a photo should be


# --- the valid bundle every bad one is made from --------------------------------------------------


@dataclass
class ValidBundle:
    """A device's push bundle that a hub accepts: the KTR checklist text and one submitted KTR audit
    whose evidence photo travels in the bundle. Calling it writes a bundle and returns its bytes."""

    folder: Path
    device_id: str
    hub_id: str
    key: str
    facility_id: str
    auditor: str
    checklist: dict  # as sync.documents.checklist_document: key, checklist_id, version, sha256, content
    answer_items: list[str]
    photo_item: str
    photo: bytes
    max_photo_bytes: int
    audit_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    reading_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    written: int = 0

    @classmethod
    def for_checklist(cls, folder: Path, checklist, content: str, **facts) -> "ValidBundle":
        """From a parsed checklist (survey.checklist.Checklist) and its canonical YAML text."""
        items = [item for section in checklist.sections for item in section.items]
        document = {"key": checklist.key, "checklist_id": checklist.id, "version": checklist.version,
                    "sha256": hashlib.sha256(content.encode()).hexdigest(), "content": content}
        return cls(folder=Path(folder), checklist=document,
                   answer_items=[item.id for item in items if item.type == "ynp"],
                   photo_item=next(item.id for item in items if item.type == "photo"), **facts)

    @property
    def photo_sha(self) -> str:
        return hashlib.sha256(self.photo).hexdigest()

    def checklist_change(self, seq: int = 1) -> Change:
        return Change(origin_id=self.device_id, origin_seq=seq, kind="checklist", entity_id=self.checklist["key"],
                      hlc=hlc.encode(1795000000000, seq), payload=dict(self.checklist), scope=None)

    def audit_document(self, **overrides) -> dict:
        """The payload of a submitted audit, shaped as sync.documents.audit_document makes it."""
        document = {
            "id": self.audit_id, "facility_id": self.facility_id, "checklist_key": self.checklist["key"],
            "revision": 1, "revision_of": None, "auditor": self.auditor, "device_id": self.device_id,
            "started_at": "2026-11-20T02:00:00+00:00", "submitted_at": "2026-11-20T02:40:00+00:00",
            "score": 1.0, "result": "memenuhi", "lat": -6.112, "lon": 106.164, "accuracy_m": 7.0,
            "position_source": "gps", "position_at": "2026-11-20T02:05:00+00:00", "position_warnings": [],
            "answers": {item: {"value": "ya", "note": None} for item in self.answer_items},
            "photos": {self.photo_item: [self.photo_sha]},
            "readings": [{"id": self.reading_id, "lat": -6.112, "lon": 106.164, "accuracy_m": 7.0, "source": "gps",
                          "taken_at": "2026-11-20T02:05:00+00:00", "warnings": []}],
        }
        document.update(overrides)
        return document

    def audit_change(self, seq: int = 2, **overrides) -> Change:
        return Change(origin_id=self.device_id, origin_seq=seq, kind="audit", entity_id=self.audit_id,
                      hlc=hlc.encode(1795000000000, 100 + seq), payload=self.audit_document(**overrides),
                      scope="36.73.01")

    def entries(self) -> list[tuple[int, Change]]:
        """(local_seq, change) as the device's log holds them."""
        return [(1, self.checklist_change(1)), (2, self.audit_change(2))]

    def photos(self) -> dict[str, tuple[str, bytes]]:
        return {self.photo_sha: ("jpg", self.photo)}

    def __call__(self, entries: list[tuple[int, Change]] | None = None,
                 photos: dict[str, tuple[str, bytes]] | None = None) -> bytes:
        """Write a signed push bundle with sync.bundle.write and return its bytes."""
        entries = self.entries() if entries is None else entries
        photos = self.photos() if photos is None else photos
        self.written += 1
        path = self.folder / f"valid-{self.written}.zip"
        up_to = entries[-1][0] if entries else 0
        bundle.write(path, device_id=self.device_id, hub_id=self.hub_id, direction="push", key=self.key,
                     entries=entries, photos=photos, cursor=0, created_at=CREATED_AT,
                     extra={"after": 0, "up_to": up_to})
        return path.read_bytes()

    def lines(self, entries: list[tuple[int, Change]] | None = None) -> bytes:
        """changes.jsonl as bundle.write lays it out."""
        entries = self.entries() if entries is None else entries
        return "".join(bundle.canonical({"local_seq": seq, "change": change.to_dict()}) + "\n"
                       for seq, change in entries).encode()


# --- taking a bundle apart and putting it back together --------------------------------------------


def unpack(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """A bundle's manifest and its other members, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    return json.loads(members.pop("manifest.json")), members


def without(document: dict, *names: str) -> dict:
    """A copy of a document without some fields."""
    return {key: value for key, value in document.items() if key not in names}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def relist(manifest: dict, members: dict[str, bytes]) -> dict:
    """The manifest listing exactly these members (as an honest sender would)."""
    return {**manifest, "members": {name: sha(body) for name, body in members.items()}}


def resign(manifest: dict, key: str) -> dict:
    """The manifest signed again with `key`."""
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return {**unsigned, "signature": bundle.sign(unsigned, key)}


def pack(manifest: dict | bytes | None, members: dict[str, bytes] | Iterable[tuple[str, bytes]]) -> bytes:
    """A zip laid out as bundle.write does: the manifest first (a dict as JSON, bytes as given, None
    left out), then the members in order; photos stored, the rest deflated. Duplicates are kept."""
    pairs = list(members.items()) if isinstance(members, dict) else list(members)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": that is the point of one case
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            if manifest is not None:
                archive.writestr("manifest.json", manifest if isinstance(manifest, bytes)
                                 else json.dumps(manifest, indent=1, sort_keys=True))
            for name, body in pairs:
                kind = zipfile.ZIP_STORED if name.startswith("photos/") else zipfile.ZIP_DEFLATED
                archive.writestr(name, body, compress_type=kind)
    return buffer.getvalue()


def _stream_member(archive: zipfile.ZipFile, name: str, size: int, compress_type: int, head: bytes = b"") -> str:
    """Write `head` then zeros up to `size` bytes, 1 MiB at a time; return the member's sha256."""
    info = zipfile.ZipInfo(name, date_time=(2026, 11, 20, 3, 0, 0))
    info.compress_type = compress_type
    digest = hashlib.sha256(head)
    chunk = bytes(MiB)
    with archive.open(info, "w", force_zip64=True) as member:
        member.write(head)
        left = size - len(head)
        while left > 0:
            piece = chunk[:min(left, MiB)]
            member.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def _padded_sha(head: bytes, size: int) -> str:
    """The sha256 of `head` padded with zeros to `size` bytes, computed 1 MiB at a time."""
    digest, left, chunk = hashlib.sha256(head), size - len(head), bytes(MiB)
    while left > 0:
        digest.update(chunk[:min(left, MiB)])
        left -= MiB
    return digest.hexdigest()


def zip_bomb(path: Path, valid: ValidBundle, size: int = BOMB_BYTES) -> bytes:
    """The valid bundle with changes.jsonl swapped for `size` bytes of zeros, deflated (about 1000:1).
    Written to disk a chunk at a time, so neither building nor refusing it holds the zeros in memory."""
    manifest, members = unpack(valid())
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
        for name, body in members.items():
            if name != "changes.jsonl":
                archive.writestr(name, body, compress_type=zipfile.ZIP_STORED)
        _stream_member(archive, "changes.jsonl", size, zipfile.ZIP_DEFLATED)
    return Path(path).read_bytes()


def oversized_photo(path: Path, valid: ValidBundle) -> bytes:
    """The valid bundle plus a stored photo member one byte over the photo limit, listed and signed."""
    manifest, members = unpack(valid())
    with zipfile.ZipFile(path, "w") as archive:
        names = {}
        for name, body in members.items():
            archive.writestr(name, body, compress_type=zipfile.ZIP_STORED)
            names[name] = sha(body)
        size, head = valid.max_photo_bytes + 1, b"\xff\xd8\xff"  # a JPEG's magic, then zeros
        name = f"photos/{_padded_sha(head, size)}.jpg"
        names[name] = _stream_member(archive, name, size, zipfile.ZIP_STORED, head=head)
        archive.writestr("manifest.json", json.dumps(resign({**manifest, "members": names}, valid.key)))
    return Path(path).read_bytes()


def truncated(data: bytes) -> bytes:
    """The first half of a file, as a copy interrupted halfway leaves it."""
    return data[:len(data) // 2]


def corrupt_deflate(data: bytes, name: str = "changes.jsonl") -> bytes:
    """The same zip with the first byte of `name`'s deflate stream set to a reserved block type."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    header = info.header_offset  # local header: 30 fixed bytes, then the name and the extra field
    name_length = int.from_bytes(data[header + 26:header + 28], "little")
    extra_length = int.from_bytes(data[header + 28:header + 30], "little")
    damaged = bytearray(data)
    damaged[header + 30 + name_length + extra_length] = 0b111  # BFINAL=1, BTYPE=11 (reserved)
    return bytes(damaged)


# --- the corpus ------------------------------------------------------------------------------------


class Env(Protocol):
    """What a case may do before its bundle is imported (the test provides it)."""

    def revoke_device(self) -> None:
        """The hub revokes the device the valid bundle comes from."""

    def hub_import(self, data: bytes) -> bytes:
        """Import a push bundle on the hub, committed; the return bundle's bytes."""

    def device_export(self) -> bytes:
        """On a device enrolled with the hub (made on first use): export a push bundle."""

    def device_import(self, data: bytes) -> None:
        """On that device: import a return bundle, committed."""

    def hub_changes_scope(self) -> None:
        """The hub makes a change in the device's kecamatan (a new facility)."""


@dataclass(frozen=True)
class Case:
    """One bad input: its bytes (or how to make them in an environment) and the code it is refused with.

    target "hub": a push bundle for sync.service.import_push_bundle on the hub;
    target "device": a return bundle for sync.service.import_return_bundle on the enrolled device.
    """

    name: str
    data: bytes | Callable[[Env], bytes]
    code: str
    target: str = "hub"

    def bytes_for(self, env: Env) -> bytes:
        return self.data(env) if callable(self.data) else self.data


def build_corpus(tmp_dir: Path | None, valid_builder: ValidBundle | None) -> list[Case]:
    """Every bad input of docs/sync.md, one case each. Lazy: a case that needs the valid bundle or the
    temporary folder builds its bytes only when asked, so the corpus can be listed without either."""
    v = valid_builder

    def tampered(edit: Callable[[dict, dict], tuple[dict | bytes | None, object]]) -> Callable[[Env], bytes]:
        def make(env: Env) -> bytes:
            manifest, members = unpack(v())
            return pack(*edit(manifest, members))
        return make

    def with_member(name: str, body: bytes = b"x") -> Callable[[Env], bytes]:
        """A member with this path, listed in the manifest and signed: only the path is wrong."""
        def edit(manifest, members):
            members = {**members, name: body}
            return resign(relist(manifest, members), v.key), members
        return tampered(edit)

    def manifest_edit(change: Callable[[dict], dict], sign: bool = True) -> Callable[[Env], bytes]:
        def edit(manifest, members):
            changed = change(dict(manifest))
            return (resign(changed, v.key) if sign else changed), members
        return tampered(edit)

    def changes_lines(extra: bytes) -> Callable[[Env], bytes]:
        """changes.jsonl with one more line; listed and signed, so only the line is wrong."""
        def edit(manifest, members):
            members = {**members, "changes.jsonl": members["changes.jsonl"] + extra}
            return resign(relist(manifest, members), v.key), members
        return tampered(edit)

    def revoked(env: Env) -> bytes:
        env.revoke_device()
        return v()

    def known_key_new_content(env: Env) -> bytes:
        env.hub_import(v())
        return v(entries=[(1, v.checklist_change(1)), (2, v.audit_change(2, score=0.5, result="tidak_memenuhi"))])

    def known_key_new_content_and_more(env: Env) -> bytes:
        env.hub_import(v())
        return v(entries=[(1, v.checklist_change(1)), (2, v.audit_change(2, score=0.5, result="tidak_memenuhi")),
                          (3, v.checklist_change(3))])

    def older_return_bundle(env: Env) -> bytes:
        """The device syncs by USB twice; then someone imports the first return bundle again."""
        first = env.hub_import(env.device_export())
        env.device_import(first)
        env.hub_changes_scope()
        env.device_import(env.hub_import(env.device_export()))
        return first

    def other_photo() -> bytes:
        from tests.support import make_jpeg

        return make_jpeg(color=(200, 30, 30))

    return [
        # not a zip, truncated, corrupt
        Case("truncated zip", lambda env: truncated(v()), "bundle.unreadable"),
        Case("random bytes", random.Random(20261120).randbytes(4096), "bundle.unreadable"),
        Case("text, not a zip", b"manifest.json\nchanges.jsonl\nthis is a note about a bundle, not one\n",
             "bundle.unreadable"),
        Case("empty file", b"", "bundle.unreadable"),
        Case("corrupt deflate data in changes.jsonl", lambda env: corrupt_deflate(v()), "bundle.unreadable"),
        # the manifest
        Case("no manifest", tampered(lambda manifest, members: (None, members)), "bundle.bad_manifest"),
        Case("manifest not JSON", tampered(lambda manifest, members: (b"{format: pantau-bundle", members)),
             "bundle.bad_manifest"),
        Case("manifest a JSON list", tampered(lambda manifest, members: (b"[1, 2, 3]", members)),
             "bundle.bad_manifest"),
        Case("wrong format field", manifest_edit(lambda m: {**m, "format": "odk-briefcase"}), "bundle.bad_manifest"),
        Case("manifest without cursor", manifest_edit(lambda m: without(m, "cursor")), "bundle.bad_manifest"),
        Case("manifest with after not a number, signed", manifest_edit(lambda m: {**m, "after": "nol"}),
             "bundle.bad_manifest"),
        Case("schema_version 99", manifest_edit(lambda m: {**m, "schema_version": 99}), "bundle.schema_version"),
        # zip-slip
        Case("member ../evil", with_member("../evil"), "bundle.unsafe_path"),
        Case("member /abs", with_member("/abs"), "bundle.unsafe_path"),
        Case("member a\\b", with_member("a\\b"), "bundle.unsafe_path"),
        Case("member photos/../../evil.jpg", with_member("photos/../../evil.jpg"), "bundle.unsafe_path"),
        Case("member C:evil (drive letter)", with_member("C:evil"), "bundle.unsafe_path"),
        # sizes
        Case("zip bomb: 300 MB of zeros as changes.jsonl", lambda env: zip_bomb(Path(tmp_dir) / "bomb.zip", v),
             "bundle.too_large"),
        Case("photo member over MAX_UPLOAD_MB", lambda env: oversized_photo(Path(tmp_dir) / "big-photo.zip", v),
             "bundle.member_too_large"),
        # members against the manifest
        Case("member not listed", tampered(lambda manifest, members: (
            manifest, {**members, f"photos/{sha(other_photo())}.jpg": other_photo()})), "bundle.member_mismatch"),
        Case("member listed but missing", tampered(lambda manifest, members: (
            manifest, {n: b for n, b in members.items() if not n.startswith("photos/")})), "bundle.member_mismatch"),
        Case("member sha changed", tampered(lambda manifest, members: (
            manifest, {**members, "changes.jsonl": v.lines([(1, v.checklist_change(1)),
                                                            (2, v.audit_change(2, score=0.2))])})),
             "bundle.member_mismatch"),
        Case("member listed twice", tampered(lambda manifest, members: (
            manifest, list(members.items()) + [("changes.jsonl", members["changes.jsonl"])])),
             "bundle.member_mismatch"),
        Case("unexpected file, listed and signed", with_member("notes.txt", b"hello"), "bundle.member_mismatch"),
        # signature
        Case("unsigned", manifest_edit(lambda m: without(m, "signature"), sign=False), "bundle.bad_signature"),
        Case("signed with another key", tampered(lambda manifest, members: (
            resign(manifest, secrets.token_hex(32)), members)), "bundle.bad_signature"),
        Case("manifest edited after signing", manifest_edit(lambda m: {**m, "up_to": 10 ** 6}, sign=False),
             "bundle.bad_signature"),
        # who sent it
        Case("unknown device id", manifest_edit(lambda m: {**m, "device_id": str(uuid.uuid4())}), "sync.unknown_device"),
        Case("device id not a uuid", manifest_edit(lambda m: {**m, "device_id": "tablet-1"}), "sync.unknown_device"),
        Case("revoked device", revoked, "sync.revoked_device"),
        Case("made for another hub", manifest_edit(lambda m: {**m, "hub_id": str(uuid.uuid4())}), "bundle.wrong_hub"),
        Case("a return bundle sent to the hub", manifest_edit(lambda m: {**m, "direction": "return"}),
             "bundle.wrong_hub"),
        Case("after beyond what the hub acknowledged", manifest_edit(lambda m: {**m, "after": 5, "up_to": 7}),
             "sync.gap"),
        Case("return bundle older than the device's state", older_return_bundle, "bundle.replay", target="device"),
        # the changes
        Case("changes.jsonl line not JSON", changes_lines(b'{"local_seq": 3, "change": \n'), "sync.bad_change"),
        Case("changes.jsonl line JSON but not a change",
             changes_lines(b'{"local_seq": 3, "change": {"kind": "audit", "payload": {}}}\n'), "sync.bad_change"),
        Case("changes.jsonl line a JSON list", changes_lines(b"[3, \"audit\"]\n"), "sync.bad_change"),
        Case("changes.jsonl not UTF-8", changes_lines(b"\xff\xfe{\"local_seq\": 3}\n"), "sync.bad_change"),
        Case("origin_seq beyond 64 bits",
             lambda env: v(entries=[(1, replace(v.checklist_change(1), origin_seq=2 ** 64))]), "sync.bad_change"),
        Case("hlc that is not a clock reading",
             lambda env: v(entries=[(1, replace(v.checklist_change(1), hlc=NOT_A_HLC))]), "sync.bad_change"),
        Case("audit change without facility_id", lambda env: v(entries=[(1, v.checklist_change(1)), (2, replace(
            v.audit_change(2), payload=without(v.audit_document(), "facility_id")))]), "sync.bad_change"),
        Case("audit of checklist nope@9",
             lambda env: v(entries=[(1, v.checklist_change(1)), (2, v.audit_change(2, checklist_key="nope@9"))]),
             "sync.unknown_checklist"),
        Case("photo member that is not an image", lambda env: v(photos={sha(NOT_A_PHOTO): ("jpg", NOT_A_PHOTO)}),
             "photo.not_an_image"),
        Case("photo bytes do not match its name",
             lambda env: v(photos={v.photo_sha: ("jpg", other_photo())}), "photo.hash_mismatch"),
        Case("audit photo neither in the bundle nor on the hub", lambda env: v(photos={}), "sync.photo_missing"),
        Case("same key twice in one bundle, different content",
             lambda env: v(entries=v.entries() + [(3, v.audit_change(2, score=0.5, result="tidak_memenuhi"))]),
             "sync.seq_reused"),
        Case("known key with new content", known_key_new_content, "sync.seq_reused"),
        Case("known key with new content, and a new change", known_key_new_content_and_more, "sync.seq_reused"),
    ]


# --- what a refusal must leave as it was -------------------------------------------------------------


def snapshot(session: Session, hashed: Iterable[str] = HASHED_TABLES) -> dict:
    """Row counts of every table, and a hash of every row of the `hashed` tables. Not the throttle's counts: a
    refused enrollment or sign-in is meant to count there (app.throttle), and nothing else reads them."""
    tables = sorted(set(inspect(session.connection()).get_table_names()) - {"throttle_count"})
    state = {f"count {t}": session.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
    for table in hashed:
        rows = sorted(repr(tuple(row)) for row in session.execute(text(f'SELECT * FROM "{table}"')))
        state[f"rows {table}"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return state


def photo_files(root: Path) -> set[str]:
    """Every file under a photo store's root, as relative paths."""
    root = Path(root)
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def mint_as(session: Session, registration, device_id: str) -> None:
    """Test setup: the hub minted this id for a registration (so a test can fix the order of device ids)."""
    import uuid as _uuid

    from sqlalchemy import update

    from app.node import Device

    session.execute(update(Device).where(Device.id == registration.id).values(id=_uuid.UUID(str(device_id))))
    session.expire_all()
