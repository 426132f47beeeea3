"""Scoring of a facility audit against its checklist: pure functions of (checklist, answers).

Rules (docs/checklist-format.md, "Scoring"):
- only relevant ynp items with weight > 0 count; `ya` earns the full weight, `sebagian` half,
  `tidak` nothing; `tidak_berlaku` takes the item out of the applicable weight;
- a relevant scored item that is unanswered or invalid counts as applicable and earns nothing, so a
  draft scores low until it is complete;
- an item whose relevance is false is ignored with its answer, as ODK drops irrelevant answers;
- a relevant critical item answered `tidak` or `sebagian` fails, and any failure forces
  `belum_memenuhi`; otherwise the result is `memenuhi` when score >= scoring.memenuhi_min.
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from survey.checklist import Checklist, Item, validate_answer
from survey.expressions import is_empty, is_relevant, satisfies

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


def relevant_answers(checklist: Checklist, answers: Mapping[str, object],
                     today: datetime.date | None = None) -> dict[str, object]:
    """Answers of relevant items only: what an audit keeps and what expressions may see."""
    return _resolve(checklist, answers, today)[1]


def relevant_items(checklist: Checklist, answers: Mapping[str, object],
                   today: datetime.date | None = None) -> set[str]:
    """Ids of the items shown for these answers."""
    return _resolve(checklist, answers, today)[0]


def resolve(checklist: Checklist, answers: Mapping[str, object],
            today: datetime.date | None = None) -> tuple[set[str], dict[str, object]]:
    """(relevant item ids, answers of relevant items), decided once so callers can reuse them."""
    return _resolve(checklist, answers, today)


def item_problem(checklist: Checklist, item_id: str, visible: Mapping[str, object],
                 today: datetime.date | None = None) -> str | None:
    """The problem of one relevant item's answer (shape or constraint), given the resolved answers."""
    item = checklist.item(item_id)
    return _problem(item, visible.get(item_id), visible, today)


def _resolve(checklist: Checklist, answers: Mapping[str, object],
             today: datetime.date | None) -> tuple[set[str], dict[str, object]]:
    """Decide relevance item by item, each after the items its relevance refers to.

    An item hidden by relevance behaves as unanswered for the items that refer to it. Items are
    taken in dependency order, ties in document order; validated checklists have no cycles, and
    any that slip through are broken in document order, seeing undecided items as unanswered.
    """
    items = checklist.items
    position = {item.id: index for index, item in enumerate(items)}
    waiting_on = {item.id: _dependencies(item, position) for item in items}
    dependents: dict[str, list[str]] = {item.id: [] for item in items}
    for item_id, dependencies in waiting_on.items():
        for dependency in dependencies:
            dependents[dependency].append(item_id)
    ready = [position[item_id] for item_id, deps in waiting_on.items() if not deps]
    heapq.heapify(ready)
    undecided = set(position)
    relevant, visible = set(), {}
    while undecided:
        index = heapq.heappop(ready) if ready else min(position[i] for i in undecided)
        item = items[index]
        if item.id not in undecided:
            continue
        undecided.discard(item.id)
        if is_relevant(item.relevant, visible, today):
            relevant.add(item.id)
            if not is_empty(answers.get(item.id)):
                visible[item.id] = answers[item.id]
        for dependent in dependents[item.id]:
            waiting_on[dependent].discard(item.id)
            if not waiting_on[dependent] and dependent in undecided:
                heapq.heappush(ready, position[dependent])
    return relevant, visible


def _dependencies(item: Item, position: Mapping[str, int]) -> set[str]:
    """Other items this item's relevance reads."""
    if item.relevant is None:
        return set()
    return {name for name in item.relevant.references if name in position and name != item.id}


def progress(checklist: Checklist, answers: Mapping[str, object],
             today: datetime.date | None = None, resolved: tuple[set[str], dict[str, object]] | None = None
             ) -> dict[str, tuple[int, int]]:
    """Per section id, in order: (answered, relevant) item counts for the UI.

    An answer with a problem (wrong shape, failed constraint) is kept but not counted as answered:
    the auditor still has to fix it before the audit can be submitted.
    """
    relevant, visible = resolved or _resolve(checklist, answers, today)
    counts = {}
    for section in checklist.sections:
        shown = [item for item in section.items if item.id in relevant]
        done = sum(1 for item in shown
                   if item.id in visible and not _problem(item, visible[item.id], visible, today))
        counts[section.id] = (done, len(shown))
    return counts


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
                today: datetime.date | None = None) -> ScoreResult:
    """Score an audit's answers against its checklist."""
    relevant, visible = _resolve(checklist, answers, today)
    total, missing, invalid, failed, sections = _Tally(), [], [], [], []
    for section in checklist.sections:
        tally, section_failed = _Tally(), []
        for item in section.items:
            if item.id not in relevant:
                continue
            value = visible.get(item.id)
            problem = _problem(item, value, visible, today)
            if value is None and item.required:
                missing.append(item.id)
            if problem:
                invalid.append((item.id, problem))
            _count(item, None if problem else value, tally)
            if item.critical and item.type == "ynp" and not problem and value in _CRITICAL_FAILURES:
                section_failed.append(item.id)
        total.applicable += tally.applicable
        total.earned += tally.earned
        failed.extend(section_failed)
        sections.append(SectionScore(section.id, tally.score(), float(tally.applicable),
                                     float(tally.earned), tuple(section_failed)))
    return ScoreResult(
        score=total.score(), result=_result(checklist, total, failed),
        applicable_weight=float(total.applicable), earned_weight=float(total.earned),
        failed_critical=tuple(failed), missing_required=tuple(missing), invalid=tuple(invalid),
        per_section=tuple(sections))


def _problem(item: Item, value: object, visible: Mapping[str, object],
             today: datetime.date | None) -> str | None:
    """Error code of an answer: wrong shape first, then a failed constraint."""
    if value is None:
        return None
    code = validate_answer(item, value)
    if code:
        return code
    return None if satisfies(item.constraint, value, visible, today) else "answer.constraint"


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
