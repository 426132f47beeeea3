"""Checklist files: loading, every validation error with its location, round trip, answer shapes."""

import copy
from pathlib import Path

import pytest
import yaml

from survey.checklist import (
    Checklist,
    ChecklistError,
    Choice,
    Item,
    Text,
    checklist_from_dict,
    checklist_to_dict,
    coerce_answer,
    dump_checklist_yaml,
    load_checklist,
    load_checklist_text,
    load_directory,
    validate_answer,
)
from survey.expressions import parse

CHECKLISTS = Path(__file__).resolve().parents[2] / "survey" / "checklists"
ORIGIN = "uji-v1.yaml"
PHOTO = "ab" * 32


def case(*values, id):
    return pytest.param(*values, id=id)


def text(label):
    return {"id": label, "en": f"{label} (en)"}


def base() -> dict:
    """A small valid checklist touching every item type."""
    return {
        "id": "uji",
        "version": 1,
        "title": text("Uji"),
        "facility_kinds": ["ruang_bermain", "sekolah"],
        "source": "kla-reference.md §3",
        "source_status": "observable_practice",
        "scoring": {"memenuhi_min": 0.8},
        "sections": [
            {
                "id": "umum",
                "title": text("Umum"),
                "source": "kla-reference.md §3",
                "items": [
                    {"id": "ada_peralatan", "type": "select_one", "label": text("Ada peralatan?"),
                     "choices": [{"value": "ya", "label": text("Ya")},
                                 {"value": "tidak", "label": text("Tidak")}]},
                    {"id": "jumlah_alat", "type": "integer", "label": text("Jumlah alat"),
                     "relevant": "${ada_peralatan} = 'ya'", "min": 0, "max": 500,
                     "constraint": ". <= 500", "constraint_message": text("Terlalu banyak")},
                    {"id": "foto", "type": "photo", "label": text("Foto"), "required": True},
                ],
            },
            {
                "id": "keselamatan",
                "title": text("Keselamatan"),
                "source": "SNI 9169:2023",
                "source_status": "weak",
                "items": [
                    {"id": "pagar", "type": "ynp", "label": text("Pagar"), "weight": 2,
                     "critical": True, "allow_na": False,
                     "relevant": "${ada_peralatan} = 'ya'"},
                    {"id": "bahan", "type": "select_multiple", "label": text("Bahan"),
                     "choices": [{"value": "beton", "label": text("Beton")},
                                 {"value": "kayu", "label": text("Kayu")}],
                     "source": "SNI ISO 8124-1:2010", "source_status": "weak"},
                    {"id": "luas", "type": "decimal", "label": text("Luas"), "min": 0.5},
                    {"id": "catatan", "type": "text", "label": text("Catatan"),
                     "hint": text("Opsional")},
                    {"id": "tanggal", "type": "date", "label": text("Tanggal")},
                    {"id": "lokasi", "type": "gps", "label": text("Lokasi")},
                ],
            },
        ],
    }


def load(data) -> Checklist:
    return checklist_from_dict(data, ORIGIN)


# --- A valid checklist -----------------------------------------------------------------------


def test_valid_checklist_model():
    checklist = load(base())
    assert checklist.key == "uji@1"
    assert [item.id for item in checklist.items] == [
        "ada_peralatan", "jumlah_alat", "foto", "pagar", "bahan", "luas", "catatan", "tanggal",
        "lokasi"]
    pagar = checklist.item("pagar")
    assert (pagar.weight, pagar.critical, pagar.allow_na, pagar.is_scored) == (2, True, False, True)
    assert checklist.item("jumlah_alat").relevant == parse("${ada_peralatan} = 'ya'")
    assert checklist.item("bahan").choice_values == ("beton", "kayu")
    assert checklist.section_of("pagar").id == "keselamatan"
    assert checklist.applies_to("sekolah") and not checklist.applies_to("puskesmas")
    with pytest.raises(KeyError):
        checklist.item("tidak_ada")


@pytest.mark.parametrize("item_id, expected", [
    case("foto", ("kla-reference.md §3", "observable_practice"), id="from-checklist"),
    case("pagar", ("SNI 9169:2023", "weak"), id="from-section"),
    case("bahan", ("SNI ISO 8124-1:2010", "weak"), id="from-item"),
])
def test_source_of_item(item_id, expected):
    assert load(base()).source_of(item_id) == expected


@pytest.mark.parametrize("locale, expected", [
    case("id", "Ayunan", id="indonesian"),
    case("en", "Swing", id="english"),
    case("en_US", "Swing", id="english-region"),
    case("jv", "Ayunan", id="other-falls-back-to-indonesian"),
    case(None, "Ayunan", id="no-locale"),
])
def test_text_get(locale, expected):
    assert Text(id="Ayunan", en="Swing").get(locale) == expected


def test_text_without_english_falls_back():
    assert Text(id="Ayunan", en="").get("en") == "Ayunan"


def test_all_facility_kinds():
    data = base()
    data["facility_kinds"] = ["all"]
    assert load(data).applies_to("puskesmas")


# --- Validation errors, one per code ---------------------------------------------------------


def put(*path_and_value):
    """Mutation setting data[path] = value."""
    *path, value = path_and_value

    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def drop(*path):
    """Mutation deleting data[path]."""
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


ITEM0 = ("sections", 0, "items", 0)
ITEM1 = ("sections", 0, "items", 1)
YNP = ("sections", 1, "items", 0)


@pytest.mark.parametrize("mutate, code, location", [
    # missing_field
    case(drop("id"), "checklist.missing_field", "uji-v1.yaml: id", id="missing-id"),
    case(drop("version"), "checklist.missing_field", "uji-v1.yaml: version", id="missing-version"),
    case(drop("scoring"), "checklist.missing_field", "uji-v1.yaml: scoring", id="missing-scoring"),
    case(drop(*ITEM0, "type"), "checklist.missing_field",
         "uji-v1.yaml: sections[0].items[0].type", id="missing-item-type"),
    case(drop(*ITEM1, "constraint_message"), "checklist.missing_field",
         "uji-v1.yaml: sections[0].items[1].constraint_message", id="constraint-without-message"),
    case(drop("sections", 1, "items"), "checklist.missing_field",
         "uji-v1.yaml: sections[1].items", id="section-without-items"),
    case(put(*ITEM0, "choices", 0, "value", None), "checklist.missing_field",
         "uji-v1.yaml: sections[0].items[0].choices[0].value", id="choice-without-value"),
    # unknown_field
    case(put(*ITEM0, "requird", True), "checklist.unknown_field",
         "uji-v1.yaml: sections[0].items[0].requird", id="typo-in-item-field"),
    case(put("author", "x"), "checklist.unknown_field", "uji-v1.yaml: author", id="top-level"),
    case(put("title", "jv", "x"), "checklist.unknown_field", "uji-v1.yaml: title.jv",
         id="third-language"),
    # bad_type
    case(put("version", "1"), "checklist.bad_type", "uji-v1.yaml: version", id="version-string"),
    case(put("version", True), "checklist.bad_type", "uji-v1.yaml: version", id="version-bool"),
    # A string `required` is a condition (XLSForm's conditional required); a bare word is no expression.
    case(put(*ITEM0, "required", "yes"), "checklist.bad_expression",
         "uji-v1.yaml: sections[0].items[0].required", id="required-string"),
    case(put(*ITEM0, "required", 3), "checklist.bad_type",
         "uji-v1.yaml: sections[0].items[0].required", id="required-number"),
    case(put(*ITEM0, "choices", 1, "value", False), "checklist.bad_type",
         "uji-v1.yaml: sections[0].items[0].choices[1].value", id="yaml-no-is-a-boolean"),
    case(put("sections", {"a": 1}), "checklist.bad_type", "uji-v1.yaml: sections",
         id="sections-not-a-list"),
    case(put("sections", 0, "items", 0, "nope"), "checklist.bad_type",
         "uji-v1.yaml: sections[0].items[0]", id="item-not-a-mapping"),
    case(put(*ITEM1, "min", 0.5), "checklist.bad_type",
         "uji-v1.yaml: sections[0].items[1].min", id="integer-min-decimal"),
    case(put("title", "Uji"), "checklist.bad_type", "uji-v1.yaml: title", id="title-not-bilingual"),
    # bad_value
    case(put("id", "Uji-1"), "checklist.bad_value", "uji-v1.yaml: id", id="bad-id"),
    case(put(*ITEM0, "id", "Ada Peralatan"), "checklist.bad_value",
         "uji-v1.yaml: sections[0].items[0].id", id="bad-item-id"),
    case(put("version", 0), "checklist.bad_value", "uji-v1.yaml: version", id="version-zero"),
    case(put(*ITEM0, "type", "boolean"), "checklist.bad_value",
         "uji-v1.yaml: sections[0].items[0].type", id="unknown-item-type"),
    case(put("facility_kinds", ["taman"]), "checklist.bad_value",
         "uji-v1.yaml: facility_kinds[0]", id="unknown-facility-kind"),
    case(put("facility_kinds", ["all", "sekolah"]), "checklist.bad_value",
         "uji-v1.yaml: facility_kinds", id="all-not-alone"),
    case(put("facility_kinds", []), "checklist.bad_value", "uji-v1.yaml: facility_kinds",
         id="no-facility-kinds"),
    case(put("source_status", "official"), "checklist.bad_value", "uji-v1.yaml: source_status",
         id="unknown-source-status"),
    case(put(*YNP, "weight", -1), "checklist.bad_value",
         "uji-v1.yaml: sections[1].items[0].weight", id="negative-weight"),
    case(put("sections", []), "checklist.bad_value", "uji-v1.yaml: sections", id="no-sections"),
    # duplicate_id
    case(put(*ITEM1, "id", "ada_peralatan"), "checklist.duplicate_id",
         "uji-v1.yaml: sections[0].items[1].id", id="item-in-same-section"),
    case(put(*YNP, "id", "foto"), "checklist.duplicate_id",
         "uji-v1.yaml: sections[1].items[0].id", id="item-across-sections"),
    case(put("sections", 1, "id", "umum"), "checklist.duplicate_id", "uji-v1.yaml: sections[1].id",
         id="section"),
    # bad_expression
    case(put(*ITEM1, "constraint", ". <="), "checklist.bad_expression",
         "uji-v1.yaml: sections[0].items[1].constraint", id="syntax"),
    case(put(*ITEM1, "relevant", "kosong(${ada_peralatan})"), "checklist.bad_expression",
         "uji-v1.yaml: sections[0].items[1].relevant", id="unknown-function"),
    case(put(*ITEM1, "relevant", ". > 1"), "checklist.bad_expression",
         "uji-v1.yaml: sections[0].items[1].relevant", id="current-in-relevant"),
    # unknown_reference
    case(put(*ITEM1, "relevant", "${ada_alat} = 'ya'"), "checklist.unknown_reference",
         "uji-v1.yaml: sections[0].items[1].relevant", id="in-relevant"),
    case(put(*ITEM1, "constraint", ". <= ${kapasitas}"), "checklist.unknown_reference",
         "uji-v1.yaml: sections[0].items[1].constraint", id="in-constraint"),
    # self_reference and relevance_cycle
    case(put(*ITEM1, "relevant", "${jumlah_alat} > 0"), "checklist.self_reference",
         "uji-v1.yaml: sections[0].items[1].relevant", id="self-reference"),
    case(put(*ITEM0, "relevant", "${pagar} = 'ya'"), "checklist.relevance_cycle",
         "uji-v1.yaml: sections[1].items[0].relevant", id="two-item-cycle"),
    # bad_choices
    case(drop(*ITEM0, "choices"), "checklist.bad_choices",
         "uji-v1.yaml: sections[0].items[0].choices", id="select-without-choices"),
    case(put(*ITEM0, "choices", []), "checklist.bad_choices",
         "uji-v1.yaml: sections[0].items[0].choices", id="empty-choices"),
    case(put(*ITEM1, "choices", [{"value": "a", "label": text("A")}]), "checklist.bad_choices",
         "uji-v1.yaml: sections[0].items[1].choices", id="choices-on-integer"),
    case(put(*ITEM0, "choices", 1, "value", "ya"), "checklist.bad_choices",
         "uji-v1.yaml: sections[0].items[0].choices[1].value", id="duplicate-choice"),
    case(put(*ITEM0, "choices", 1, "value", "tidak ada"), "checklist.bad_choices",
         "uji-v1.yaml: sections[0].items[0].choices[1].value", id="space-in-choice-value"),
    # bad_range
    case(put(*ITEM1, "min", 600), "checklist.bad_range",
         "uji-v1.yaml: sections[0].items[1].max", id="min-over-max"),
    case(put("scoring", "memenuhi_min", 80), "checklist.bad_range",
         "uji-v1.yaml: scoring.memenuhi_min", id="threshold-as-percent"),
    # field_not_allowed
    case(put(*ITEM0, "weight", 2), "checklist.field_not_allowed",
         "uji-v1.yaml: sections[0].items[0].weight", id="weight-on-select"),
    case(put(*ITEM0, "min", 1), "checklist.field_not_allowed",
         "uji-v1.yaml: sections[0].items[0].min", id="min-on-select"),
    case(put(*ITEM0, "constraint_message", text("x")), "checklist.field_not_allowed",
         "uji-v1.yaml: sections[0].items[0].constraint_message", id="message-without-constraint"),
    # missing_source
    case(drop("source"), "checklist.missing_source", "uji-v1.yaml: source", id="checklist"),
    case(drop("sections", 0, "source"), "checklist.missing_source",
         "uji-v1.yaml: sections[0].source", id="section"),
    case(put("sections", 1, "source", "  "), "checklist.missing_source",
         "uji-v1.yaml: sections[1].source", id="blank-section-source"),
    # missing_translation
    case(drop("title", "en"), "checklist.missing_translation", "uji-v1.yaml: title.en",
         id="title-en"),
    case(put(*ITEM0, "label", {"en": "Equipment?"}), "checklist.missing_translation",
         "uji-v1.yaml: sections[0].items[0].label.id", id="label-id"),
    case(put(*ITEM1, "constraint_message", {"id": "Terlalu banyak", "en": ""}),
         "checklist.missing_translation",
         "uji-v1.yaml: sections[0].items[1].constraint_message.en", id="constraint-message-en"),
    case(put(*ITEM0, "choices", 0, "label", {"id": "Ya"}), "checklist.missing_translation",
         "uji-v1.yaml: sections[0].items[0].choices[0].label.en", id="choice-label"),
])
def test_validation_errors(mutate, code, location):
    data = copy.deepcopy(base())
    mutate(data)
    with pytest.raises(ChecklistError) as raised:
        load(data)
    assert (raised.value.code, raised.value.location) == (code, location)
    assert str(raised.value) == f"{location}: {raised.value.message} [{code}]"


@pytest.mark.parametrize("yaml_text, code, location", [
    case("id: uji\n  version: [", "checklist.bad_yaml", ORIGIN, id="bad-yaml"),
    case("", "checklist.bad_type", ORIGIN, id="empty-file"),
    case("- a\n- b\n", "checklist.bad_type", ORIGIN, id="list-at-top"),
    case("id: uji\nversion: 1\nid: lain\n", "checklist.duplicate_key", ORIGIN, id="duplicate-key"),
    case("!!python/object/apply:os.system ['true']\n", "checklist.bad_yaml", ORIGIN,
         id="unsafe-tag-refused"),
])
def test_yaml_errors(yaml_text, code, location):
    with pytest.raises(ChecklistError) as raised:
        load_checklist_text(yaml_text, ORIGIN)
    assert (raised.value.code, raised.value.location) == (code, location)


def test_duplicate_key_names_the_line():
    with pytest.raises(ChecklistError) as raised:
        load_checklist_text("id: uji\nversion: 1\nid: lain\n", ORIGIN)
    assert "line 3" in raised.value.message


def test_bad_expression_message_carries_the_expression_error():
    data = base()
    put(*ITEM1, "constraint", ". <= ")(data)
    with pytest.raises(ChecklistError) as raised:
        load(data)
    assert "expr.syntax" in raised.value.message and "position 5" in raised.value.message


def test_references_to_later_items_are_allowed():
    data = base()
    put(*ITEM0, "relevant", "${luas} > 10")(data)
    assert load(data).item("ada_peralatan").relevant.references == {"luas"}


# --- Files and round trip --------------------------------------------------------------------


def test_dump_then_load_is_equal():
    checklist = load(base())
    dumped = dump_checklist_yaml(checklist)
    assert load_checklist_text(dumped, ORIGIN) == checklist
    assert checklist_from_dict(checklist_to_dict(checklist)) == checklist
    assert "\ntitle: {id: Uji, en: Uji (en)}\n" in dumped
    assert "\n          - {value: ya, label: {id: Ya, en: Ya (en)}}\n" in dumped
    assert "&id" not in dumped  # no YAML anchors in files people edit


def test_dump_keeps_unicode_quotes_and_defaults_out():
    data = base()
    put(*ITEM0, "label", {"id": "Ada \"alat\": 'ayunan' #1 é", "en": "yes: no"})(data)
    checklist = load(data)
    dumped = dump_checklist_yaml(checklist)
    assert load_checklist_text(dumped, ORIGIN) == checklist
    assert "é" in dumped
    assert "allow_na: true" not in dumped and "weight: 1\n" not in dumped


def test_dict_has_file_key_order():
    assert list(checklist_to_dict(load(base()))) == [
        "id", "version", "title", "facility_kinds", "source", "source_status", "scoring",
        "sections"]


def write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_load_checklist_names_the_file(tmp_path):
    data = base()
    del data["source"]
    with pytest.raises(ChecklistError) as raised:
        load_checklist(write(tmp_path, "uji-v1.yaml", data))
    assert raised.value.location == "uji-v1.yaml: source"


def test_load_directory(tmp_path):
    write(tmp_path, "uji-v1.yaml", base())
    second = base()
    second["version"] = 2
    write(tmp_path, "uji-v2.yaml", second)
    (tmp_path / "README.md").write_text("not a checklist")
    assert sorted(load_directory(tmp_path)) == ["uji@1", "uji@2"]


@pytest.mark.parametrize("filename", [
    case("uji-v2.yaml", id="wrong-version"),
    case("lain-v1.yaml", id="wrong-id"),
    case("uji.yaml", id="no-version"),
    case("uji-v1.yml", id="yml-extension"),
])
def test_load_directory_filename_mismatch(tmp_path, filename):
    write(tmp_path, filename, base())
    with pytest.raises(ChecklistError) as raised:
        load_directory(tmp_path)
    assert (raised.value.code, raised.value.location) == ("checklist.filename_mismatch", filename)


def test_load_directory_empty(tmp_path):
    assert load_directory(tmp_path) == {}


def shipped_checklists():
    return sorted(CHECKLISTS.glob("*.y*ml")) if CHECKLISTS.is_dir() else []


def test_every_shipped_checklist_loads():
    files = shipped_checklists()
    if not files:
        pytest.skip(f"no checklist files in {CHECKLISTS} yet")
    checklists = load_directory(CHECKLISTS)
    assert len(checklists) == len(files)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in shipped_checklists()])
def test_every_shipped_checklist_round_trips(path):
    checklist = load_checklist(path)
    assert load_checklist_text(dump_checklist_yaml(checklist), path.name) == checklist


# --- Answer shapes ---------------------------------------------------------------------------

CHECKLIST = load(base())
ynp_no_na = CHECKLIST.item("pagar")
ynp = Item(id="teduh", type="ynp", label=Text("Teduh", "Shade"))
integer, decimal = CHECKLIST.item("jumlah_alat"), CHECKLIST.item("luas")
select_one, select_multiple = CHECKLIST.item("ada_peralatan"), CHECKLIST.item("bahan")
free_text, date, photo, gps = (CHECKLIST.item(i) for i in ("catatan", "tanggal", "foto", "lokasi"))


@pytest.mark.parametrize("item, value, code", [
    case(ynp, None, None, id="unanswered"),
    case(ynp, "", None, id="empty-string"),
    case(ynp, "ya", None, id="ynp-ya"),
    case(ynp, "sebagian", None, id="ynp-sebagian"),
    case(ynp, "tidak_berlaku", None, id="ynp-na-allowed"),
    case(ynp_no_na, "tidak_berlaku", "answer.na_not_allowed", id="ynp-na-refused"),
    case(ynp, "yes", "answer.not_a_choice", id="ynp-english"),
    case(ynp, True, "answer.not_a_choice", id="ynp-boolean"),
    case(integer, 12, None, id="integer"),
    case(integer, 12.0, "answer.not_integer", id="integer-float"),
    case(integer, "12", "answer.not_integer", id="integer-string"),
    case(integer, True, "answer.not_integer", id="integer-bool"),
    case(integer, -1, "answer.below_min", id="integer-below-min"),
    case(integer, 501, "answer.above_max", id="integer-above-max"),
    case(integer, 500, None, id="integer-at-max"),
    case(decimal, 0.5, None, id="decimal-at-min"),
    case(decimal, 3, None, id="decimal-int"),
    case(decimal, 0.4, "answer.below_min", id="decimal-below-min"),
    case(decimal, float("nan"), "answer.not_number", id="decimal-nan"),
    case(decimal, "3,5", "answer.not_number", id="decimal-string"),
    case(select_one, "ya", None, id="select-one"),
    case(select_one, "mungkin", "answer.not_a_choice", id="select-one-unknown"),
    case(select_one, ["ya"], "answer.not_a_choice", id="select-one-list"),
    case(select_multiple, ["beton", "kayu"], None, id="select-multiple"),
    case(select_multiple, [], None, id="select-multiple-empty"),
    case(select_multiple, "beton", "answer.not_a_list", id="select-multiple-string"),
    case(select_multiple, ["besi"], "answer.not_a_choice", id="select-multiple-unknown"),
    case(select_multiple, ["kayu", "kayu"], "answer.duplicate", id="select-multiple-twice"),
    case(free_text, "bersih", None, id="text"),
    case(free_text, 5, "answer.not_text", id="text-number"),
    case(free_text, "x" * 10_001, "answer.too_long", id="text-too-long"),
    case(date, "2025-02-28", None, id="date"),
    case(date, "2025-02-30", "answer.not_a_date", id="date-impossible"),
    case(date, "28/02/2025", "answer.not_a_date", id="date-local-format"),
    case(date, "20250228", "answer.not_a_date", id="date-basic-iso"),
    case(photo, [PHOTO], None, id="photo"),
    case(photo, [PHOTO.upper()], "answer.bad_photo", id="photo-uppercase"),
    case(photo, ["abc"], "answer.bad_photo", id="photo-short"),
    case(photo, PHOTO, "answer.not_a_list", id="photo-string"),
    case(photo, [PHOTO, PHOTO], "answer.duplicate", id="photo-twice"),
    case(gps, {"lat": -6.12, "lon": 106.15, "accuracy": 4}, None, id="gps"),
    case(gps, {"lat": -6.12, "lon": 106.15, "accuracy": 0}, None, id="gps-mock-accuracy-zero"),
    case(gps, {"lat": -6.12, "lon": 106.15}, "answer.bad_gps", id="gps-no-accuracy"),
    case(gps, {"lat": 96, "lon": 106.15, "accuracy": 4}, "answer.bad_gps", id="gps-lat-range"),
    case(gps, {"lat": -6.1, "lon": 181, "accuracy": 4}, "answer.bad_gps", id="gps-lon-range"),
    case(gps, {"lat": -6.1, "lon": 106, "accuracy": -1}, "answer.bad_gps", id="gps-negative"),
    case(gps, {"lat": "-6.1", "lon": 106, "accuracy": 4}, "answer.bad_gps", id="gps-string"),
    case(gps, "-6.1 106 4", "answer.bad_gps", id="gps-not-dict"),
])
def test_validate_answer(item, value, code):
    assert validate_answer(item, value) == code


@pytest.mark.parametrize("item, raw, expected", [
    case(ynp, " ya ", "ya", id="ynp-strips"),
    case(ynp, "", None, id="blank-is-none"),
    case(ynp, "   ", None, id="whitespace-is-none"),
    case(ynp, ["sebagian"], "sebagian", id="single-element-list"),
    case(integer, "42", 42, id="integer"),
    case(integer, "-3", -3, id="negative-integer"),
    case(integer, "4.5", "4.5", id="integer-left-for-validation"),
    case(integer, "empat", "empat", id="integer-text"),
    case(decimal, "3.25", 3.25, id="decimal-point"),
    case(decimal, "3,25", 3.25, id="decimal-comma"),
    case(decimal, "1.000,5", "1.000,5", id="decimal-both-separators"),
    case(decimal, "nan", "nan", id="decimal-nan-refused"),
    case(select_multiple, ["beton", "kayu"], ["beton", "kayu"], id="multi-list"),
    case(select_multiple, "beton kayu", ["beton", "kayu"], id="multi-odk-string"),
    case(select_multiple, [], None, id="multi-empty"),
    case(photo, [PHOTO.upper()], [PHOTO], id="photo-lowercased"),
    case(gps, "-6.12 106.15 4.5", {"lat": -6.12, "lon": 106.15, "accuracy": 4.5}, id="gps"),
    case(gps, "-6.12 106.15 30 4.5", {"lat": -6.12, "lon": 106.15, "accuracy": 4.5},
         id="gps-odk-with-altitude"),
    case(gps, "-6.12", "-6.12", id="gps-incomplete"),
    case(date, "2025-07-15", "2025-07-15", id="date"),
    case(free_text, "  Toilet kotor  ", "Toilet kotor", id="text-strips"),
])
def test_coerce_answer(item, raw, expected):
    assert coerce_answer(item, raw) == expected


@pytest.mark.parametrize("item, raw", [
    case(integer, "42", id="integer"),
    case(decimal, "2,5", id="decimal"),
    case(select_multiple, ["kayu"], id="multi"),
    case(gps, "-6.1 106.1 5", id="gps"),
    case(photo, [PHOTO], id="photo"),
])
def test_coerced_answers_validate(item, raw):
    assert validate_answer(item, coerce_answer(item, raw)) is None


def test_choice_and_item_are_frozen():
    with pytest.raises(AttributeError):
        Choice("a", Text("A", "A")).value = "b"
    with pytest.raises(AttributeError):
        ynp.weight = 3
