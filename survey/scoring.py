"""Scoring of a facility audit against its checklist: pure functions of (checklist, answers).

Rules (docs/checklist-format.md, "Scoring"):
- only relevant ynp items with weight > 0 count; `ya` earns the full weight, `sebagian` half,
  `tidak` nothing; `tidak_berlaku` takes the item out of the applicable weight;
- a relevant scored item that is unanswered or invalid counts as applicable and earns nothing, so a
  draft scores low until it is complete;
- an item whose relevance is false is ignored with its answer, as ODK drops irrelevant answers;
- a relevant critical item answered `tidak` or `sebagian` fails, and any failure forces
  `belum_memenuhi`; otherwise the result is `memenuhi` when score >= scoring.memenuhi_min;
- inside a repeat every instance of a scored item counts as one item of that weight (five swings weigh five
  times one swing), and a critical item failing in any instance fails the audit;
- calculations, notes and read-only items are never scored, and do not count in progress.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from survey.checklist import Checklist, Item
from survey.form import FormState, compute

MEMENUHI = "memenuhi"
BELUM_MEMENUHI = "belum_memenuhi"

# Share of an item's weight that each ynp answer earns; tidak_berlaku is not applicable at all.
_EARNED_SHARE = {"ya": Fraction(1), "sebagian": Fraction(1, 2), "tidak": Fraction(0)}
_CRITICAL_FAILURES = ("tidak", "sebagian")


@dataclass(frozen=True)
class SectionScore:
    """Score of one section."""

    section_id: str
    score: float | None
    applicable_weight: float
    earned_weight: float
    failed_critical: tuple[str, ...]


@dataclass(frozen=True)
class ScoreResult:
    """Score, result and what stands in the way of submitting an audit."""

    score: float | None
    result: str | None
    applicable_weight: float
    earned_weight: float
    failed_critical: tuple[str, ...]
    missing_required: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...]
    per_section: tuple[SectionScore, ...]

    @property
    def is_complete(self) -> bool:
        """Whether the audit may be submitted: nothing required missing, nothing invalid."""
        return not self.missing_required and not self.invalid


def state_of(checklist: Checklist, answers: Mapping[str, object], today: datetime.date | None = None,
             now: datetime.datetime | None = None, locale: str = "id") -> FormState:
    """The form state scoring and the page read: relevance, calculations, problems (survey.form)."""
    return compute(checklist, answers, today=today, now=now, locale=locale)


def relevant_answers(checklist: Checklist, answers: Mapping[str, object],
                     today: datetime.date | None = None) -> dict[str, object]:
    """Answers of relevant items only: what an audit keeps and what expressions may see."""
    return state_of(checklist, answers, today).visible


def relevant_items(checklist: Checklist, answers: Mapping[str, object],
                   today: datetime.date | None = None) -> set[str]:
    """Addresses of the items shown for these answers."""
    state = state_of(checklist, answers, today)
    return {address for address, _, _ in state.nodes if address in state.relevant}


def resolve(checklist: Checklist, answers: Mapping[str, object],
            today: datetime.date | None = None) -> tuple[set[str], dict[str, object]]:
    """(relevant addresses, answers of relevant items), decided once so callers can reuse them."""
    state = state_of(checklist, answers, today)
    return {address for address, _, _ in state.nodes if address in state.relevant}, state.visible


def progress(checklist: Checklist, answers: Mapping[str, object],
             today: datetime.date | None = None, state: FormState | None = None) -> dict[str, tuple[int, int]]:
    """Per section id, in order: (answered, relevant) counts of the questions the auditor answers.

    An answer with a problem (wrong shape, failed constraint) is kept but not counted as answered:
    the auditor still has to fix it before the audit can be submitted. Every repeat instance counts.
    """
    state = state or state_of(checklist, answers, today)
    counts = {section.id: [0, 0] for section in checklist.sections}
    for address, item, _ in state.nodes:
        if item.is_answerable and address in state.relevant:
            tally = counts[checklist.section_of(item.id).id]
            tally[1] += 1
            tally[0] += state.answered(address)
    return {section_id: (done, shown) for section_id, (done, shown) in counts.items()}


@dataclass
class _Tally:
    """Running weights of a section or an audit; Fractions keep the threshold test exact."""

    applicable: Fraction = Fraction(0)
    earned: Fraction = Fraction(0)

    def score(self) -> float | None:
        return float(self.earned / self.applicable) if self.applicable else None


def _weight(item: Item) -> Fraction:
    # Through str so that a YAML 0.1 is exactly one tenth, not the nearest binary float.
    return Fraction(str(item.weight))


def score_audit(checklist: Checklist, answers: Mapping[str, object],
                today: datetime.date | None = None, state: FormState | None = None) -> ScoreResult:
    """Score an audit's answers against its checklist; a scored item inside a repeat counts once per instance."""
    state = state or state_of(checklist, answers, today)
    tallies = {section.id: _Tally() for section in checklist.sections}
    failures: dict[str, list[str]] = {section.id: [] for section in checklist.sections}
    for address, item, _ in state.nodes:
        if address not in state.relevant or item.type != "ynp":
            continue  # a critical ynp item of weight 0 still fails the audit
        section_id = checklist.section_of(item.id).id
        problem = state.problems.get(address)
        value = None if problem else state.values.get(address)
        _count(item, value, tallies[section_id])
        if item.critical and value in _CRITICAL_FAILURES:
            failures[section_id].append(address)
    total, sections, failed = _Tally(), [], []
    for section in checklist.sections:
        tally, section_failed = tallies[section.id], failures[section.id]
        total.applicable += tally.applicable
        total.earned += tally.earned
        failed.extend(section_failed)
        sections.append(SectionScore(section.id, tally.score(), float(tally.applicable),
                                     float(tally.earned), tuple(section_failed)))
    return ScoreResult(
        score=total.score(), result=_result(checklist, total, failed),
        applicable_weight=float(total.applicable), earned_weight=float(total.earned),
        failed_critical=tuple(failed), missing_required=tuple(state.missing),
        invalid=tuple(state.problems.items()), per_section=tuple(sections))


def _count(item: Item, value: object, tally: _Tally):
    """Add a scored item's weight; invalid answers arrive as None and earn nothing."""
    if not item.is_scored or value == "tidak_berlaku":
        return
    tally.applicable += _weight(item)
    tally.earned += _weight(item) * _EARNED_SHARE.get(value, Fraction(0))


def _result(checklist: Checklist, total: _Tally, failed: list[str]) -> str | None:
    if failed:
        return BELUM_MEMENUHI
    if not total.applicable:
        return None
    threshold = Fraction(str(checklist.scoring.memenuhi_min))
    return MEMENUHI if total.earned / total.applicable >= threshold else BELUM_MEMENUHI
