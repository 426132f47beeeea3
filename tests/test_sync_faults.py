"""Kill the importing process with SIGKILL at every point of a bundle import, then import again:
nothing lost, nothing duplicated, whatever the point."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest

from app.cli_support import write_transaction
from tests.conftest import Session
from tests.support import ROOT, flask_here, make_jpeg
from tests.test_sync_e2e import KTR, device, enrol, flask, hub  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
AUDITS = 4


def make_audits(device_app) -> None:
    """Four KTR audits at different facilities, each with two photos as evidence."""
    browser = Session(device_app.test_client())
    browser.login("siti", "kata-sandi-siti")
    page = browser.client.get("/facilities/").get_data(as_text=True)
    facility_ids = [part.split('"', 1)[0] for part in page.split('href="/facilities/')[2:]][:AUDITS]
    for index, facility in enumerate(facility_ids):
        audit = browser.post(f"/facilities/{facility}/audits/new", {"checklist": "ktr@1"}).headers["Location"].rsplit("/", 1)[1]
        for item in KTR:
            browser.post(f"/audits/{audit}/answers/{item}", {"value": "ya" if index % 2 else "sebagian"})
        for shot in range(2):
            jpeg = make_jpeg(color=(index * 40, shot * 90, 120))
            browser.post(f"/audits/{audit}/photos/{KTR[shot]}",
                         {"photo": (io.BytesIO(jpeg), "foto.jpg", "image/jpeg")}, content_type="multipart/form-data")
        browser.post(f"/audits/{audit}/position", {"lat": "-6.112", "lon": "106.164", "accuracy": "7", "source": "gps"})
        assert browser.post(f"/audits/{audit}/submit").status_code == 302


def counts(instance) -> dict:
    # Closed here, not whenever it is collected: a connection closing mid-rmtree takes its -wal file with it.
    with closing(sqlite3.connect(instance / "pantau.db")) as conn:
        tables = ("audit", "answer", "answer_photo", "gps_reading", "photo", "sync_change", "checklist_version")
        result = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        result["acked"] = conn.execute("SELECT max(acked_seq) FROM device WHERE is_self = 0").fetchone()[0]
        result["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
    result["photo files"] = len(list((instance / "photos" / "original").rglob("*.jpg")))
    return result


@pytest.mark.timeout(900)  # about 30 kill points, three imports each, a process start per killed import
def test_sigkill_at_every_point_of_an_import_loses_and_duplicates_nothing(hub, device, tmp_path):
    enrol(hub, device)
    make_audits(device)
    from sync import service
    from sync.run import photo_store

    bundle = tmp_path / "tablet.zip"
    with device.app_context(), write_transaction() as session:
        service.export_bundle(session, bundle, photo_store())
    hub.stop()
    pristine = tmp_path / "hub-pristine"
    shutil.copytree(hub.instance, pristine)
    reference = tmp_path / "hub-reference"
    shutil.copytree(pristine, reference)
    run(reference, bundle, hub.env)
    expected = counts(reference)
    assert expected["audit"] == AUDITS and expected["photo files"] == AUDITS * 2

    def killed_and_recovered(point: int) -> str | None:
        """Kill an import at this point, sync again (twice): the name of the point, or None past the last one."""
        work = tmp_path / f"hub-{point}"
        shutil.copytree(pristine, work)
        log = tmp_path / f"faults-{point}.log"
        first = run(work, bundle, {**hub.env, "PANTAU_FAULT_POINT": str(point), "PANTAU_FAULT_LOG": str(log)}, check=False)
        try:
            if first.returncode == 0:
                return None  # past the last point: the import ran through
            assert first.returncode == -9, first.stderr
            name = log.read_text().splitlines()[-1]
            with one_at_a_time:
                import_again(work, bundle, hub.env)  # the next sync finishes the job
                assert counts(work) == expected, f"after a kill at {name}"
                import_again(work, bundle, hub.env)  # and once more: still nothing doubled
                assert counts(work) == expected, f"after a kill at {name}, imported again"
            return name
        finally:
            shutil.rmtree(work)

    # Two kill points at a time, each on its own copy of the hub: a process start per import is most of the cost,
    # so only the killed import is a process of its own; the imports after it run here, a fresh app on the files
    # the killed one left, one at a time (the CLI runner swaps this process's standard streams).
    one_at_a_time = threading.Lock()
    killed_at = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(1, 200, 2):
            names = list(pool.map(killed_and_recovered, (start, start + 1)))
            killed_at += [name for name in names if name is not None]
            if None in names:
                break
    assert len(set(killed_at)) >= 10 and len(killed_at) >= 20, killed_at
    print(f"killed at {len(killed_at)} points: {killed_at}")


def import_again(instance, bundle, env) -> None:
    """`flask sync import` of the bundle on the hub in this folder, run in this process (tests.support.flask_here)."""
    done = flask_here({**env, "PANTAU_INSTANCE_PATH": str(instance)}, "sync", "import", str(bundle), "--return-out",
                      str(instance / "return.zip"))
    assert done.returncode == 0, done.stderr + done.stdout


def run(instance, bundle, env, check=True):
    done = subprocess.run([sys.executable, "-m", "flask", "sync", "import", str(bundle), "--return-out",
                           str(instance / "return.zip")], cwd=ROOT, env={**env, "PANTAU_INSTANCE_PATH": str(instance)},
                          capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return done
