"""The indicator data file: the shipped set is whole, and every broken file is refused by code and place."""

from __future__ import annotations

import pytest
import yaml

from indicators.definitions import FOLDER, GROUPS, load_file, load_text, set_for_year, shipped_sets
from indicators.problems import IndicatorSetError
from survey.checklist import load_directory


def shipped_text() -> str:
    return (FOLDER / "kla-2022.yaml").read_text(encoding="utf-8")


def test_shipped_set_has_24_indicators_in_six_groups_summing_to_1000():
    kla = load_file(FOLDER / "kla-2022.yaml")
    assert [i.number for i in kla.indicators] == list(range(1, 25))
    assert sum(i.points for i in kla.indicators) == 1000
    assert {i.group for i in kla.indicators} == set(GROUPS)
    assert sum(1 for i in kla.indicators if i.group == "klaster_3") == 6  # kla-reference §1
    # What the reference names verified is verified; the unnamed Klaster II indicators are not.
    assert {i.number: i.source_status for i in kla.indicators if i.number in (1, 4, 13, 18, 19, 7)} == {
        1: "verified", 4: "verified", 13: "verified", 18: "verified", 19: "verified", 7: "unverified"}
    assert kla.indicator(15).source_status == "weak"


def test_facility_formulas_name_shipped_checklists_and_their_kinds():
    shipped = {c.id: c for c in load_directory(FOLDER.parent / "survey" / "checklists").values()}
    kla = load_file(FOLDER / "kla-2022.yaml")
    facility = [i for i in kla.indicators if i.is_facility]
    assert {i.number for i in facility} == {13, 15, 18, 19, 20}
    for indicator in facility:
        for checklist_id in indicator.formula.checklists:
            checklist = shipped[checklist_id]
            kinds = set(checklist.facility_kinds)
            assert "all" in kinds or set(indicator.formula.facility_kinds) <= kinds, indicator.number


def test_set_for_year_takes_the_newest_that_applies():
    kla = shipped_sets()[0]
    later = load_text(shipped_text().replace("id: kla-2022", "id: kla-2025").replace("applies_from: 2022", "applies_from: 2025"))
    assert set_for_year([kla, later], 2024) is kla
    assert set_for_year([kla, later], 2026) is later
    assert set_for_year([kla, later], 2021) is None


def _edit(change) -> str:
    data = yaml.safe_load(shipped_text())
    change(data)
    return yaml.safe_dump(data, allow_unicode=True)


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


def _points(data):
    data["indicators"][0]["points"] = 61


def _duplicate(data):
    data["indicators"][1]["number"] = 1


BAD_FILES = [
    ("not yaml", lambda: "id: [unclosed", "indicators.bad_yaml", "<text>:1"),
    ("a list", lambda: "- 1\n- 2\n", "indicators.bad_file", "<text>"),
    ("bad id", lambda: _edit(_set(["id"], "KLA 2022")), "indicators.bad_id", "<text>: id"),
    ("no year", lambda: _edit(_set(["applies_from"], "2022")), "indicators.bad_year", "<text>: applies_from"),
    ("no indicators", lambda: _edit(_set(["indicators"], [])), "indicators.none", "<text>: indicators"),
    ("points not 1000", lambda: _edit(_points), "indicators.points_total", "<text>: indicators"),
    ("number twice", lambda: _edit(_duplicate), "indicators.duplicate_number", "<text>: indicators"),
    ("unknown group", lambda: _edit(_set(["indicators", 0, "group"], "klaster_6")), "indicators.bad_choice",
     "<text>: indicators[0].group"),
    ("no English name", lambda: _edit(_set(["indicators", 2, "name", "en"], "")), "indicators.bad_text",
     "<text>: indicators[2].name"),
    ("negative target", lambda: _edit(_set(["indicators", 3, "target"], -1)), "indicators.bad_number_value",
     "<text>: indicators[3].target"),
    ("percent above 100", lambda: _edit(_set(["indicators", 3, "target"], 120)), "indicators.bad_target",
     "<text>: indicators[3].target"),
    ("unknown status", lambda: _edit(_set(["indicators", 0, "source_status"], "maybe")), "indicators.bad_choice",
     "<text>: indicators[0].source_status"),
    ("facility without formula", lambda: _edit(_set(["indicators", 12, "formula"], KeyError)), "indicators.no_formula",
     "<text>: indicators[12].formula"),
    ("unknown kind", lambda: _edit(_set(["indicators", 12, "formula", "facility_kinds"], ["rumah_sakit"])),
     "indicators.unknown_kind", "<text>: indicators[12].formula.facility_kinds"),
    ("unknown result", lambda: _edit(_set(["indicators", 12, "formula", "results"], ["lulus"])), "indicators.bad_result",
     "<text>: indicators[12].formula.results"),
    ("share counted", lambda: _edit(_set(["indicators", 12, "formula", "measure"], "count")), "indicators.unit_measure",
     "<text>: indicators[12].unit"),
    ("entered with formula", lambda: _edit(_set(["indicators", 0, "formula"], {"measure": "share"})),
     "indicators.formula_for_entered", "<text>: indicators[0].formula"),
    ("entered without levels", lambda: _edit(_set(["indicators", 0, "levels"], KeyError)), "indicators.bad_levels",
     "<text>: indicators[0].levels"),
    ("points not whole", lambda: _edit(_set(["indicators", 0, "points"], 60.5)), "indicators.bad_points",
     "<text>: indicators[0].points"),
]


@pytest.mark.parametrize("text, code, location", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_file_is_refused_with_code_and_location(text, code, location):
    with pytest.raises(IndicatorSetError) as caught:
        load_text(text())
    assert caught.value.code == code
    assert caught.value.location == location


def test_file_name_must_match_id(tmp_path):
    path = tmp_path / "kla-2099.yaml"
    path.write_text(shipped_text(), encoding="utf-8")
    with pytest.raises(IndicatorSetError) as caught:
        load_file(path)
    assert caught.value.code == "indicators.filename_mismatch"
