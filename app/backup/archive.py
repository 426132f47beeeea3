"""The backup file: a zip of the database copy, the data folder's files and a manifest that lists both.

The manifest names every member with its size and SHA-256, and every table with its columns, its row
count and a digest of its rows, so a restore can prove it brought back exactly what was saved, row by row
and file by file. The row digest is the sum of each row's SHA-256 (mod 2^256): independent of row
order, which differs between databases and collations, yet changed by any added, lost or altered row.
Pure: no Flask.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, MetaData, inspect

from app.backup.problems import BACKUP_PROBLEMS

FORMAT = "pantau-kla-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/pantau.sqlite", "postgresql": "database/pantau.pgdump"}
# The data folder's files that are data (photos, evidence, checklist files, return bundles waiting for a
# USB stick); temporary export folders and the database files are not.
FILE_FOLDERS = ("photos", "evidence", "checklists", "returns")
# Only what a backup writes: the database copy, and files inside the data folders above (never the
# settings, the session key or the database file itself).
_MEMBER = re.compile(r"database/pantau\.(sqlite|pgdump)|files/(%s)/[A-Za-z0-9._/-]+" % "|".join(FILE_FOLDERS))
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # about a million files listed; a larger one is refused unread
_MODULUS = 1 << 256
_CHUNK = 1 << 20


def row_hash(row: tuple) -> int:
    """One row, as the database driver returns it, as an integer SHA-256."""
    return int.from_bytes(hashlib.sha256(repr(row).encode()).digest(), "big")


def table_digests(connection: Connection, metadata: MetaData,
                  columns: dict[str, list[str]] | None = None) -> dict[str, dict]:
    """Each table's columns, row count and row digest: of the tables and columns given (a manifest's, when
    verifying a restore), else of every table of the metadata that the database has.

    Rows are hashed as the driver gives them, without the ORM's type conversion (five times faster): a
    digest compares a backup with its restore on the same kind of database, which is all a restore does.
    """
    present = set(inspect(connection).get_table_names())
    wanted = columns or {name: [c.name for c in table.columns] for name, table in metadata.tables.items()
                         if name in present}
    quote = connection.dialect.identifier_preparer.quote
    if connection.dialect.name == "postgresql":
        # timestamptz comes back in the session's zone: the same rows must hash the same on any server.
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    out = {}
    for name in sorted(wanted):
        if name not in present or not set(wanted[name]) <= {c["name"] for c in inspect(connection).get_columns(name)}:
            out[name] = {"columns": wanted[name], "rows": None, "digest": None}
            continue
        count, total = 0, 0
        sql = f"SELECT {', '.join(quote(c) for c in wanted[name])} FROM {quote(name)}"
        # Streamed: a hub's answer table does not fit in memory as one list.
        # (Per statement: Connection.execution_options would change the connection for what follows.)
        result = connection.exec_driver_sql(sql, execution_options={"stream_results": True, "yield_per": 5000})
        for row in result:
            count += 1
            total += row_hash(tuple(row))
        out[name] = {"columns": wanted[name], "rows": count, "digest": f"{total % _MODULUS:064x}"}
    return out


def compare_digests(expected: dict[str, dict], found: dict[str, dict]) -> tuple[str, int | None, int | None] | None:
    """The first table whose rows differ, as (table, rows saved, rows found); None when every table matches."""
    for name in sorted(expected):
        want, got = expected[name], found.get(name) or {}
        if got.get("rows") != want["rows"] or got.get("digest") != want["digest"]:
            return name, want["rows"], got.get("rows")
    return None


def data_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """(member name, path) of every data file under the data folder, temporary files left out."""
    for folder in FILE_FOLDERS:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith(".") and not path.name.endswith((".tmp", ".partial")):
                yield "files/" + path.relative_to(data_dir).as_posix(), path


@dataclass
class Writer:
    """Writes a backup under a temporary name and moves it into place only when it is whole."""

    path: Path
    members: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self):
        self.partial = self.path.with_name(f".{self.path.name}.partial")
        # Level 1: most of a backup is photos (stored as they are); the database compresses well even so.
        self.zip = zipfile.ZipFile(self.partial, "w", allowZip64=True, compresslevel=1)

    def add(self, name: str, source: Path, compress: bool) -> None:
        """Copy one file in, hashing it on the way."""
        digest, size = hashlib.sha256(), 0
        info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED  # photos are compressed already
        with source.open("rb") as stream, self.zip.open(info, "w", force_zip64=True) as out:
            for block in iter(lambda: stream.read(_CHUNK), b""):
                digest.update(block)
                size += len(block)
                out.write(block)
        self.members[name] = {"size": size, "sha256": digest.hexdigest()}

    def finish(self, manifest: dict) -> None:
        """Write the manifest, flush to disk, and give the file its name."""
        self.zip.writestr(MANIFEST, json.dumps({**manifest, "members": self.members}, indent=1, sort_keys=True))
        self.zip.close()
        with self.partial.open("r+b") as stream:  # write access: Windows flushes only a handle that may write
            os.fsync(stream.fileno())
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        self.zip.close()
        self.partial.unlink(missing_ok=True)


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: Annotated[int, Field(ge=0, le=1 << 50)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class TableState(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: Annotated[list[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]], Field(min_length=1)]
    rows: Annotated[int, Field(ge=0)] | None
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None


class Manifest(BaseModel):
    """What `manifest.json` must say; anything else is not a backup this app made."""

    format: Literal["pantau-kla-backup"]
    version: int
    created_at: str
    role: Literal["field", "hub"]
    database: Literal["sqlite", "postgresql"]
    revision: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,64}$")] | None
    tables: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")], TableState]
    members: dict[str, Member]
    missing_photos: list[str] = []


class Reader:
    """A backup file opened for restoring: its manifest checked against its members before anything is used."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, ValueError):
            raise BACKUP_PROBLEMS("backup.not_a_backup", name=path.name) from None
        try:
            self.manifest = self._manifest()
            self._check_members()
        except BaseException:
            self.zip.close()  # Windows cannot delete a file still open
            raise

    def _manifest(self) -> dict:
        try:
            info = self.zip.getinfo(MANIFEST)
            if info.file_size > MAX_MANIFEST_BYTES:
                raise ValueError("manifest too large")
            raw = json.loads(self.zip.read(info))
        except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError):
            raise BACKUP_PROBLEMS("backup.not_a_backup", name=self.path.name) from None
        if isinstance(raw, dict) and raw.get("format") == FORMAT and raw.get("version") != VERSION:
            raise BACKUP_PROBLEMS("backup.format", version=str(raw.get("version"))[:20], ours=VERSION)
        try:
            return Manifest.model_validate(raw).model_dump()
        except ValidationError:
            raise BACKUP_PROBLEMS("backup.not_a_backup", name=self.path.name) from None

    def _check_members(self) -> None:
        listed = self.manifest["members"]
        held = {info.filename: info for info in self.zip.infolist() if info.filename != MANIFEST}
        for name in sorted(set(held) - set(listed)):
            raise BACKUP_PROBLEMS("backup.unexpected", name=name[:200])
        for name in sorted(listed):
            if not _MEMBER.fullmatch(name) or ".." in PurePosixPath(name).parts:
                raise BACKUP_PROBLEMS("backup.unexpected", name=name[:200])
            if name not in held:
                raise BACKUP_PROBLEMS("backup.incomplete", name=name)
            if held[name].file_size != listed[name]["size"]:  # checked again, byte by byte, when extracted
                raise BACKUP_PROBLEMS("backup.damaged", name=name)

    def unpacked_size(self) -> int:
        """Bytes every member takes once extracted."""
        return sum(member["size"] for member in self.manifest["members"].values())

    def files(self) -> list[str]:
        """The data folder's members."""
        return sorted(n for n in self.manifest["members"] if n.startswith("files/"))

    def extract(self, name: str, target: Path) -> None:
        """Copy one member to `target` (whole or not at all), proving its size and SHA-256."""
        expected = self.manifest["members"][name]
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        digest, size = hashlib.sha256(), 0
        try:
            with self.zip.open(name) as stream, partial.open("wb") as out:
                for block in iter(lambda: stream.read(_CHUNK), b""):
                    size += len(block)
                    if size > expected["size"]:  # never more than the list says: a tampered member stops here
                        raise BACKUP_PROBLEMS("backup.damaged", name=name)
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
                raise BACKUP_PROBLEMS("backup.damaged", name=name)
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError):
            partial.unlink(missing_ok=True)
            raise BACKUP_PROBLEMS("backup.damaged", name=name) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)

    def close(self) -> None:
        self.zip.close()
