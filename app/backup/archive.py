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
from typing import Iterator

from sqlalchemy import Connection, MetaData, inspect

from app.backup.problems import BACKUP_PROBLEMS

FORMAT = "pantau-kla-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/pantau.sqlite", "postgresql": "database/pantau.pgdump"}
# The data folder's files that are data (photos, evidence, checklist files, return bundles waiting for a
# USB stick); temporary export folders and the database files are not.
FILE_FOLDERS = ("photos", "evidence", "checklists", "returns")
_MEMBER = re.compile(r"(database|files)/[A-Za-z0-9._/-]+")
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
    out = {}
    for name in sorted(wanted):
        if name not in present:
            out[name] = {"columns": wanted[name], "rows": None, "digest": None}
            continue
        count, total = 0, 0
        sql = f"SELECT {', '.join(quote(c) for c in wanted[name])} FROM {quote(name)}"
        # Streamed: a hub's answer table does not fit in memory as one list.
        result = connection.execution_options(stream_results=True, yield_per=5000).exec_driver_sql(sql)
        for row in result:
            count += 1
            total += row_hash(tuple(row))
        out[name] = {"columns": wanted[name], "rows": count, "digest": f"{total % _MODULUS:064x}"}
    return out


def compare_digests(expected: dict[str, dict], found: dict[str, dict]) -> tuple[str, str] | None:
    """The first table whose rows differ, with what differs; None when every table matches."""
    for name in sorted(expected):
        want, got = expected[name], found.get(name) or {}
        if got.get("rows") != want["rows"]:
            return name, f"{want['rows']} rows saved, {got.get('rows')} restored"
        if got.get("digest") != want["digest"]:
            return name, "same number of rows, different contents"
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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


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
        with self.partial.open("rb") as stream:
            os.fsync(stream.fileno())
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        self.zip.close()
        self.partial.unlink(missing_ok=True)


class Reader:
    """A backup file opened for restoring: its manifest checked against its members before anything is used."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
            manifest = json.loads(self.zip.read(MANIFEST))
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError):
            raise BACKUP_PROBLEMS("backup.not_a_backup", name=path.name) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
                manifest.get("members"), dict) or not isinstance(manifest.get("tables"), dict):
            raise BACKUP_PROBLEMS("backup.not_a_backup", name=path.name)
        if manifest.get("version") != VERSION:
            raise BACKUP_PROBLEMS("backup.format", version=manifest.get("version"), ours=VERSION)
        self.manifest = manifest
        names = set(self.zip.namelist()) - {MANIFEST}
        for name in sorted(names - set(manifest["members"])):
            raise BACKUP_PROBLEMS("backup.unexpected", name=name)
        for name in sorted(manifest["members"]):
            if not _MEMBER.fullmatch(name) or ".." in PurePosixPath(name).parts:
                raise BACKUP_PROBLEMS("backup.unexpected", name=name)
            if name not in names:
                raise BACKUP_PROBLEMS("backup.incomplete", name=name)

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
