"""Bundle files: one signed zip of changes and photos, carried on a USB stick or sent by chat. Pure.

Reading checks everything before anything is applied (docs/sync.md, "Bad input"): the caller gets
a `Bundle` only when the zip is safe, complete, unmodified and signed with the right key.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from app.problems import N_
from sync.changes import SCHEMA_VERSION, Change, SyncError, canonical, parse_entry

FORMAT = "pantau-bundle"
MAX_TOTAL_BYTES = 2 * 1024 ** 3
MAX_CHANGES_BYTES = 512 * 1024 ** 2
MAX_RATIO = 200  # a member that inflates more than this is treated as a zip bomb
PHOTO_NAME = re.compile(r"^photos/([0-9a-f]{64})\.(jpg|png|webp)$")


@dataclass(frozen=True)
class Bundle:
    """A checked bundle: its manifest, its changes (with the sender's positions) and its photos."""

    manifest: dict
    entries: list[tuple[int, Change]]
    photos: dict[str, bytes]
    skipped: int = 0  # changes not parsed because this exact bundle was imported before

    @property
    def digest(self) -> str:
        """The SHA-256 of the bundle's changes: the same digest means the very same changes."""
        return self.manifest["members"]["changes.jsonl"]


def sign(manifest: dict, key: str) -> str:
    """HMAC-SHA256 of the canonical manifest without its signature."""
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return hmac.new(key.encode(), canonical(unsigned).encode(), hashlib.sha256).hexdigest()


def write(path: Path, *, device_id: str, hub_id: str, direction: str, key: str,
          entries: list[tuple[int, Change]], photos: dict[str, tuple[str, bytes]], cursor: int,
          created_at: str, extra: dict | None = None) -> dict:
    """Write a bundle atomically (temp file, fsync, rename); return its manifest."""
    lines = "".join(canonical({"local_seq": seq, "change": change.to_dict()}) + "\n" for seq, change in entries)
    members = {"changes.jsonl": lines.encode()}
    for sha, (extension, data) in sorted(photos.items()):
        members[f"photos/{sha}.{extension}"] = data
    manifest = {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "device_id": device_id, "hub_id": hub_id,
        "direction": direction, "first_seq": entries[0][0] if entries else 0,
        "last_seq": entries[-1][0] if entries else 0, "cursor": cursor, "created_at": created_at,
        "members": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
        **(extra or {}),
    }
    manifest["signature"] = sign(manifest, key)
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".bundle-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
                for name, data in members.items():
                    # Photos are already compressed; storing them saves time on a slow tablet.
                    kind = zipfile.ZIP_STORED if name.startswith("photos/") else zipfile.ZIP_DEFLATED
                    archive.writestr(name, data, compress_type=kind)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return manifest


def read(data: bytes, key_for: Callable[[dict], str], max_photo_bytes: int,
         already_have: Callable[[dict], bool] = lambda manifest: False) -> Bundle:
    """Check and open a bundle. `key_for(manifest)` returns the signing key or raises SyncError.

    When `already_have(manifest)` says this very bundle (same signed digest of its changes) was
    imported before, the changes are not parsed again: a re-import costs its checks, not its merge.
    """
    archive = _open(data)
    infos = _safe_members(archive, max_photo_bytes)
    manifest = _manifest(archive, infos)
    key = key_for(manifest)
    if not isinstance(manifest.get("signature"), str) or not hmac.compare_digest(manifest["signature"], sign(manifest, key)):
        raise SyncError("bundle.bad_signature", N_("The bundle is not signed with this device's key."))
    contents = _members(archive, infos, manifest)
    if already_have(manifest):
        return Bundle(manifest, [], {}, skipped=contents["changes.jsonl"].count(b"\n"))
    try:
        text = contents.pop("changes.jsonl").decode("utf-8")
    except UnicodeDecodeError:
        raise SyncError("sync.bad_change", N_("A change in %(where)s is malformed."), where="changes.jsonl") from None
    entries = [parse_entry(_json_line(line, number), f"changes.jsonl line {number}")
               for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    photos = {PHOTO_NAME.match(name).group(1): body for name, body in contents.items()}
    for sha, body in photos.items():
        if hashlib.sha256(body).hexdigest() != sha:
            raise SyncError("photo.hash_mismatch", N_("A photo in the bundle does not match its name (%(sha)s)."), sha=sha[:12])
    return Bundle(manifest, entries, photos)


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))  # reads and checks the central directory
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise SyncError("bundle.unreadable", N_("This file is not a readable bundle (damaged or incomplete?).")) from None


def _safe_members(archive: zipfile.ZipFile, max_photo_bytes: int) -> dict[str, zipfile.ZipInfo]:
    infos, total = {}, 0
    for info in archive.infolist():
        name = info.filename
        if name.startswith(("/", "\\")) or "\\" in name or ".." in name.split("/") or ":" in name:
            raise SyncError("bundle.unsafe_path", N_("The bundle holds an unsafe file path: %(name)s."), name=name[:80])
        if name in infos:
            raise SyncError("bundle.member_mismatch", N_("The bundle lists %(name)s twice."), name=name[:80])
        total += info.file_size
        if total > MAX_TOTAL_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO
                                       and info.file_size > 1024 * 1024):
            raise SyncError("bundle.too_large", N_("The bundle unpacks to more than is allowed (a zip bomb?)."))
        limit = MAX_CHANGES_BYTES if name in ("changes.jsonl", "manifest.json") else max_photo_bytes
        if info.file_size > limit:
            raise SyncError("bundle.member_too_large", N_("%(name)s in the bundle is larger than allowed."), name=name[:80])
        infos[name] = info
    return infos


def _manifest(archive: zipfile.ZipFile, infos: dict) -> dict:
    if "manifest.json" not in infos:
        raise SyncError("bundle.bad_manifest", N_("The bundle has no manifest."))
    try:
        manifest = json.loads(_read(archive, infos["manifest.json"]))
    except (ValueError, UnicodeDecodeError):
        raise SyncError("bundle.bad_manifest", N_("The bundle's manifest is not valid JSON.")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("members"), dict):
        raise SyncError("bundle.bad_manifest", N_("The bundle's manifest is not a Pantau KLA manifest."))
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise SyncError("bundle.schema_version", N_("This bundle has schema version %(version)s; this app reads version %(ours)s."),
                        version=str(manifest.get("schema_version"))[:10], ours=SCHEMA_VERSION)
    for field in ("device_id", "hub_id", "direction", "cursor"):
        if field not in manifest:
            raise SyncError("bundle.bad_manifest", N_("The bundle's manifest lacks %(field)s."), field=field)
    for field in ("cursor", "after", "up_to", "first_seq", "last_seq", "acked_seq", "from_cursor"):
        value = manifest.get(field, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 2 ** 53:
            raise SyncError("bundle.bad_manifest", N_("The bundle's manifest lacks %(field)s."), field=field)
    return manifest


def _members(archive: zipfile.ZipFile, infos: dict, manifest: dict) -> dict[str, bytes]:
    listed = manifest["members"]
    present = set(infos) - {"manifest.json"}
    if set(listed) != present or "changes.jsonl" not in present:
        raise SyncError("bundle.member_mismatch", N_("The bundle's files differ from its manifest."))
    contents = {}
    for name in sorted(present):
        if name != "changes.jsonl" and not PHOTO_NAME.match(name):
            raise SyncError("bundle.member_mismatch", N_("The bundle holds an unexpected file: %(name)s."), name=name[:80])
        body = _read(archive, infos[name])
        if hashlib.sha256(body).hexdigest() != listed[name]:
            raise SyncError("bundle.member_mismatch", N_("%(name)s in the bundle was changed or damaged."), name=name[:80])
        contents[name] = body
    return contents


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # Read at most the declared size + 1: a lying header cannot make us inflate more than that.
    try:
        with archive.open(info) as member:
            body = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError):
        raise SyncError("bundle.unreadable", N_("This file is not a readable bundle (damaged or incomplete?).")) from None
    if len(body) != info.file_size:
        raise SyncError("bundle.too_large", N_("The bundle unpacks to more than is allowed (a zip bomb?)."))
    return body


def _json_line(line: str, number: int):
    try:
        return json.loads(line)
    except ValueError:
        raise SyncError("sync.bad_change", N_("A change in %(where)s is malformed."),
                        where=f"changes.jsonl line {number}") from None
