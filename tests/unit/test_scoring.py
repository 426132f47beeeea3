"""Scoring tables: weights, sebagian, tidak_berlaku, critical items, relevance, thresholds."""

import datetime

import pytest

from survey.checklist import Checklist, Item, Scoring, Section, Text, checklist_from_dict
from survey.expressions import ExpressionError, parse
from survey.scoring import (
    BELUM_MEMENUHI,
    MEMENUHI,
    progress,
    relevant_answers,
    relevant_items,
    score_audit,
)

LABEL = {"id": "Butir", "en": "Item"}


def case(*values, id):
    return pytest.param(*values, id=id)


def ynp(item_id, **fields):
    return {"id": item_id, "type": "ynp", "label": LABEL, **fields}


def gate(item_id, **fields):
    """A select_one ya/tidak question that other items depend on."""
    return {"id": item_id, "type": "select_one", "label": LABEL, **fields,
            "choices": [{"value": "ya", "label": LABEL}, {"value": "tidak", "label": LABEL}]}


def make_checklist(sections: dict, memenuhi_min=0.8) -> Checklist:
    """A validated checklist from {section_id: [item dicts]}."""
    return checklist_from_dict({
        "id": "skor", "version": 1, "title": LABEL, "facility_kinds": ["all"],
        "source": "uji", "source_status": "unverified",
        "scoring": {"memenuhi_min": memenuhi_min},
        "sections": [{"id": section_id, "title": LABEL, "source": "uji", "items": items}
                     for section_id, items in sections.items()],
    }, "skor-v1.yaml")


# Section fasilitas: a1 (w1), a2 (w2), a3 (w1, shown when ada = ya); section aman: k1 (critical),
# b0 (weight 0), catatan (required text).
AUDIT = make_checklist({
    "fasilitas": [gate("ada"), ynp("a1"), ynp("a2", weight=2),
                  ynp("a3", relevant="${ada} = 'ya'")],
    "aman": [ynp("k1", critical=True), ynp("b0", weight=0),
             {"id": "catatan", "type": "text", "label": LABEL, "required": True}],
})
ALL_YA = {"ada": "ya", "a1": "ya", "a2": "ya", "a3": "ya", "k1": "ya", "b0": "ya",
          "catatan": "baik"}


def answers(**changes):
    """ALL_YA with some answers changed; None removes one."""
    merged = {**ALL_YA, **changes}
    return {key: value for key, value in merged.items() if value is not None}


@pytest.mark.parametrize("audit_answers, score, result, applicable, earned, failed", [
    case(ALL_YA, 1.0, MEMENUHI, 5, 5, (), id="all-ya"),
    case(answers(a2="sebagian"), 0.8, MEMENUHI, 5, 4, (), id="sebagian-half-at-threshold"),
    case(answers(a1="tidak"), 0.8, MEMENUHI, 5, 4, (), id="tidak-zero-at-threshold"),
    case(answers(a1="tidak", a3="sebagian"), 0.7, BELUM_MEMENUHI, 5, 3.5, (), id="below-threshold"),
    case(answers(a2="tidak_berlaku"), 1.0, MEMENUHI, 3, 3, (), id="tidak-berlaku-not-applicable"),
    case(answers(a2="tidak_berlaku", a1="tidak"), 2 / 3, BELUM_MEMENUHI, 3, 2, (),
         id="tidak-berlaku-shrinks-denominator"),
    case(answers(ada="tidak", a3="tidak"), 1.0, MEMENUHI, 4, 4, (), id="irrelevant-answer-ignored"),
    case(answers(ada=None, a3="tidak"), 1.0, MEMENUHI, 4, 4, (), id="gate-unanswered-hides-item"),
    case(answers(k1="sebagian"), 0.9, BELUM_MEMENUHI, 5, 4.5, ("k1",), id="critical-sebagian"),
    case(answers(k1="tidak"), 0.8, BELUM_MEMENUHI, 5, 4, ("k1",), id="critical-tidak"),
    case(answers(k1="tidak_berlaku"), 1.0, MEMENUHI, 4, 4, (), id="critical-not-applicable"),
    case(answers(k1=None), 0.8, MEMENUHI, 5, 4, (), id="critical-unanswered-draft"),
    case(answers(b0="tidak"), 1.0, MEMENUHI, 5, 5, (), id="weight-zero-not-scored"),
    case(answers(a1=None, a2=None), 0.4, BELUM_MEMENUHI, 5, 2, (),
         id="unanswered-counts-as-zero"),
    case({}, 0.0, BELUM_MEMENUHI, 4, 0, (), id="empty-draft"),
    case(answers(a1="tidak_berlaku", a2="tidak_berlaku", a3="tidak_berlaku", k1="tidak_berlaku"),
         None, None, 0, 0, (), id="nothing-applicable"),
    case(answers(a1="yes"), 0.8, MEMENUHI, 5, 4, (), id="invalid-answer-earns-nothing"),
])
def test_score_table(audit_answers, score, result, applicable, earned, failed):
    scored = score_audit(AUDIT, audit_answers)
    assert scored.score == (None if score is None else pytest.approx(score))
    assert scored.result == result
    assert (scored.applicable_weight, scored.earned_weight) == (applicable, earned)
    assert scored.failed_critical == failed


@pytest.mark.parametrize("weights, answered_ya, memenuhi_min, result", [
    case([0.7, 0.1, 0.2], 2, 0.8, MEMENUHI, id="decimal-weights-exactly-at-threshold"),
    case([1, 1, 1, 1, 1], 4, 0.8, MEMENUHI, id="four-of-five-at-080"),
    case([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 7, 0.8, BELUM_MEMENUHI, id="just-below"),
    case([1, 1, 1], 2, 2 / 3, MEMENUHI, id="two-thirds"),
    case([1, 1, 1], 0, 0, MEMENUHI, id="threshold-zero"),
    case([1, 1, 1], 3, 1, MEMENUHI, id="threshold-one-all-ya"),
])
def test_threshold_boundary(weights, answered_ya, memenuhi_min, result):
    checklist = make_checklist(
        {"s": [ynp(f"i{n}", weight=w) for n, w in enumerate(weights)]}, memenuhi_min)
    audit_answers = {f"i{n}": "ya" if n < answered_ya else "tidak" for n in range(len(weights))}
    assert score_audit(checklist, audit_answers).result == result


def test_failed_critical_without_weight_still_fails():
    checklist = make_checklist({"s": [ynp("a"), ynp("gerbang", weight=0, critical=True)]})
    scored = score_audit(checklist, {"a": "ya", "gerbang": "tidak"})
    assert (scored.score, scored.result, scored.failed_critical) == (1.0, BELUM_MEMENUHI,
                                                                     ("gerbang",))


def test_failed_critical_with_nothing_applicable():
    checklist = make_checklist({"s": [ynp("gerbang", weight=0, critical=True)]})
    scored = score_audit(checklist, {"gerbang": "sebagian"})
    assert (scored.score, scored.result) == (None, BELUM_MEMENUHI)


def test_per_section_scores():
    scored = score_audit(AUDIT, answers(a2="sebagian", k1="tidak"))
    sections = {s.section_id: s for s in scored.per_section}
    assert list(sections) == ["fasilitas", "aman"]
    assert (sections["fasilitas"].score, sections["fasilitas"].applicable_weight,
            sections["fasilitas"].earned_weight) == (0.75, 4, 3)
    assert (sections["aman"].score, sections["aman"].failed_critical) == (0.0, ("k1",))


def test_section_with_nothing_applicable_has_no_score():
    scored = score_audit(AUDIT, answers(k1="tidak_berlaku"))
    assert scored.per_section[1].score is None


# --- Completeness: missing and invalid answers -----------------------------------------------

FORM = make_checklist({
    "data": [
        gate("ada_alat", required=True),
        {"id": "jumlah_alat", "type": "integer", "label": LABEL, "required": True,
         "relevant": "${ada_alat} = 'ya'", "min": 0,
         "constraint": ". <= ${jumlah_maks}", "constraint_message": LABEL},
        {"id": "jumlah_maks", "type": "integer", "label": LABEL},
        ynp("pagar", required=True, allow_na=False),
        {"id": "tanggal", "type": "date", "label": LABEL, "constraint": ". <= today()",
         "constraint_message": LABEL},
    ],
})
TODAY = datetime.date(2025, 7, 15)


@pytest.mark.parametrize("form_answers, missing, invalid", [
    case({"ada_alat": "ya", "jumlah_alat": 3, "jumlah_maks": 5, "pagar": "ya"}, (), (),
         id="complete"),
    case({}, ("ada_alat", "pagar"), (), id="empty"),
    case({"ada_alat": "ya", "pagar": "ya"}, ("jumlah_alat",), (), id="relevant-required-missing"),
    case({"ada_alat": "tidak", "pagar": "ya"}, (), (), id="hidden-required-not-missing"),
    case({"ada_alat": "ya", "jumlah_alat": 6, "jumlah_maks": 5, "pagar": "ya"}, (),
         (("jumlah_alat", "answer.constraint"),), id="constraint-against-other-item"),
    case({"ada_alat": "ya", "jumlah_alat": -1, "pagar": "ya"}, (),
         (("jumlah_alat", "answer.below_min"),), id="shape-before-constraint"),
    case({"ada_alat": "ya", "jumlah_alat": "tiga", "pagar": "ya"}, (),
         (("jumlah_alat", "answer.not_integer"),), id="wrong-type"),
    case({"ada_alat": "tidak", "jumlah_alat": "tiga", "pagar": "ya"}, (), (),
         id="hidden-invalid-answer-ignored"),
    case({"ada_alat": "tidak", "pagar": "tidak_berlaku"}, (),
         (("pagar", "answer.na_not_allowed"),), id="not-applicable-refused"),
    case({"ada_alat": "tidak", "pagar": "ya", "tanggal": "2025-07-16"}, (),
         (("tanggal", "answer.constraint"),), id="date-in-future"),
    case({"ada_alat": "tidak", "pagar": "ya", "tanggal": "2025-07-15"}, (), (), id="date-today"),
    case({"ada_alat": "", "pagar": "ya"}, ("ada_alat",), (), id="empty-string-is-missing"),
])
def test_missing_and_invalid(form_answers, missing, invalid):
    scored = score_audit(FORM, form_answers, today=TODAY)
    assert scored.missing_required == missing
    assert scored.invalid == invalid
    assert scored.is_complete is (not missing and not invalid)


def test_invalid_not_applicable_counts_as_zero():
    scored = score_audit(FORM, {"ada_alat": "tidak", "pagar": "tidak_berlaku"}, today=TODAY)
    assert (scored.applicable_weight, scored.earned_weight, scored.score) == (1, 0, 0.0)


def test_today_needed_when_a_constraint_uses_it():
    with pytest.raises(ExpressionError) as raised:
        score_audit(FORM, {"tanggal": "2025-07-01"})
    assert raised.value.code == "expr.no_today"


# --- Relevance -------------------------------------------------------------------------------

CHAIN = make_checklist({
    "s": [
        ynp("lanjutan", relevant="${detail} = 'ya'"),  # refers forward
        gate("ada"),
        ynp("detail", relevant="${ada} = 'ya'"),
        {"id": "bahan", "type": "select_multiple", "label": LABEL,
         "choices": [{"value": "kayu", "label": LABEL}, {"value": "besi", "label": LABEL}]},
        ynp("kayu_halus", relevant="selected(${bahan}, 'kayu')"),
        ynp("banyak_bahan", relevant="count-selected(${bahan}) > 1"),
    ],
})


@pytest.mark.parametrize("chain_answers, expected", [
    case({}, {"ada", "bahan"}, id="nothing-answered"),
    case({"ada": "ya"}, {"ada", "detail", "bahan"}, id="gate-open"),
    case({"ada": "ya", "detail": "ya"}, {"lanjutan", "ada", "detail", "bahan"},
         id="forward-reference"),
    case({"ada": "tidak", "detail": "ya"}, {"ada", "bahan"},
         id="hidden-item-is-unanswered-for-dependents"),
    case({"bahan": ["kayu"]}, {"ada", "bahan", "kayu_halus"}, id="selected"),
    case({"bahan": ["kayu", "besi"]}, {"ada", "bahan", "kayu_halus", "banyak_bahan"},
         id="count-selected"),
])
def test_relevant_items(chain_answers, expected):
    assert relevant_items(CHAIN, chain_answers) == expected


def test_relevant_answers_drop_hidden_and_empty():
    kept = relevant_answers(CHAIN, {"ada": "tidak", "detail": "ya", "lanjutan": "ya", "bahan": []})
    assert kept == {"ada": "tidak"}


def test_hidden_answers_do_not_score():
    scored = score_audit(CHAIN, {"ada": "tidak", "detail": "tidak", "lanjutan": "tidak"})
    assert scored.applicable_weight == 0 and scored.result is None


def test_relevance_with_today():
    checklist = make_checklist({"s": [ynp("musiman", relevant="today() >= '2025-06-01'")]})
    assert relevant_items(checklist, {}, today=datetime.date(2025, 7, 1)) == {"musiman"}
    assert relevant_items(checklist, {}, today=datetime.date(2025, 5, 1)) == set()


def test_unvalidated_cycle_resolves_in_document_order():
    label = Text("x", "x")
    items = (Item("a", "ynp", label, relevant=parse("${b} = 'ya'")),
             Item("b", "ynp", label, relevant=parse("${a} = 'ya'")),
             Item("c", "ynp", label))
    checklist = Checklist(id="siklus", version=1, title=label, facility_kinds=("all",),
                          source="uji", source_status="unverified", scoring=Scoring(0.8),
                          sections=(Section("s", label, "uji", items),))
    assert relevant_items(checklist, {"a": "ya", "b": "ya"}) == {"c"}


def test_progress():
    counts = progress(AUDIT, {"ada": "tidak", "a1": "ya", "a3": "ya", "catatan": ""})
    assert counts == {"fasilitas": (2, 3), "aman": (0, 3)}
    assert list(counts) == ["fasilitas", "aman"]
