"""Indicators computed from the scenario in tests/indicator_scenario.py, kept current by reviews and sync."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.auditlog import AuditLogEntry
from app.cli_support import write_transaction
from indicators import queries
from indicators.definitions import FOLDER
from indicators.models import IndicatorPoints, IndicatorSetVersion, IndicatorValue, IndicatorYear
from indicators.service import compute_year, set_points
from survey.audits.models import Audit
from tests import indicator_scenario
from tests.support import html
from tests.indicator_scenario import EXPECTED_2026

ZONE = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def scenario(app, kota_serang):
    """The scenario loaded; its reviews already computed 2026 (and 2025) through the review hook."""
    return indicator_scenario.build(app)


def stored(app, year=2026) -> dict[int, dict[str, tuple]]:
    with app.app_context():
        from app.extensions import db

        rows = db.session.execute(select(IndicatorValue).where(IndicatorValue.year == year)).scalars()
        result: dict[int, dict[str, tuple]] = {}
        for row in rows:
            if row.wilayah_code in ("36.73", "36.73.01", "36.73.02"):
                result.setdefault(row.number, {})[row.wilayah_code] = (row.numerator, row.denominator)
        return result


def test_every_facility_derived_indicator_has_the_known_answer(app, scenario, runner):
    done = runner.invoke(args=["indicators", "compute", "--year", "2026"])
    assert done.exit_code == 0, done.output
    assert "2026: set kla-2022, 1 kabupaten/kota" in done.output
    values = stored(app)
    assert set(values) == set(EXPECTED_2026)  # entered indicators have no value until entered
    for number, expected in EXPECTED_2026.items():
        assert values[number] == expected, number
    with app.app_context():
        from app.extensions import db

        value = queries.values_of(db.session, "kla-2022", 2026, ["36.73"])
    assert value[(18, "36.73")].value == pytest.approx(100 * 4 / 9)
    assert value[(19, "36.73")].value == 1.0  # a count
    assert value[(13, "36.73")].basis == "rollup"


def test_reviews_already_computed_the_year_through_the_hook(app, scenario):
    # No `flask indicators compute`: the scenario's approvals updated the values as they were made.
    assert stored(app)[18] == EXPECTED_2026[18]
    assert stored(app, 2025)[20]["36.73.01"] == (1, 2)  # play 2's 2025 audit counts in 2025 only


def test_approving_the_waiting_revision_replaces_the_earlier_audit(app, scenario):
    with app.app_context(), write_transaction() as session:
        indicator_scenario.review(session, session.get(Audit, uuid.UUID(scenario["audits"]["G2"])), "approved")
    assert stored(app)[18]["36.73.01"] == (2, 7)


def test_returning_an_approved_audit_does_not_count_it_any_more(app, scenario):
    # A later decision replaces the earlier (the hub's latest decision is the review state).
    with app.app_context(), write_transaction() as session:
        audit = session.get(Audit, uuid.UUID(scenario["audits"]["H"]))
        audit.status = "submitted"
        indicator_scenario.review(session, audit, "returned")
    assert stored(app)[18]["36.73.02"] == (0, 2)
    assert stored(app)[18]["36.73"] == (3, 9)


def test_a_review_arriving_by_sync_updates_the_values(app, scenario):
    """An upper hub's approval of G's revision arrives in a batch: sync.service.apply_batch announces it to the hook."""
    from sync.service import apply_batch
    from sync.changes import Change
    from sync import hlc

    other = str(uuid.uuid4())
    review = Change(origin_id=other, origin_seq=1, kind="review", entity_id=scenario["audits"]["G2"],
                    hlc=hlc.tick(hlc.ZERO), scope="36.73.01",
                    payload={"id": str(uuid.uuid4()), "audit_id": scenario["audits"]["G2"], "decision": "approved",
                             "comment": "", "reviewer": "provinsi", "decided_at": "2026-04-01T03:00:00+00:00",
                             "device_id": None})
    app.config["ROLE"] = "hub"
    with app.app_context(), write_transaction() as session:
        result = apply_batch(session, [review], None, lambda sha: True)
    assert result.applied == 1
    assert stored(app)[18]["36.73.01"] == (2, 7)


def _upper_review(audit_id: str):
    from sync import hlc
    from sync.changes import Change

    return Change(origin_id=str(uuid.uuid4()), origin_seq=1, kind="review", entity_id=audit_id, hlc=hlc.tick(hlc.ZERO),
                  scope="36.73.01", payload={"id": str(uuid.uuid4()), "audit_id": audit_id, "decision": "approved",
                                             "comment": "", "reviewer": "provinsi",
                                             "decided_at": "2026-04-01T03:00:00+00:00", "device_id": None})


def test_a_field_device_does_not_recompute_from_a_sync_batch(app, scenario):
    """Only the hub holds every approved audit: on a field device a batch applies the review and computes nothing."""
    from sync.service import apply_batch

    assert app.config["ROLE"] == "field"
    with app.app_context(), write_transaction() as session:
        assert apply_batch(session, [_upper_review(scenario["audits"]["G2"])], None, lambda sha: True).applied == 1
        assert session.get(Audit, uuid.UUID(scenario["audits"]["G2"])).review_status == "approved"
    assert stored(app)[18]["36.73.01"] == EXPECTED_2026[18]["36.73.01"]


def test_a_broken_indicator_file_never_refuses_a_review_or_a_sync_batch(app, scenario, monkeypatch, tmp_path):
    """A bad draft kla-2025.yaml next to the good file: the hook computes with the stored set and never reads the files."""
    from sync.service import apply_batch

    (tmp_path / "kla-2022.yaml").write_text((FOLDER / "kla-2022.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "kla-2025.yaml").write_text("id: kla-2025\nindicators: [oops\n", encoding="utf-8")
    from indicators import definitions

    monkeypatch.setattr(definitions, "FOLDER", tmp_path)
    monkeypatch.setattr(definitions.shipped_sets, "__defaults__", (tmp_path,))
    with pytest.raises(Exception):
        definitions.shipped_sets()  # the file really is broken
    with app.app_context(), write_transaction() as session:
        audit = session.get(Audit, uuid.UUID(scenario["audits"]["H"]))
        indicator_scenario.review(session, audit, "rejected")
    assert stored(app)[18]["36.73.02"] == (0, 2)
    app.config["ROLE"] = "hub"
    with app.app_context(), write_transaction() as session:
        assert apply_batch(session, [_upper_review(scenario["audits"]["G2"])], None, lambda sha: True).applied == 1
    assert stored(app)[18]["36.73.01"] == (2, 7)


def test_a_failing_recompute_marks_the_year_and_the_review_still_commits(app, scenario, monkeypatch, auth, planner):
    """Whatever fails in the hook is logged; the decision is kept and the year shows it needs a recompute."""
    from indicators import service

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "compute_year", broken)
    with app.app_context(), write_transaction() as session:
        indicator_scenario.review(session, session.get(Audit, uuid.UUID(scenario["audits"]["G2"])), "approved")
    with app.app_context():
        from app.extensions import db

        assert db.session.get(Audit, uuid.UUID(scenario["audits"]["G2"])).review_status == "approved"
        assert db.session.get(IndicatorYear, 2026).computed_at is None
        assert db.session.get(IndicatorYear, 2025).computed_at is not None  # only the year the audit counts in
    assert stored(app)[18]["36.73.01"] == EXPECTED_2026[18]["36.73.01"]  # the old values stay, marked stale
    auth.login("dewi")
    auth.post("/language", {"locale": "en"})
    page = html(auth.client.get("/indicators/36.73/2026"))
    assert "needs a recompute" in page.get_text()


def test_a_year_keeps_its_set_when_a_new_set_is_shipped(app, scenario, monkeypatch, tmp_path):
    text = (FOLDER / "kla-2022.yaml").read_text(encoding="utf-8")
    (tmp_path / "kla-2022.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "kla-2025.yaml").write_text(text.replace("id: kla-2022", "id: kla-2025")
                                            .replace("applies_from: 2022", "applies_from: 2025"), encoding="utf-8")
    from indicators import definitions

    monkeypatch.setattr(definitions, "FOLDER", tmp_path)
    monkeypatch.setattr(definitions.shipped_sets, "__defaults__", (tmp_path,))
    with app.app_context(), write_transaction() as session:
        assert compute_year(session, 2026, ZONE).set_id == "kla-2022"  # computed before: keeps its set
        assert compute_year(session, 2027, ZONE).set_id == "kla-2025"  # new year: the newest set that applies
        moved = compute_year(session, 2026, ZONE, set_id="kla-2025")  # asked for explicitly
        assert moved.set_id == "kla-2025"
    with app.app_context():
        from app.extensions import db

        assert db.session.get(IndicatorYear, 2026).set_id == "kla-2025"
        sets = {r.set_id for r in db.session.execute(select(IndicatorValue).where(IndicatorValue.year == 2026)).scalars()}
        assert sets == {"kla-2025"}


@pytest.mark.parametrize("args, code", [
    (["--year", "1999"], "indicators.bad_year"),
    (["--year", "2021"], "indicators.no_set"),
    (["--year", "2026", "--set", "kla-1999"], "indicators.unknown_set"),
])
def test_compute_refuses_bad_input_and_changes_nothing(app, kota_serang, runner, args, code):
    done = runner.invoke(args=["indicators", "compute", *args])
    assert done.exit_code == 1
    assert f"[{code}]" in done.output
    with app.app_context():
        from app.extensions import db

        assert db.session.execute(select(func.count()).select_from(IndicatorYear)).scalar() == 0
        assert db.session.execute(select(func.count()).select_from(IndicatorSetVersion)).scalar() == 0


def test_check_command_reports_a_bad_file_in_both_languages(runner, tmp_path):
    bad = tmp_path / "kla-2099.yaml"
    bad.write_text((FOLDER / "kla-2022.yaml").read_text(encoding="utf-8").replace("id: kla-2022", "id: kla-2099")
                   .replace("points: 60", "points: 61", 1), encoding="utf-8")
    done = runner.invoke(args=["indicators", "check", str(bad)])
    assert done.exit_code == 1
    assert "[indicators.points_total]" in done.output
    assert "harus berjumlah 1000" in done.output and "must add up to 1000" in done.output
    good = runner.invoke(args=["indicators", "check", str(FOLDER / "kla-2022.yaml")])
    assert good.output.startswith("kla-2022: 24 indicators, 1000 points")


def test_points_edits_are_logged_and_must_total_1000(app, scenario):
    with app.app_context(), write_transaction() as session:
        current = queries.points_of(session, "kla-2022")
        with pytest.raises(Exception) as refused:
            set_points(session, "kla-2022", {**current, 1: 70})
        assert refused.value.code == "indicators.points_total"
        assert set_points(session, "kla-2022", {**current, 1: 70, 2: 40}, user_id=None) == 2
    with app.app_context():
        from app.extensions import db

        assert db.session.get(IndicatorPoints, ("kla-2022", 1)).points == 70
        logged = db.session.execute(select(AuditLogEntry).where(AuditLogEntry.action == "points")
                                    .order_by(AuditLogEntry.entity_id)).scalars().all()
        assert [(e.entity_id, e.changes) for e in logged] == [("kla-2022#1", {"points": [60, 70]}),
                                                              ("kla-2022#2", {"points": [50, 40]})]


def test_demo_audits_only_in_a_demo_installation_and_only_once(app, runner):
    refused = runner.invoke(args=["indicators", "demo"])
    assert refused.exit_code == 1 and "[indicators.demo_only]" in refused.output
    app.config["DEMO"] = True
    from app.cli import initialise

    with app.app_context():
        initialise(seed_demo=True)
    done = runner.invoke(args=["indicators", "demo"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(args=["indicators", "demo"])
    assert again.exit_code == 1 and "[indicators.demo_loaded]" in again.output
    with app.app_context():
        from app.extensions import db

        approved = db.session.execute(select(func.count()).select_from(Audit)).scalar()
    as_make_run = runner.invoke(args=["indicators", "demo", "--if-missing"])  # every `make run` after the first
    assert as_make_run.exit_code == 0 and "nothing added" in as_make_run.output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Audit)).scalar() == approved
        from app.extensions import db

        assert {r.year for r in db.session.execute(select(IndicatorYear)).scalars()} == {
            dt.datetime.now(ZONE).year - 1, dt.datetime.now(ZONE).year}
        assert db.session.execute(select(func.count()).select_from(Audit).where(Audit.review_status == "approved")).scalar() > 20


def test_a_review_recomputes_its_kecamatan_only_and_matches_a_full_recompute(app, scenario, runner):
    """The hook recomputes the reviewed audit's kecamatan and the rollup; the result is what a full run gives."""
    from indicators.models import IndicatorCoverage

    def snapshot():
        with app.app_context():
            from app.extensions import db

            values = {(r.number, r.wilayah_code): (r.value, r.numerator, r.denominator, r.basis)
                      for r in db.session.execute(select(IndicatorValue).where(IndicatorValue.year == 2026)).scalars()}
            cover = {r.wilayah_code: (r.audited, r.facilities)
                     for r in db.session.execute(select(IndicatorCoverage).where(IndicatorCoverage.year == 2026)).scalars()}
            return values, cover

    with app.app_context(), write_transaction() as session:
        indicator_scenario.review(session, session.get(Audit, uuid.UUID(scenario["audits"]["G2"])), "approved")
        audit = session.get(Audit, uuid.UUID(scenario["audits"]["H"]))
        indicator_scenario.review(session, audit, "rejected")
    after_hook = snapshot()
    assert after_hook[0][(18, "36.73")][1:3] == (2, 9) and after_hook[1]["36.73.02"] == (1, 4)
    assert runner.invoke(args=["indicators", "compute", "--year", "2026"]).exit_code == 0
    assert snapshot() == after_hook


def test_a_revision_submitted_next_year_updates_the_year_of_the_visit(app, scenario, runner):
    """Play 2 was audited in 2025; its correction, submitted in January 2026 and approved, counts for 2025 only."""
    from sqlalchemy import select as sql_select

    from app.auth.models import User

    with app.app_context(), write_transaction() as session:
        siti = session.execute(sql_select(User.id).where(User.username == "siti")).scalar_one()
        original = session.get(Audit, uuid.UUID(scenario["audits"]["play2"]))
        correction = indicator_scenario.submitted_audit(session, scenario["facilities"]["play2"], "rbra", "memenuhi",
                                                        siti, dt.datetime(2026, 1, 10, 9, tzinfo=indicator_scenario.WIB),
                                                        original)
        indicator_scenario.review(session, correction, "approved")
    assert stored(app, 2025)[20]["36.73.01"] == (1, 2)  # the correction replaced the 2025 audit
    assert stored(app)[20] == EXPECTED_2026[20]  # and 2026 is untouched by the hook
    assert runner.invoke(args=["indicators", "compute", "--year", "2026"]).exit_code == 0
    assert stored(app)[20]["36.73.01"] == (1, 2)  # a full recompute agrees: the 2025 visit does not count in 2026
    assert runner.invoke(args=["indicators", "compute", "--year", "2025"]).exit_code == 0
    assert stored(app, 2025)[20]["36.73.01"] == (1, 2)
