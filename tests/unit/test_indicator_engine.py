"""The indicator engine: which audit counts, facility values, rollup, entered values, points and bands."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from indicators.definitions import FOLDER, load_file
from indicators.engine import (AuditRecord, Entry, FacilityRecord, Value, achievement, counting_audits, coverage,
                               entered_kabkota, facility_values, next_band, predicate, project, rollup)

KLA = load_file(FOLDER / "kla-2022.yaml")
F = uuid.UUID(int=1)


def at(day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=day)


def audit(n: int, result="memenuhi", review="approved", day=0, year=2026, revision=1, revision_of=None,
          facility=F, checklist="sra") -> AuditRecord:
    return AuditRecord(uuid.UUID(int=100 + n), facility, checklist, result, review, at(day, year), year,
                       revision, uuid.UUID(int=100 + revision_of) if revision_of else None)


# (story, audits, the audit number that counts or None)
COUNTING = [
    ("approved counts", [audit(1)], 1),
    ("returned does not", [audit(1, review="returned")], None),
    ("rejected does not", [audit(1, review="rejected")], None),
    ("awaiting review does not", [audit(1, review=None)], None),
    ("other year does not", [audit(1, year=2025)], None),
    ("approved revision replaces the original",
     [audit(1), audit(2, result="belum_memenuhi", day=5, revision=2, revision_of=1)], 2),
    ("revision awaiting review: the original still counts",
     [audit(1), audit(2, result="belum_memenuhi", review=None, day=5, revision=2, revision_of=1)], 1),
    ("returned revision: the original still counts",
     [audit(1), audit(2, review="returned", day=5, revision=2, revision_of=1)], 1),
    ("rejected revision: the original still counts",
     [audit(1), audit(2, review="rejected", day=5, revision=2, revision_of=1)], 1),
    ("returned original corrected and approved",
     [audit(1, review="returned"), audit(2, day=5, revision=2, revision_of=1)], 2),
    ("third revision approved over second approved",
     [audit(1), audit(2, day=3, revision=2, revision_of=1), audit(3, day=9, revision=3, revision_of=2)], 3),
    ("a revision made next year stays in the visit's year",
     [audit(1, year=2026), audit(2, year=2027, day=400, revision=2, revision_of=1)], 2),
    ("two independent audits: the later approved one",
     [audit(1, day=1), audit(2, result="belum_memenuhi", day=20)], 2),
    ("two independent audits: the later one unreviewed",
     [audit(1, day=1), audit(2, result="belum_memenuhi", day=20, review=None)], 1),
]


# (story, audits, year computed, the audit number that counts or None)
CHAINS = [
    ("a next-year revision does not count in its own year", [audit(1, year=2025), audit(2, year=2026, revision=2, revision_of=1)],
     2026, None),
    ("a next-year revision counts in the visit's year", [audit(1, year=2025), audit(2, year=2026, revision=2, revision_of=1)],
     2025, 2),
    ("a revision whose first audit is unknown never counts", [audit(2, year=2026, revision=2, revision_of=1)], 2026, None),
    ("correcting an older visit does not override a newer visit",
     [audit(1, day=0), audit(2, result="belum_memenuhi", day=60), audit(3, day=90, revision=2, revision_of=1)], 2026, 2),
    ("the newer visit's correction counts", [audit(1, day=0), audit(2, result="belum_memenuhi", day=60),
                                            audit(3, day=90, revision=2, revision_of=2)], 2026, 3),
]


@pytest.mark.parametrize("audits, year, expected", [c[1:] for c in CHAINS], ids=[c[0] for c in CHAINS])
def test_which_chain_counts(audits, year, expected):
    counting = counting_audits(audits, year)
    if expected is None:
        assert counting == {}
    else:
        assert counting[(F, "sra")].id == uuid.UUID(int=100 + expected)


@pytest.mark.parametrize("audits, expected", [c[1:] for c in COUNTING], ids=[c[0] for c in COUNTING])
def test_which_audit_counts(audits, expected):
    counting = counting_audits(audits, 2026)
    if expected is None:
        assert counting == {}
    else:
        assert counting[(F, "sra")].id == uuid.UUID(int=100 + expected)


def test_facility_values_per_kecamatan_with_unaudited_facilities_in_the_denominator():
    schools = [FacilityRecord(uuid.UUID(int=i), "sekolah", "36.73.01") for i in range(1, 5)]
    play = [FacilityRecord(uuid.UUID(int=9), "ruang_bermain", "36.73.02")]
    audits = [audit(1, facility=schools[0].id), audit(2, facility=schools[1].id, result="belum_memenuhi"),
              audit(3, facility=schools[2].id, review="returned"),
              audit(4, facility=play[0].id, checklist="rbra"), audit(5, facility=play[0].id, checklist="ktr")]
    counting = counting_audits(audits, 2026)
    sra = facility_values(KLA.indicator(18), schools + play, counting, ["36.73.01", "36.73.02", "36.73.03"])
    assert sra["36.73.01"] == Value(25.0, 1, 4)
    assert sra["36.73.02"] == Value(None, 0, 0)  # no school: no value, not 0 %
    assert rollup(KLA.indicator(18), sra) == Value(25.0, 1, 4, "rollup")
    rbra = facility_values(KLA.indicator(20), schools + play, counting, ["36.73.01", "36.73.02"])
    assert rbra["36.73.02"] == Value(1.0, 1, 1)
    ktr = facility_values(KLA.indicator(15), schools + play, counting, ["36.73.01", "36.73.02"])
    assert (ktr["36.73.01"], ktr["36.73.02"]) == (Value(0.0, 0, 4), Value(100.0, 1, 1))
    assert rollup(KLA.indicator(15), ktr).value == pytest.approx(20.0)
    assert coverage(schools + play, counting, ["36.73.01", "36.73.02"]) == {"36.73.01": (2, 4), "36.73.02": (1, 1)}


TWO = ["36.73.01", "36.73.02"]
ENTERED = [
    ("kabkota entry wins", 4, Entry("36.73", 80), [Entry("36.73.01", 10)], TWO, Value(80, None, None, "entered")),
    ("percent with counts: pooled", 4, None, [Entry("36.73.01", 50, 5, 10), Entry("36.73.02", 100, 30, 30)], TWO,
     Value(87.5, 35, 40, "rollup")),
    ("percent without counts: mean", 4, None, [Entry("36.73.01", 50), Entry("36.73.02", 100, 30, 30)], TWO,
     Value(75.0, None, None, "rollup")),
    ("count: summed", 3, None, [Entry("36.73.01", 2), Entry("36.73.02", 3)], TWO, Value(5, None, None, "rollup")),
    ("yes/no: no rollup", 1, None, [Entry("36.73.01", 1)], TWO, None),
    ("nothing entered", 4, None, [], TWO, None),
    ("one kecamatan of two at 100 %: no city value", 4, None, [Entry("36.73.01", 100)], TWO, None),
    ("one of two with counts: no city value", 4, None, [Entry("36.73.01", 100, 30, 30)], TWO, None),
    ("a count from one kecamatan of two: no city value", 3, None, [Entry("36.73.01", 2)], TWO, None),
]


@pytest.mark.parametrize("number, kabkota, kecamatan, codes, expected", [c[1:] for c in ENTERED], ids=[c[0] for c in ENTERED])
def test_entered_values_roll_up(number, kabkota, kecamatan, codes, expected):
    assert entered_kabkota(KLA.indicator(number), kabkota, kecamatan, codes) == expected


@pytest.mark.parametrize("total, band", [(0, None), (499.49, None), (499.99, "pratama"), (500, "pratama"), (600, "pratama"),
                                         (600.49, "pratama"), (600.5, "madya"),
                                         (601, "madya"), (700, "madya"), (701, "nindya"), (800, "nindya"),
                                         (801, "utama"), (900, "utama"), (901, "kla"), (1000, "kla")])
def test_predicate_bands(total, band):
    assert predicate(total) == band


# (raw total, shown total, predicate, next band, gap): the band, gap and display use one rounded total.
EDGES = [(499.96, 500, "pratama", "madya", 101), (500, 500, "pratama", "madya", 101), (600.4, 600, "pratama", "madya", 1),
         (600.96, 601, "madya", "nindya", 100), (1000, 1000, "kla", None, None), (499.4, 499, None, "pratama", 1)]


@pytest.mark.parametrize("raw, shown, band, upper, gap", EDGES, ids=[str(e[0]) for e in EDGES])
def test_projection_bands_the_total_it_shows(raw, shown, band, upper, gap):
    points = {i.number: 0 for i in KLA.indicators}
    points[18] = 1000
    values = {18: Value(KLA.indicator(18).target * raw / 1000)}
    projection = project(KLA, points, values)
    assert projection.total == shown and isinstance(projection.total, int)
    assert (projection.predicate, projection.next_band, projection.gap) == (band, upper, gap)


def test_next_band():
    assert next_band(450) == ("pratama", 500)
    assert next_band(650) == ("nindya", 701)
    assert next_band(950) is None


@pytest.mark.parametrize("number, value, level, expected", [
    (18, 50.0, "kabkota", 0.5), (18, None, "kabkota", 0.0), (18, 130.0, "kabkota", 1.0),
    (20, 1.0, "kecamatan", 0.5), (20, 6.0, "kabkota", 0.5), (1, 1.0, "kabkota", 1.0), (1, 0.0, "kabkota", 0.0)])
def test_achievement(number, value, level, expected):
    assert achievement(KLA.indicator(number), value, level) == expected


def test_projection_ranks_gains_and_marks_what_reaches_the_next_band():
    # Every indicator at target except 13 (50 points, at 0), 18 (50 points, at 60 %) and 4 (60 points, none).
    values = {i.number: Value(i.target) for i in KLA.indicators}
    values.update({13: Value(0.0), 18: Value(60.0), 4: None})
    projection = project(KLA, KLA.default_points, values)
    assert projection.total == pytest.approx(1000 - 50 - 20 - 60)
    assert (projection.predicate, projection.next_band, projection.gap) == ("utama", "kla", pytest.approx(31))
    assert [(g.number, g.gain, g.closes_gap) for g in projection.gains] == [(4, 60, True), (13, 50, False), (18, 20, False)]


def test_projection_uses_edited_points():
    values = {i.number: None for i in KLA.indicators}
    values[1] = Value(1.0)
    points = dict(KLA.default_points)
    points[1], points[2] = 110, 0
    assert project(KLA, points, values).total == 110


def test_chart_geometry():
    from indicators.charts import LABEL_W, band_scale, hbars

    bars, height = hbars([("Serang", 3, 6), ("Kasemen", None, 6), ("Curug", 9, 6)])
    assert [b.width / b.full for b in bars] == [0.5, 0.0, 1.0]  # no value draws empty; over the maximum is capped
    assert bars[0].x == LABEL_W and height == bars[-1].y + 22 + 12
    scale = band_scale(652.6, 438.1, width=1000)
    assert [(s.name, s.x, s.width) for s in scale["segments"]] == [
        ("none", 0, 500), ("pratama", 500, 101), ("madya", 601, 100), ("nindya", 701, 100), ("utama", 801, 100),
        ("kla", 901, 99)]
    assert (scale["total_x"], scale["previous_x"]) == (652.6, 438.1)
