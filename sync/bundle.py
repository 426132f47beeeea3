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
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydantic import ValidationError

from sync import schemas
from sync.changes import SCHEMA_VERSION, Change, canonical, parse_entry
from sync.problems import SYNC_PROBLEMS, SyncError

FORMAT = "pantau-bundle"
MAX_TOTAL_BYTES = 2 * 1024 ** 3
MAX_CHANGES_BYTES = 512 * 1024 ** 2
MAX_MANIFEST_BYTES = 1024 ** 2
MAX_RATIO = 200  # a member (or a whole bundle) that inflates more than this is treated as a zip bomb
RATIO_FLOOR = 64 * 1024  # below this a member may compress as well as it likes (a short JSON file does)
READ_CHUNK = 1024 ** 2
# Photos, and the recordings and documents of file items (survey.photos.MEDIA): named by hash and extension.
PHOTO_NAME = re.compile(r"^photos/([0-9a-f]{64})\.(jpg|png|webp|mp3|m4a|wav|ogg|amr|flac|mp4|mov|3gp|webm|pdf|osm|zip|txt)$")


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
    infos = _safe_members(archive, max_photo_bytes, len(data))
    budget = _Budget(min(MAX_TOTAL_BYTES, MAX_RATIO * len(data) + RATIO_FLOOR))
    manifest = _manifest(archive, infos, budget)
    key = key_for(manifest)
    if not isinstance(manifest.get("signature"), str) or not hmac.compare_digest(manifest["signature"], sign(manifest, key)):
        raise SYNC_PROBLEMS("bundle.bad_signature")
    contents = _members(archive, infos, manifest, budget)
    if already_have(manifest):
        return Bundle(manifest, [], {}, skipped=contents["changes.jsonl"].count(b"\n"))
    entries = [parse_entry(_json_line(line, number), f"changes.jsonl line {number}")
               for number, line in enumerate(contents.pop("changes.jsonl").splitlines(), 1) if line.strip()]
    photos = {PHOTO_NAME.match(name).group(1): body for name, body in contents.items()}
    for sha, body in photos.items():
        if hashlib.sha256(body).hexdigest() != sha:
            raise SYNC_PROBLEMS("photo.hash_mismatch/bundle", sha=sha[:12])
    return Bundle(manifest, entries, photos)


# What zipfile raises on a hostile archive, beyond BadZipFile: it reads headers with struct and
# decodes names, and each of those fails in its own way.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, ValueError, OSError, EOFError, struct.error,
              NotImplementedError, KeyError, IndexError, OverflowError)


def _unreadable() -> SyncError:
    return SYNC_PROBLEMS("bundle.unreadable")


def _bomb() -> SyncError:
    return SYNC_PROBLEMS("bundle.too_large")


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))  # reads and checks the central directory
    except ZIP_ERRORS:
        raise _unreadable() from None


def _safe_members(archive: zipfile.ZipFile, max_photo_bytes: int, bundle_size: int) -> dict[str, zipfile.ZipInfo]:
    """Every member checked by its headers before a byte is inflated: path, encryption, compression,
    declared size and ratio, and the declared total against the bundle's own size."""
    infos, total = {}, 0
    for info in archive.infolist():
        name = info.filename
        if name.startswith(("/", "\\")) or "\\" in name or ".." in name.split("/") or ":" in name or "\0" in name:
            raise SYNC_PROBLEMS("bundle.unsafe_path", name=_shown(name))
        if name in infos:
            raise SYNC_PROBLEMS("bundle.member_mismatch/twice", name=_shown(name))
        if info.flag_bits & 0x1:
            raise SYNC_PROBLEMS("bundle.encrypted", name=_shown(name))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Only deflate inflates in bounded steps (zipfile hands bzip2/lzma whole chunks to the decoder).
            raise SYNC_PROBLEMS("bundle.unsupported_compression", name=_shown(name))
        total += info.file_size
        if total > min(MAX_TOTAL_BYTES, MAX_RATIO * bundle_size + RATIO_FLOOR) or (
                info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            raise _bomb()
        if info.file_size > _limit(name, max_photo_bytes):
            raise SYNC_PROBLEMS("bundle.member_too_large", name=_shown(name))
        infos[name] = info
    return infos


def _limit(name: str, max_photo_bytes: int) -> int:
    if name == "manifest.json":
        return MAX_MANIFEST_BYTES
    return MAX_CHANGES_BYTES if name == "changes.jsonl" else max_photo_bytes


def _shown(name: str) -> str:
    """A member's name as it may appear in a message: printable ASCII, short."""
    return "".join(c if " " <= c <= "~" else "?" for c in name[:80])


def _manifest(archive: zipfile.ZipFile, infos: dict, budget: "_Budget") -> dict:
    if "manifest.json" not in infos:
        raise SYNC_PROBLEMS("bundle.bad_manifest/missing")
    try:
        manifest = schemas.parse_json(_read(archive, infos["manifest.json"], MAX_MANIFEST_BYTES, budget))
    except schemas.BadJson:
        raise SYNC_PROBLEMS("bundle.bad_manifest/json") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("members"), dict):
        raise SYNC_PROBLEMS("bundle.bad_manifest")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise SYNC_PROBLEMS("bundle.schema_version", version=_shown(str(version)[:10]), ours=SCHEMA_VERSION)
    try:
        schemas.check(schemas.MANIFEST, manifest)
    except ValidationError as error:
        raise SYNC_PROBLEMS("bundle.bad_manifest/invalid", where=schemas.first_error(error)[0]) from None
    return manifest


def _members(archive: zipfile.ZipFile, infos: dict, manifest: dict, budget: "_Budget") -> dict[str, bytes]:
    listed = manifest["members"]
    present = set(infos) - {"manifest.json"}
    if set(listed) != present or "changes.jsonl" not in present:
        raise SYNC_PROBLEMS("bundle.member_mismatch")
    contents = {}
    for name in sorted(present):
        if name != "changes.jsonl" and not PHOTO_NAME.match(name):
            raise SYNC_PROBLEMS("bundle.member_mismatch/unexpected", name=_shown(name))
    for name in sorted(present):
        body = _read(archive, infos[name], infos[name].file_size, budget)
        if hashlib.sha256(body).hexdigest() != listed[name]:
            raise SYNC_PROBLEMS("bundle.member_mismatch/damaged", name=_shown(name))
        contents[name] = body
    return contents


class _Budget:
    """Bytes the whole bundle may still inflate to, counted as they come out, not as headers claim."""

    def __init__(self, total: int):
        self.left = total

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _bomb()


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: _Budget) -> bytes:
    """A member's bytes, inflated a chunk at a time: refused as soon as it passes its declared size,
    its own limit, its ratio or the bundle's budget, before the rest is inflated."""
    parts, size = [], 0
    cap = min(limit, info.file_size)
    ratio_cap = max(RATIO_FLOOR, MAX_RATIO * max(info.compress_size, 1))
    try:
        with archive.open(info) as member:
            while True:
                part = member.read(READ_CHUNK)
                if not part:
                    break
                size += len(part)
                budget.spend(len(part))
                if size > cap or size > ratio_cap:
                    raise _bomb()
                parts.append(part)
    except ZIP_ERRORS:
        raise _unreadable() from None
    if size != info.file_size:
        raise _unreadable()
    return b"".join(parts)


def _json_line(line: bytes, number: int):
    try:
        return schemas.parse_json(line)
    except schemas.BadJson:
        raise SYNC_PROBLEMS("sync.bad_change", where=f"changes.jsonl line {number}") from None
