"""Backup round trip: a hub with many audits and photos backed up and restored into a new installation.

    python -m bench.backup [--audits 20000] [--answers 60] [--photos 200] [--postgres]

Baseline in the same run: the plain copy the backup is built on, without manifest, digests or checks
(SQLite's backup API and a copy of the photo folder; `pg_dump -Fc` and `pg_restore` on PostgreSQL).
Reported: backup and restore seconds and their ratios to the plain copy, the backup's size, and the
sizing figures docs/scale.md uses (database bytes per audit, disk bytes per photo with its display copies).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.sync import fill_existing, prepare_hub


def camera_jpeg(seed: int) -> bytes:
    """A 2000 x 1500 photo with a camera's texture (JPEG of a noisy gradient), about what a tablet keeps."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    noise = Image.effect_noise((2000, 1500), 40 + seed % 20).filter(ImageFilter.GaussianBlur(1.2))
    tint = Image.new("RGB", (2000, 1500), (rng.randrange(60, 200), rng.randrange(60, 200), rng.randrange(60, 200)))
    photo = Image.blend(tint, noise.convert("RGB"), 0.35)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=85)
    return out.getvalue()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def database_bytes(app) -> int:
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                return connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        with db.engine.connect() as connection:  # the WAL folded in first: the file's size is the database's
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return Path(db.engine.url.database).stat().st_size


def plain_copy(app, data_dir: Path, out: Path, restore_url: str | None) -> tuple[float, float]:
    """The floor: copy the database and the photos, then put them back, with no checks (seconds each way)."""
    from app.extensions import db

    out.mkdir()
    with app.app_context():
        url = db.engine.url
    start = time.perf_counter()
    if url.get_backend_name() == "postgresql":
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_dump", "--format=custom", f"--file={out / 'db.dump'}", f"--dbname={libpq}"], check=True)
    else:
        source, target = sqlite3.connect(url.database), sqlite3.connect(out / "db.sqlite")
        source.backup(target)
        source.close(), target.close()
    shutil.copytree(data_dir / "photos", out / "photos")
    backup_s = time.perf_counter() - start
    start = time.perf_counter()
    if restore_url:
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={restore_url.replace('+psycopg', '')}", str(out / "db.dump")],
                       check=True)
    else:
        source, target = sqlite3.connect(out / "db.sqlite"), sqlite3.connect(out / "restored.sqlite")
        source.backup(target)
        source.close(), target.close()
    shutil.copytree(out / "photos", out / "restored-photos")
    return backup_s, time.perf_counter() - start


def run(audits: int, answers: int, photos: int, urls: list[str | None]) -> dict:
    from app import create_app
    from app.backup import service
    from app.backup.target import restore_target
    from app.db import Base, utcnow
    from app.extensions import db
    from survey.photos import PhotoStore

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        app, facilities, device_id, _ = prepare_hub(folder / "hub", urls[0], answers)
        fill_existing(app, device_id, facilities, audits, answers)
        store = PhotoStore(folder / "hub" / "photos")
        originals = 0
        for n in range(photos):
            data = camera_jpeg(n)
            originals += len(data)
            store.save(data, 50 * 1024 * 1024)
        db_bytes, photo_bytes = database_bytes(app), folder_bytes(folder / "hub" / "photos")

        start = time.perf_counter()
        with app.app_context():
            made = service.make_backup(db.engine, Base.metadata, folder / "hub", folder / "hub.zip", role="hub",
                                       now=utcnow())
        backup_s = time.perf_counter() - start

        config = {"INSTANCE_PATH": str(folder / "restored"), "ROLE": "hub", "SECRET_KEY": "bench-" + "x" * 32}
        if urls[1]:
            config["DATABASE_URL"] = urls[1]
        restored = create_app(config)
        start = time.perf_counter()
        with restored.app_context():
            done = service.restore_backup(folder / "hub.zip", restore_target())
        restore_s = time.perf_counter() - start
        with restored.app_context():
            db.engine.dispose()

        floor_backup, floor_restore = plain_copy(app, folder / "hub", folder / "plain", urls[2])
    return {"database": "postgresql" if urls[0] else "sqlite", "audits": audits, "answers": answers, "photos": photos,
            "rows": made.rows, "files": made.files, "verified": done.rows == made.rows,
            "backup_s": round(backup_s, 2), "plain_copy_s": round(floor_backup, 2),
            "backup_vs_copy": round(backup_s / floor_backup, 2),
            "restore_s": round(restore_s, 2), "plain_restore_s": round(floor_restore, 2),
            "restore_vs_copy": round(restore_s / floor_restore, 2),
            "backup_mb": round(made.bytes / 1e6, 1), "db_bytes_per_audit": round(db_bytes / max(audits, 1)),
            "photo_original_kb": round(originals / max(photos, 1) / 1024),
            "photo_disk_kb": round(photo_bytes / max(photos, 1) / 1024)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audits", type=int, default=20_000)
    parser.add_argument("--answers", type=int, default=60)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="run on fresh PostgreSQL databases")
    args = parser.parse_args(argv)
    cleanups, urls = [], [None, None, None]
    if args.postgres:
        from tests.support import postgres_url
        from tests.test_migrations import make_postgres_database

        cleanups = [make_postgres_database(postgres_url()) for _ in range(3)]
        urls = [next(c) for c in cleanups]
    try:
        result = run(args.audits, args.answers, args.photos, urls)
    finally:
        for cleanup in cleanups:
            cleanup.close()
    print(f"\nbackup round trip on {result['database']}: {result['audits']} audits x {result['answers']} answers, "
          f"{result['photos']} photos")
    print(f"{'measure':<28}{'value':>14}")
    for key in ("rows", "files", "verified", "backup_s", "plain_copy_s", "backup_vs_copy", "restore_s",
                "plain_restore_s", "restore_vs_copy", "backup_mb", "db_bytes_per_audit", "photo_original_kb",
                "photo_disk_kb"):
        print(f"{key:<28}{str(result[key]):>14}")
    print(json.dumps({"benchmark": "backup round trip", **result}))
    return result


if __name__ == "__main__":
    main()
