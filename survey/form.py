"""The state of a filled form: repeat instances, relevance, calculations, choices on offer, problems. Pure.

A form's answers are a flat mapping of addresses (survey.checklist.ADDRESS): `item` for an item outside repeats,
`rep[2]/item` for the second instance of a repeat, `trees[1]/stems[3]/cbh` nested. The address of a repeat itself
(`rep`, `trees[1]/stems`) holds its number of instances when the auditor adds them; a repeat with a `count` takes
its number from that expression instead.

Evaluation follows the names' dependency order (survey.checklist refuses cycles), each name over all its instances,
so everything a name reads is decided before it. As in ODK:
- `${x}` from inside the repeat instance that holds x (or from a repeat nested in it) is that instance's x;
  from elsewhere it is the node-set of x over every instance (sum(), count(), max(), existential `=`);
- an item whose relevance (or whose group's or repeat's) is false counts as blank for every expression and its
  answer is ignored for scoring and progress, but kept in storage;
- a calculation's result is kept as text (ODK keeps `false` as the text 'false', which is true in a boolean context).
"""

from __future__ import annotations

import datetime
import heapq
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from survey.checklist import (MAX_INSTANCES, Checklist, Choice, Container, Item, Text, coerce_answer, dependencies,
                              entries_at, validate_answer)
from survey.expressions import (Expression, ExpressionError, Nodeset, evaluate, is_empty, parse, to_number, to_string,
                                truthy)

Instance = tuple[int, ...]


def prefix(repeats: tuple[str, ...], instance: Instance) -> str:
    """The address prefix of a repeat instance: `trees[1]/stems[3]/`; '' outside repeats."""
    return "".join(f"{name}[{number}]/" for name, number in zip(repeats, instance))


def instance_key(repeats: tuple[str, ...], instance: Instance) -> str:
    """The address of a repeat instance itself: `trees[1]/stems[3]`."""
    return prefix(repeats, instance)[:-1]


def address_of(name: str, repeats: tuple[str, ...], instance: Instance) -> str:
    """The address of an item (or a repeat's count) inside the given repeat instance."""
    return prefix(repeats, instance) + name


def split_address(address: str) -> tuple[tuple[tuple[str, int], ...], str]:
    """(((repeat, number), ...), name) of an address; ValueError when it is not one."""
    *steps, name = address.split("/")
    parsed = []
    for step in steps:
        repeat, _, rest = step.partition("[")
        if not rest.endswith("]") or not rest[:-1].isdigit():
            raise ValueError(f"not an answer address: {address!r}")
        parsed.append((repeat, int(rest[:-1])))
    return tuple(parsed), name


def fits(checklist: Checklist, address: str) -> bool:
    """Whether an address can hold an answer of this checklist: an item (or a repeat's count) reached through
    exactly the repeats around it. Instance numbers are not checked: they depend on the answers."""
    try:
        steps, name = split_address(address)
    except ValueError:
        return False
    repeats = tuple(repeat for repeat, _ in steps)
    if checklist.has_container(name):
        container = checklist.container(name)
        return container.type == "repeat" and checklist.repeats_of(container)[:-1] == repeats
    try:
        return checklist.repeats_of(checklist.item(name)) == repeats
    except KeyError:
        return False


def item_of(address: str) -> str:
    """The item (or repeat) id an address names."""
    return address.rsplit("/", 1)[-1]


@dataclass
class FormState:
    """Everything the page, the save and the score need to know about a form's answers at once."""

    checklist: Checklist
    answers: Mapping[str, object]
    nodes: list[tuple[str, Item, Instance]] = field(default_factory=list)  # (address, item, instance), file order
    counts: dict[str, int] = field(default_factory=dict)  # repeat count address -> instances
    totals: dict[str, int] = field(default_factory=dict)  # repeat id -> its instances in all enclosing instances
    relevant: set[str] = field(default_factory=set)  # addresses of relevant items and container instances
    values: dict[str, object] = field(default_factory=dict)  # what expressions see: relevant answers, calculations
    problems: dict[str, str] = field(default_factory=dict)  # address -> answer problem code
    missing: list[str] = field(default_factory=list)  # relevant, required, unanswered addresses
    choices: dict[str, tuple[Choice, ...]] = field(default_factory=dict)  # filtered choices by address
    defaults: set[str] = field(default_factory=set)  # addresses whose value is their item's default, never touched
    touched: frozenset[str] | None = None  # addresses ever saved; None: every address counts as touched
    _visible: dict | None = field(default=None, repr=False)
    _evaluation: _Evaluation | None = field(default=None, repr=False)

    def instances(self, repeat_id: str, parent: Instance = ()) -> range:
        """The instance numbers of a repeat inside a parent instance (of its enclosing repeats)."""
        repeats = self.checklist.repeats_of(self.checklist.container(repeat_id))
        return range(1, self.counts.get(address_of(repeat_id, repeats[:-1], parent), 0) + 1)

    def is_relevant(self, address: str) -> bool:
        return address in self.relevant

    def shown(self) -> dict[str, object]:
        """The answers as the page shows them: as given, and what the form filled in itself (calculations,
        hidden values, defaults never touched)."""
        shown = dict(self.answers)
        for address, item, _ in self.nodes:
            if address in self.defaults or item.calculation is not None or item.type == "hidden":
                shown[address] = self.values.get(address)
        return shown

    def text(self, text: str, address: str) -> str:
        """A label or hint with its ${name} references filled in as seen from an address (ODK output values)."""
        if "${" not in text or self._evaluation is None:
            return text
        steps, _ = split_address(address)
        scope = _Scope(self._evaluation, tuple(r for r, _ in steps), tuple(n for _, n in steps))
        return _OUTPUT.sub(lambda match: _shown(scope.value(match[1])), text)

    def layout(self, section) -> tuple[Entry, ...]:
        """A section's items as the page shows them: groups, repeats with their instances, items at addresses."""
        return _layout(self, section.items, 0, (), ())

    def answered(self, address: str) -> bool:
        """Whether a relevant answer is saved and has no problem: what progress counts as done."""
        return address in self.relevant and address in self.visible and address not in self.problems

    @property
    def visible(self) -> dict[str, object]:
        """Relevant, non-empty answers given by the auditor (not calculations)."""
        if self._visible is None:
            answerable = {a for a, item, _ in self.nodes if item.is_answerable}
            self._visible = {a: v for a, v in self.values.items() if a in answerable}
        return self._visible


def compute(checklist: Checklist, answers: Mapping[str, object], today: datetime.date | None = None,
            now: datetime.datetime | None = None, locale: str = "id", touched: set[str] | None = None,
            last_saved: Mapping[str, object] | None = None) -> FormState:
    """The state of a form for these answers.

    `touched` holds the addresses the auditor has ever saved (even cleared); an item with a `default` takes it
    until touched, as ODK fills defaults into a new form or repeat instance. None means every address is touched.
    `last_saved` holds the answers of the form saved before (ODK's ${last-saved#x}), by address.
    """
    state = FormState(checklist, answers, touched=None if touched is None else frozenset(touched))
    _Evaluation(state, today, now, locale, state.touched, last_saved or {}).run()
    return state


class _Evaluation:
    """One pass over the names of a checklist in dependency order."""

    def __init__(self, state: FormState, today, now, locale: str, touched: set[str] | None,
                 last_saved: Mapping[str, object] | None = None):
        self.state, self.today, self.now, self.locale, self.touched = state, today, now, locale, touched
        self.last_saved = last_saved or {}
        state._evaluation = self
        self.checklist = state.checklist
        self.order = _evaluation_order(self.checklist)
        self.items = {item.id: item for item in self.checklist.items}
        self.positions = {item.id: index for index, item in enumerate(self.checklist.items)}
        self.first = {}  # container id -> file position of its first item
        for index, item in enumerate(self.checklist.items):
            for container_id in item.path:
                self.first.setdefault(container_id, index)

    def run(self) -> None:
        for name in self.order:
            if name in self.items:
                self._item(self.items[name])
            else:
                self._container(self.checklist.container(name))
        state = self.state
        state.nodes.sort(key=self._document_key)
        for address, item, instance in state.nodes:
            if address in state.relevant and item.is_answerable:
                self._check(address, item, instance)

    def _document_key(self, node: tuple[str, Item, Instance]) -> tuple:
        """File order of instances: an instance's items together, instances in number order."""
        _, item, instance = node
        repeats = self.checklist.repeats_of(item)
        key: list = []
        # Sort by the position of each enclosing repeat's first item, then the instance number.
        for depth, repeat_id in enumerate(repeats):
            key.extend((self.first[repeat_id], instance[depth]))
        key.append(self.positions[item.id])
        return tuple(key)

    # -- names --

    def _parent_instances(self, repeats: tuple[str, ...]) -> Iterator[Instance]:
        """Every instance of a chain of repeats, in order (one empty instance outside repeats)."""
        instances: list[Instance] = [()]
        for depth, repeat_id in enumerate(repeats):
            grown = []
            for instance in instances:
                count = self.state.counts.get(address_of(repeat_id, repeats[:depth], instance), 0)
                grown.extend((*instance, number) for number in range(1, count + 1))
            instances = grown
        return iter(instances)

    def _container(self, container: Container) -> None:
        checklist, state = self.checklist, self.state
        repeats = checklist.repeats_of(container)
        outer = repeats[:-1] if container.type == "repeat" else repeats
        for instance in self._parent_instances(outer):
            here = address_of(container.id, outer, instance)
            if self._enclosing_relevant(container.parent, outer, instance) and self._true(
                    container.relevant, outer, instance):
                state.relevant.add(here)
            if container.type == "repeat":
                # At most MAX_INSTANCES of a repeat in all, taken by its enclosing instances in order: nested
                # counted repeats (3 levels of ${n}) would otherwise make millions of nodes from one number.
                used = state.totals.get(container.id, 0)
                state.counts[here] = min(self._count(container, outer, instance, here), MAX_INSTANCES - used)
                state.totals[container.id] = used + state.counts[here]
                if here in state.relevant:
                    for number in range(1, state.counts[here] + 1):
                        state.relevant.add(instance_key(repeats, (*instance, number)))

    def _count(self, container: Container, outer: tuple[str, ...], instance: Instance, here: str) -> int:
        if container.count is not None:
            number = to_number(self._evaluate(container.count, outer, instance))
        else:
            stored = self.state.answers.get(here)
            number = stored if isinstance(stored, (int, float)) and not isinstance(stored, bool) else 0
        if math.isnan(number) or number < 0:
            return 0
        return MAX_INSTANCES if math.isinf(number) else min(int(number), MAX_INSTANCES)

    def _enclosing_relevant(self, container_id: str | None, repeats: tuple[str, ...], instance: Instance) -> bool:
        """Whether the container around something is relevant at this instance (True outside containers)."""
        if container_id is None:
            return True
        container = self.checklist.container(container_id)
        if container.type == "repeat":
            depth = repeats.index(container_id) if container_id in repeats else len(repeats) - 1
            return instance_key(repeats[:depth + 1], instance[:depth + 1]) in self.state.relevant
        depth = len(self.checklist.repeats_of(container))
        return address_of(container_id, repeats[:depth], instance[:depth]) in self.state.relevant

    def _item(self, item: Item) -> None:
        checklist, state = self.checklist, self.state
        repeats = checklist.repeats_of(item)
        parent = item.path[-1] if item.path else None
        for instance in self._parent_instances(repeats):
            address = address_of(item.id, repeats, instance)
            state.nodes.append((address, item, instance))
            if not (self._enclosing_relevant(parent, repeats, instance) and self._true(item.relevant, repeats,
                                                                                        instance)):
                continue
            state.relevant.add(address)
            if item.calculation is not None:
                value = self._evaluate(item.calculation, repeats, instance, current=state.answers.get(address))
                state.values[address] = to_string(value)
            elif not is_empty(state.answers.get(address)):
                state.values[address] = state.answers[address]
            elif item.default is not None and self.touched is not None and address not in self.touched:
                value = self._default(item, repeats, instance)
                if not is_empty(value):
                    state.values[address] = value
                    state.defaults.add(address)

    def _default(self, item: Item, repeats: tuple[str, ...], instance: Instance) -> object:
        """An item's default: a literal, or an expression such as today() evaluated where it applies."""
        text = item.default
        if "(" in text or "${" in text:
            try:
                return to_string(self._evaluate(parse(text), repeats, instance))
            except ExpressionError:
                pass  # not an expression after all: the text itself is the default
        return coerce_answer(item, text)

    # -- checks --

    def _check(self, address: str, item: Item, instance: Instance) -> None:
        state = self.state
        repeats = self.checklist.repeats_of(item)
        value = state.values.get(address)
        if item.choices_from is not None:
            state.choices[address] = self.answered_choices(item, repeats, instance)
        elif item.choice_filter is not None:
            state.choices[address] = self.filtered_choices(item, repeats, instance)
        if value is None:
            if item.required or (item.required_if is not None and self._true(item.required_if, repeats, instance)):
                state.missing.append(address)
            return
        code = validate_answer(item, value)
        if code is None and (item.choice_filter is not None or item.choices_from is not None):
            offered = {choice.value for choice in state.choices[address]}
            chosen = value if isinstance(value, list) else [value]
            code = None if all(v in offered for v in chosen) else "answer.not_a_choice"
        if code is None and item.constraint is not None and not truthy(
                self._evaluate(item.constraint, repeats, instance, current=value)):
            code = "answer.constraint"
        if code:
            state.problems[address] = code

    def answered_choices(self, item: Item, repeats: tuple[str, ...], instance: Instance) -> tuple[Choice, ...]:
        """`select_one ${name}`: each different answer `name` got (in entry order) is a choice, its own label. A
        choice_filter is read in each entry, as ODK reads it inside the repeat: `${umur} > 5` is that entry's umur."""
        name = item.choices_from
        target = self.checklist.repeats_of(self.items[name])
        here = _Scope(self, repeats, instance)
        seen: dict[str, None] = {}
        for entry in here.instances_below(target, _shared(repeats, target)):
            if item.choice_filter is not None and not self._true(item.choice_filter, target, entry):
                continue
            text = to_string(self.state.values.get(address_of(name, target, entry), "")).strip()
            if text:
                seen.setdefault(text, None)
        return tuple(Choice(value=value, label=Text(id=value, en=value)) for value in seen)

    def filtered_choices(self, item: Item, repeats: tuple[str, ...], instance: Instance) -> tuple[Choice, ...]:
        """The choices a choice_filter leaves on offer for this instance."""
        return tuple(choice for choice in item.choices
                     if truthy(self._evaluate(item.choice_filter, repeats, instance, choice=choice)))

    # -- expressions --

    def _true(self, expression: Expression | None, repeats: tuple[str, ...], instance: Instance) -> bool:
        return expression is None or truthy(self._evaluate(expression, repeats, instance))

    def _evaluate(self, expression: Expression, repeats: tuple[str, ...], instance: Instance, current=None,
                  choice: Choice | None = None) -> object:
        scope = _Scope(self, repeats, instance, choice)
        return evaluate(expression, scope, current=current, today=self.today, now=self.now)


class _Scope:
    """What `${name}`, position(..), jr:choice-name() and pulldata() mean at one repeat instance (an expressions.Scope)."""

    def __init__(self, evaluation: _Evaluation, repeats: tuple[str, ...], instance: Instance,
                 choice: Choice | None = None):
        self.evaluation, self.repeats, self.instance, self.choice = evaluation, repeats, instance, choice
        self.checklist = evaluation.checklist

    def value(self, name: str) -> object:
        target = self._repeats_of(name)
        if target is None:
            return ""
        shared = _shared(self.repeats, target)
        if shared == len(target) and not self._is_repeat(name):
            return self.evaluation.state.values.get(address_of(name, target, self.instance[:shared]), "")
        return self._nodeset(name, target, shared)

    def instances(self, name: str) -> Nodeset:
        target = self._repeats_of(name)
        if target is None:
            return Nodeset()
        shared = min(_shared(self.repeats, target), max(len(target) - 1, 0))
        return self._nodeset(name, target, shared)

    def position(self) -> int | None:
        return self.instance[-1] if self.instance else None

    def last_saved(self, name: str) -> object:
        """${last-saved#name}: its answer in the form saved before, at the same place ('' when none)."""
        target = self._repeats_of(name)
        if target is None:
            return ""
        shared = _shared(self.repeats, target)
        if shared < len(target):
            return ""  # an entry of the earlier form cannot be told from here
        value = self.evaluation.last_saved.get(address_of(name, target, self.instance[:shared]))
        return "" if value is None else value

    def at(self, name: str, steps: tuple[tuple[str, int], ...]) -> object:
        """indexed-repeat with pairs: the value of `name` in the named entries (the others as seen from here)."""
        target = self._repeats_of(name)
        if target is None:
            return ""
        chosen = dict(steps)
        instance = []
        for depth, repeat in enumerate(target):
            if repeat in chosen:
                instance.append(chosen[repeat])
            elif depth < len(self.repeats) and self.repeats[depth] == repeat:
                instance.append(self.instance[depth])
            else:
                return ""  # an enclosing entry neither named nor shared with here
        return self.evaluation.state.values.get(address_of(name, target, tuple(instance)), "")

    def choice_label(self, item: str, value: str) -> str | None:
        for choice in getattr(self.evaluation.items.get(item), "choices", ()):
            if choice.value == value:
                return choice.label.get(self.evaluation.locale)
        return None

    def lookup(self, table: str, column: str, key_column: str, key: str) -> str:
        for row in self.checklist.table(table):
            if row.get(key_column) == key:
                return row.get(column, "")
        return ""

    def choice_column(self, name: str) -> object:
        return self.choice.column(name) if self.choice is not None else ""

    # -- helpers --

    def _is_repeat(self, name: str) -> bool:
        return self.checklist.has_container(name) and self.checklist.container(name).type == "repeat"

    def _repeats_of(self, name: str) -> tuple[str, ...] | None:
        if name in self.evaluation.items:
            return self.checklist.repeats_of(self.evaluation.items[name])
        if self.checklist.has_container(name):
            return self.checklist.repeats_of(self.checklist.container(name))
        return None

    def instances_below(self, target: tuple[str, ...], shared: int) -> list[Instance]:
        """Every instance of a chain of repeats below the instance this scope shares with it, in order."""
        state = self.evaluation.state
        instances = [self.instance[:shared]]
        for depth in range(shared, len(target)):
            grown = []
            for instance in instances:
                count = state.counts.get(address_of(target[depth], target[:depth], instance), 0)
                grown.extend((*instance, number) for number in range(1, count + 1))
            instances = grown
        return instances

    def _nodeset(self, name: str, target: tuple[str, ...], shared: int) -> Nodeset:
        """The values of a name over every instance of its repeats below the shared instance."""
        state, values = self.evaluation.state, []
        for instance in self.instances_below(target, shared):
            if self._is_repeat(name):
                values.append("")  # a repeat instance as a node: count(${rep}) counts them
            else:
                values.append(state.values.get(address_of(name, target, instance), ""))
        return Nodeset(values)


_OUTPUT = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _shown(value: object) -> str:
    """A value inside a label: a node-set shows its values joined, as a list of choices does."""
    if isinstance(value, Nodeset):
        return ", ".join(to_string(part) for part in value if to_string(part))
    return to_string(value)


@dataclass(frozen=True)
class Entry:
    """One thing the page shows: an item at its address, a group, a repeat or one instance of it."""

    kind: str  # item | group | repeat | instance
    address: str  # the item's address, the group's, the repeat's count address, or the instance's (rep[2])
    item: Item | None = None
    container: Container | None = None
    number: int | None = None  # the instance number
    children: tuple[Entry, ...] = ()


class _One:
    """Counts where every repeat has exactly one instance."""

    def get(self, address: str, default: int = 0) -> int:
        return 1


class _OneOfEach:
    """A stand-in state for blank_layout: every repeat has exactly one instance."""

    def __init__(self, checklist: Checklist):
        self.checklist = checklist
        self.counts = _One()


def blank_layout(checklist: Checklist, section) -> tuple[Entry, ...]:
    """A section's layout with one instance of every repeat: the template an offline page copies per instance."""
    return _layout(_OneOfEach(checklist), section.items, 0, (), ())


def _layout(state: FormState, items: tuple[Item, ...], depth: int, repeats: tuple[str, ...],
            instance: Instance) -> tuple[Entry, ...]:
    entries = []
    checklist = state.checklist
    for item, container_id, members in entries_at(items, depth):
        if item is not None:
            entries.append(Entry("item", address_of(item.id, repeats, instance), item=item))
            continue
        container = checklist.container(container_id)
        here = address_of(container_id, repeats, instance)
        if container.type == "group":
            children = _layout(state, members, depth + 1, repeats, instance)
            entries.append(Entry("group", here, container=container, children=children))
            continue
        inner = (*repeats, container_id)
        instances = tuple(
            Entry("instance", instance_key(inner, (*instance, number)), container=container, number=number,
                  children=_layout(state, members, depth + 1, inner, (*instance, number)))
            for number in range(1, state.counts.get(here, 0) + 1))
        entries.append(Entry("repeat", here, container=container, children=instances))
    return tuple(entries)


def _shared(context: tuple[str, ...], target: tuple[str, ...]) -> int:
    """How many enclosing repeats two chains share from the outside in."""
    shared = 0
    for mine, theirs in zip(context, target):
        if mine != theirs:
            break
        shared += 1
    return shared


def _evaluation_order(checklist: Checklist) -> list[str]:
    """Names in dependency order, ties in file order (containers before the items they hold)."""
    depends = dependencies(checklist)
    rank: dict[str, int] = {}
    for item in checklist.items:
        for container_id in item.path:
            rank.setdefault(container_id, len(rank))
        rank.setdefault(item.id, len(rank))
    waiting = {name: {d for d in deps if d in rank} for name, deps in depends.items()}
    dependents: dict[str, list[str]] = {name: [] for name in waiting}
    for name, deps in waiting.items():
        for dependency in deps:
            dependents[dependency].append(name)
    ready = [(rank[name], name) for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order, done = [], set()
    while len(done) < len(waiting):
        if ready:
            _, name = heapq.heappop(ready)
        else:  # a cycle slipped through validation: break it in file order
            name = min((n for n in waiting if n not in done), key=rank.__getitem__)
        if name in done:
            continue
        done.add(name)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent].discard(name)
            if not waiting[dependent] and dependent not in done:
                heapq.heappush(ready, (rank[dependent], dependent))
    return order
