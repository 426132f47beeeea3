"""A small, safe expression language for relevance, constraints and choice filters (XLSForm's common set).

Text is tokenized and parsed by hand into frozen dataclasses, then evaluated by walking the tree;
nothing is ever passed to eval(). Values follow XPath 1.0 as ODK (JavaRosa) uses it:

- an unanswered item is the empty string '';
- a select_multiple (or photo) answer is a list of strings; in a string context it joins with
  spaces, as ODK stores it;
- an item inside a repeat, seen from outside its instance, is a `Nodeset`: its values in document
  order. Comparisons with a node-set are existential (`${x} = 'a'` is true when any instance is 'a',
  and `!=` when any instance differs; an empty node-set makes both false); string(), number(),
  arithmetic and other scalar uses take the first node ('' / NaN when empty); boolean() is
  "non-empty";
- `=` / `!=`: if either side is a boolean both become booleans, else if either side is a number
  both become numbers (a non-numeric string is NaN, so `=` is false and `!=` true), else strings;
- `<` `<=` `>` `>=` and arithmetic convert to numbers;
- number(): XPath's grammar only (optional '-', digits, '.', surrounding whitespace): '' is NaN,
  '1e3' and 'Infinity' are NaN, '-0' is negative zero (string() of it is '0'). As in ODK, a date
  'YYYY-MM-DD' converts to days since 1970-01-01 and a date-time to fractional days (UTC), so
  `today() - ${d}` is a number of days and dates order correctly against dates and date-times;
- string() of a number has no exponent and no '.0': 1e-7 is '0.0000001', 1 div 0 is 'Infinity'.

Functions and where they differ from XPath 1.0 / ODK:

- count(): instances of a node-set; a plain value (even '') counts 1, as a non-repeat node exists
  in ODK's instance whether answered or not. count-non-empty() counts non-empty values.
- sum() of a node-set adds number() of each node, so one non-numeric or empty node gives NaN;
  min()/max() take node-sets or several arguments, NaN when any is NaN or when there are none.
- concat() and join() flatten node-set arguments (ODK), where XPath's concat takes the first node.
- round(x, digits): half away from zero (ODK), not XPath's half toward +Infinity.
- substr(s, start, end): ODK's 0-based start and exclusive end, negative indices count from the
  end; substring(s, start, length) is XPath's 1-based one.
- regex(value, pattern) must match the whole value (ODK tests a partial match); the pattern must
  be a string literal so a bad one fails at load time.
- jr:choice-name(value, '${q}') needs that literal; `q` counts among the expression's references.
- indexed-repeat(${item}, ${repeat}, n): n is 1-based, '' when out of range; with pairs
  (${outer}, i, ${inner}, j, up to three) the item in outer[i]/inner[j], resolved by a form's scope
  (`Scope.at`; '' from a plain mapping). position(..) is 1 outside any repeat.
- format-date() knows %Y %y %m %n %b %d %e %a %H %h %M %S %3 with English month and day names; it
  formats the wall-clock time written in the value. date-time() of a number is UTC ('+00:00'), and
  a date-time written without an offset is read as UTC (ODK would use the device's zone).
- weighted-checklist() takes (value, weight) pairs of scalars; checklist() flattens node-sets.
- once(x) returns the current value when it is non-empty, else x (no instance history here).
- string lengths and substr() count Unicode code points (JavaScript counts UTF-16 units).

Evaluation never raises for any answers, with two exceptions: `today()` without a `today` date
(ExpressionError `expr.no_today`) and `now()` without a timezone-aware `now` (`expr.no_now`),
which are callers' mistakes.

`${last-saved#x}` is x in the form saved before (Scope.last_saved; '' from a plain mapping without one).
Relative paths to a sibling (`../total`, `current()/../total`), as XLSForms for ODK write them, are read as
`${total}`: names are unique in a form, so the item of that name as seen from here is the same node.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import math
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

MAX_LENGTH = 2000
MAX_DEPTH = 50

NAN = float("nan")
INF = float("inf")

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})\s*")
_ISO_DATE_TIME = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*")
_XPATH_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*")
_CHOICE_ITEM = re.compile(r"\s*\$\{([A-Za-z0-9_.\-]+)\}\s*")
_XPATH_SPACE = re.compile(r"[ \t\r\n]+")

# Indonesian texts for the UI; the English message carries the detail for logs and authors.
_MESSAGES_ID = {
    "expr.syntax": "Penulisan ekspresi tidak valid",
    "expr.unknown_function": "Fungsi tidak dikenal",
    "expr.bad_arity": "Jumlah argumen fungsi salah",
    "expr.bad_argument": "Argumen fungsi tidak valid",
    "expr.bad_regex": "Pola regex tidak valid",
    "expr.too_long": "Ekspresi terlalu panjang",
    "expr.too_deep": "Ekspresi terlalu bertingkat",
    "expr.no_today": "Tanggal hari ini tidak tersedia",
    "expr.no_now": "Waktu sekarang tidak tersedia",
}


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated, with a stable code."""

    def __init__(self, code: str, message: str, position: int | None = None,
                 message_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position
        self.message_id = message_id or _indonesian(code, position)

    def __str__(self) -> str:
        where = "" if self.position is None else f" at {self.position}"
        return f"{self.code}{where}: {self.message}"


def _indonesian(code: str, position: int | None) -> str:
    """Short Indonesian message for an error code."""
    text = _MESSAGES_ID.get(code, "Ekspresi tidak valid")
    return text if position is None else f"{text} (posisi {position})"


# --- Values from outside: node-sets and scopes ------------------------------------------------


class Nodeset(tuple):
    """Values of one item across repeat instances, in document order (an XPath node-set)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Nodeset({tuple(self)!r})"


@runtime_checkable
class Scope(Protocol):
    """What evaluation asks the outside world: answers, repeat positions, choices and tables."""

    def value(self, name: str) -> object:
        """${name} here: a value, '' when unanswered, or a Nodeset."""

    def instances(self, name: str) -> Nodeset:
        """Every value of ${name} across its repeat's instances (indexed-repeat)."""

    def position(self) -> int | None:
        """position(..): 1-based index of the innermost repeat instance, None outside repeats."""

    def choice_label(self, item: str, value: str) -> str | None:
        """jr:choice-name(value, '${item}'): the label of a choice, None when unknown."""

    def lookup(self, table: str, column: str, key_column: str, key: str) -> str:
        """pulldata(): a column of the first row whose key column equals key; '' when none."""

    def choice_column(self, name: str) -> object:
        """A bare name in a choice_filter: that column of the choice row ('' when absent)."""


class MappingScope:
    """The Scope for a plain dict of answers, with optional position, choices, tables and choice row."""

    __slots__ = ("answers", "_position", "choices", "tables", "choice", "saved")

    def __init__(self, answers: Mapping[str, object], *, position: int | None = None,
                 choices: Mapping[str, Mapping[str, str]] | None = None,
                 tables: Mapping[str, list[Mapping[str, str]]] | None = None,
                 choice: Mapping[str, object] | None = None, last_saved: Mapping[str, object] | None = None):
        self.answers = answers
        self.saved = last_saved or {}
        self._position = position
        self.choices = choices or {}
        self.tables = tables or {}
        self.choice = choice or {}

    def value(self, name: str) -> object:
        """The answer, '' for unknown names."""
        value = self.answers.get(name)
        return "" if value is None else value

    def last_saved(self, name: str) -> object:
        """${last-saved#name}: the answer in the form saved before, '' when none."""
        value = self.saved.get(name)
        return "" if value is None else value

    def instances(self, name: str) -> Nodeset:
        """The answer if it is a Nodeset, else a one-node Nodeset."""
        value = self.value(name)
        return value if isinstance(value, Nodeset) else Nodeset((value,))

    def position(self) -> int | None:
        """The position given to the constructor."""
        return self._position

    def choice_label(self, item: str, value: str) -> str | None:
        """The label from choices[item][value]."""
        return self.choices.get(item, {}).get(value)

    def lookup(self, table: str, column: str, key_column: str, key: str) -> str:
        """First row of tables[table] whose key column is key."""
        for row in self.tables.get(table, ()):
            if str(row.get(key_column, "")) == key:
                return str(row.get(column, "") or "")
        return ""

    def choice_column(self, name: str) -> object:
        """A column of the choice row."""
        value = self.choice.get(name)
        return "" if value is None else value


# --- AST -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A string, number or boolean constant."""

    value: str | float | bool


@dataclass(frozen=True)
class Ref:
    """`${name}`: the answer of another item; `${last-saved#name}` its answer in the last form saved."""

    name: str
    position: int = field(default=0, compare=False)
    last_saved: bool = False


@dataclass(frozen=True)
class Field:
    """A bare name in a choice filter: a column of the choice row being filtered."""

    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Current:
    """`.`: the value of the item being constrained."""


@dataclass(frozen=True)
class Parent:
    """`..`: the enclosing repeat instance; only ever the argument of position()."""


@dataclass(frozen=True)
class Unary:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True)
class Binary:
    """An infix operator: or, and, =, !=, <, <=, >, >=, +, -, *, div, mod."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """A function call such as `selected(${x}, 'a')`."""

    name: str
    args: tuple[Node, ...]
    position: int = field(default=0, compare=False)


Node = Literal | Ref | Field | Current | Parent | Unary | Binary | Call

_CHOICE_NAME = ("jr:choice-name", "choice-name")


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source text, tree and what it depends on."""

    text: str
    root: Node
    references: frozenset[str] = field(init=False, compare=False)
    fields: frozenset[str] = field(init=False, compare=False)
    uses_current: bool = field(init=False, compare=False)
    uses_dot: bool = field(init=False, compare=False)
    last_saved: frozenset[str] = field(init=False, compare=False)  # `.` itself (once() reads the current value without it)
    uses_today: bool = field(init=False, compare=False)
    uses_now: bool = field(init=False, compare=False)

    def __post_init__(self):
        nodes = list(_walk(self.root))
        calls = {node.name for node in nodes if isinstance(node, Call)}
        # ${last-saved#x} reads a form saved before: it names x, but nothing here waits on x.
        references = {node.name for node in nodes if isinstance(node, Ref) and not node.last_saved}
        object.__setattr__(self, "last_saved", frozenset(n.name for n in nodes if isinstance(n, Ref) and n.last_saved))
        # jr:choice-name names its item inside a string literal; it depends on that item's choices.
        references.update(_choice_item(node) for node in nodes
                          if isinstance(node, Call) and node.name in _CHOICE_NAME)
        object.__setattr__(self, "references", frozenset(references))
        object.__setattr__(self, "fields", frozenset(n.name for n in nodes if isinstance(n, Field)))
        # once() reads the current value as well.
        object.__setattr__(self, "uses_current",
                           any(isinstance(n, Current) for n in nodes) or "once" in calls)
        object.__setattr__(self, "uses_dot", any(isinstance(n, Current) for n in nodes))
        object.__setattr__(self, "uses_today", "today" in calls)
        object.__setattr__(self, "uses_now", "now" in calls)

    def __str__(self) -> str:
        return self.text


def _choice_item(call: Call) -> str:
    """The item named by jr:choice-name's literal '${item}' (checked at parse time)."""
    return _CHOICE_ITEM.fullmatch(call.args[1].value).group(1)


def _children(node: Node) -> tuple[Node, ...]:
    """Direct subexpressions of a node."""
    match node:
        case Unary(operand):
            return (operand,)
        case Binary(_, left, right):
            return (left, right)
        case Call(_, args):
            return args
    return ()


def _walk(node: Node):
    """Every node of a tree, parents first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(_children(current)))


def _depth(node: Node) -> int:
    """Height of a tree; callers keep trees shallow, so recursion is bounded."""
    return 1 + max((_depth(child) for child in _children(node)), default=0)


# --- Tokenizer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """One lexical token and where it starts in the text."""

    kind: str  # number, string, ref, dot, parent, name, op, end
    value: str
    position: int


_NAME_PART = r"[A-Za-z_][A-Za-z0-9_.\-]*"
RELATIVE_REF = re.compile(r"(?:current\(\)/)?(?:\.\./)+([A-Za-z_][A-Za-z0-9_.\-]*)")
_TOKEN_PATTERNS = [
    ("space", re.compile(r"\s+")),
    ("number", re.compile(r"\d+(\.\d*)?|\.\d+")),
    ("ref", re.compile(r"\$\{([A-Za-z0-9_.\-]+)\}")),
    ("last", re.compile(r"\$\{last-saved#([A-Za-z0-9_.\-]+)\}")),
    # A relative path to a sibling (`../total`, `current()/../pos`), as XLSForms written for ODK use: names are
    # unique in a form, so it is the item of that name as seen from here, the same as ${total}.
    ("ref", RELATIVE_REF),
    ("string", re.compile(r"'[^']*'|\"[^\"]*\"")),
    ("op", re.compile(r"!=|<=|>=|[=<>+\-*(),]")),
    ("parent", re.compile(r"\.\.")),
    ("dot", re.compile(r"\.")),
    # XPath names may contain '-' and '.', which is how count-selected and string-length are spelt,
    # and one namespace prefix, as in jr:choice-name.
    ("name", re.compile(rf"{_NAME_PART}(:{_NAME_PART})?")),
]


def tokenize(text: str) -> list[Token]:
    """Split expression text into tokens, ending with an `end` token."""
    tokens, position = [], 0
    while position < len(text):
        kind, match = _match_token(text, position)
        if kind != "space":
            value = match.group(1) if kind in ("ref", "last") else match.group(0)
            if kind == "string":
                value = value[1:-1]
            tokens.append(Token(kind, value, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _match_token(text: str, position: int):
    """The first token pattern matching at a position, or a syntax error."""
    for kind, pattern in _TOKEN_PATTERNS:
        match = pattern.match(text, position)
        if match:
            return kind, match
    char = text[position]
    if char in "'\"":
        raise ExpressionError("expr.syntax", "unterminated string", position)
    if text.startswith("${", position):
        raise ExpressionError("expr.syntax", "malformed reference, expected ${name}", position)
    raise ExpressionError("expr.syntax", f"unexpected character {char!r}", position)


# --- Parser ----------------------------------------------------------------------------------

# Binary operator levels from loosest to tightest binding, as in XPath 1.0.
_LEVELS = (
    ("or",),
    ("and",),
    ("=", "!="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "div", "mod"),
)
_KEYWORD_OPERATORS = {"or", "and", "div", "mod"}

_MANY = None  # no upper limit on arguments
_MATH_1 = ("abs", "floor", "ceiling", "sqrt", "exp", "exp10", "log", "log10",
           "sin", "cos", "tan", "asin", "acos", "atan")

# name -> (fewest, most) arguments; most is None for variadic functions.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    # logic
    "if": (3, 3), "not": (1, 1), "true": (0, 0), "false": (0, 0), "boolean": (1, 1),
    "boolean-from-string": (1, 1), "coalesce": (2, _MANY), "once": (1, 1),
    "checklist": (2, _MANY), "weighted-checklist": (2, _MANY),
    # node-sets and repeats
    "count": (1, 1), "count-non-empty": (1, 1), "sum": (1, 1), "min": (1, _MANY),
    "max": (1, _MANY), "position": (0, 1), "indexed-repeat": (3, 7),
    # numbers
    "number": (1, 1), "int": (1, 1), "round": (1, 2), "pow": (2, 2), "atan2": (2, 2),
    "pi": (0, 0), "random": (0, 0), **{name: (1, 1) for name in _MATH_1},
    # strings
    "string": (1, 1), "concat": (1, _MANY), "join": (2, _MANY), "string-length": (1, 1),
    "substr": (2, 3), "substring": (2, 3), "contains": (2, 2), "starts-with": (2, 2),
    "ends-with": (2, 2), "substring-before": (2, 2), "substring-after": (2, 2),
    "translate": (3, 3), "normalize-space": (1, 1), "regex": (2, 2), "uuid": (0, 0),
    # selects and choices
    "selected": (2, 2), "selected-at": (2, 2), "count-selected": (1, 1),
    "jr:choice-name": (2, 2), "choice-name": (2, 2), "pulldata": (4, 4),
    # dates
    "today": (0, 0), "now": (0, 0), "date": (1, 1), "date-time": (1, 1),
    "decimal-date-time": (1, 1), "format-date": (2, 2), "format-date-time": (2, 2),
}


class _Parser:
    """Recursive-descent parser over a token list."""

    def __init__(self, text: str, choice_filter: bool = False):
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0
        self.choice_filter = choice_filter

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def is_operator(self, token: Token, operators: tuple[str, ...]) -> bool:
        if token.kind == "op":
            return token.value in operators
        keyword = token.kind == "name" and token.value in _KEYWORD_OPERATORS
        return keyword and token.value in operators

    def at_op(self, value: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "op" and token.value == value

    def expect(self, value: str) -> Token:
        if self.at_op(value):
            return self.advance()
        raise ExpressionError("expr.syntax", f"expected {value!r}, found {_describe(self.token)}",
                              self.token.position)

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise ExpressionError("expr.syntax", "empty expression", 0)
        node = self.expression()
        if self.token.kind != "end":
            raise ExpressionError("expr.syntax", f"unexpected {_describe(self.token)}",
                                  self.token.position)
        return node

    def expression(self) -> Node:
        self.enter()
        node = self.binary(0)
        self.nesting -= 1
        return node

    def enter(self):
        # Parentheses and unary minus nest without growing the tree, so count them separately.
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ExpressionError("expr.too_deep", f"nested more than {MAX_DEPTH} levels",
                                  self.token.position)

    def binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.is_operator(self.token, _LEVELS[level]):
            operator = self.advance()
            node = _checked(Binary(operator.value, node, self.binary(level + 1)), operator)
        return node

    def unary(self) -> Node:
        if self.at_op("-"):
            minus = self.advance()
            self.enter()
            node = _checked(Unary(self.unary()), minus)
            self.nesting -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Literal(float(token.value))
        if token.kind == "string":
            return Literal(token.value)
        if token.kind == "ref":
            return Ref(token.value, token.position)
        if token.kind == "last":
            return Ref(token.value, token.position, last_saved=True)
        if token.kind == "dot":
            return Current()
        if token.kind == "op" and token.value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if token.kind == "name":
            return self.call(token)
        if token.kind == "parent":
            raise ExpressionError("expr.syntax", "'..' is only understood as position(..)",
                                  token.position)
        raise ExpressionError("expr.syntax", f"unexpected {_describe(token)}", token.position)

    def call(self, name: Token) -> Node:
        if not self.at_op("("):
            if self.choice_filter:
                return Field(name.value, name.position)
            raise ExpressionError(
                "expr.syntax", f"bare name {name.value!r}: write ${{{name.value}}} for an item",
                name.position)
        if name.value not in FUNCTIONS:
            raise ExpressionError("expr.unknown_function", f"unknown function {name.value}()",
                                  name.position, f"Fungsi tidak dikenal: {name.value}()")
        self.advance()
        if name.value == "position" and self.peek(0).kind == "parent" and self.at_op(")", 1):
            self.index += 2
            return Call(name.value, (Parent(),), name.position)
        args, positions = self.arguments()
        call = _checked(Call(name.value, tuple(args), name.position), name)
        _check_call(call, positions)
        return call

    def arguments(self) -> tuple[list[Node], list[int]]:
        args, positions = [], []
        if self.at_op(")"):
            self.advance()
            return args, positions
        while True:
            positions.append(self.token.position)
            args.append(self.expression())
            if self.at_op(","):
                self.advance()
                continue
            self.expect(")")
            return args, positions


def _describe(token: Token) -> str:
    """A token as shown in error messages."""
    if token.kind == "end":
        return "end of expression"
    if token.kind == "ref":
        return f"${{{token.value}}}"
    return repr(token.value)


def _checked(node: Node, token: Token) -> Node:
    """Refuse trees deep enough to threaten the evaluator's recursion."""
    if _depth(node) > MAX_DEPTH:
        raise ExpressionError("expr.too_deep", f"nested more than {MAX_DEPTH} levels",
                              token.position)
    return node


def _check_call(call: Call, positions: list[int]):
    """Arity, and the arguments that must be written literally (regex, choice-name, repeats)."""
    fewest, most = FUNCTIONS[call.name]
    count = len(call.args)
    if count < fewest or (most is not None and count > most):
        expected = str(fewest) if fewest == most else (
            f"at least {fewest}" if most is None else f"{fewest} to {most}")
        raise ExpressionError("expr.bad_arity",
                              f"{call.name}() takes {expected} argument(s), got {count}", call.position)
    if call.name == "weighted-checklist" and count % 2:
        raise ExpressionError("expr.bad_arity",
                              "weighted-checklist() takes min, max and (value, weight) pairs",
                              call.position)
    if call.name == "regex":
        _check_regex(call.args[1], positions[1])
    elif call.name in _CHOICE_NAME:
        item = call.args[1]
        if not (isinstance(item, Literal) and isinstance(item.value, str)
                and _CHOICE_ITEM.fullmatch(item.value)):
            raise ExpressionError("expr.bad_argument",
                                  f"{call.name}() names its item as a quoted '${{item}}'", positions[1])
    elif call.name == "indexed-repeat":
        if count % 2 == 0:
            raise ExpressionError("expr.bad_arity", "indexed-repeat() takes ${item}, then pairs of ${repeat}, index",
                                  call.position)
        for index in (0, *range(1, count, 2)):  # the item and each repeat are written ${name}
            if not isinstance(call.args[index], Ref):
                raise ExpressionError("expr.bad_argument",
                                      "indexed-repeat() takes ${item}, ${repeat}, index", positions[index])
    elif call.name == "position" and count:
        raise ExpressionError("expr.bad_argument", "position() takes only '..'", positions[0])


def _check_regex(pattern: Node, position: int):
    """A regex pattern must be a literal that compiles."""
    # A literal pattern lets a bad regex fail when the checklist loads, never mid-audit.
    if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)):
        raise ExpressionError("expr.bad_argument", "regex() pattern must be a quoted string", position)
    try:
        _compile_regex(pattern.value)
    except re.error as error:
        raise ExpressionError("expr.bad_regex", f"invalid regex: {error}", position) from None


@functools.lru_cache(maxsize=256)
def _compile_regex(pattern: str) -> re.Pattern:
    """Compile a regex once per pattern."""
    return re.compile(pattern)


@functools.lru_cache(maxsize=2048)
def parse(text: str, *, choice_filter: bool = False) -> Expression:
    """Parse expression text; raises ExpressionError. Results are cached by text.

    choice_filter=True allows bare names, which are columns of the choice row being filtered.
    """
    if not isinstance(text, str):
        raise TypeError(f"expression text must be str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError("expr.too_long", f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return Expression(text, _Parser(text, choice_filter).parse())


# --- Values ----------------------------------------------------------------------------------


def is_empty(value: object) -> bool:
    """Whether an answer counts as unanswered: None, '', [] or {}."""
    return value is None or (isinstance(value, (str, list, tuple, dict)) and len(value) == 0)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _first(value: object) -> object:
    """A node-set's first node ('' when empty); any other value as it is."""
    if isinstance(value, Nodeset):
        return value[0] if value else ""
    return value


def _nodes(value: object) -> tuple:
    """A node-set's nodes, or a plain value as one node."""
    return tuple(value) if isinstance(value, Nodeset) else (value,)


def to_number(value: object) -> float:
    """XPath number(): numeric strings parse, ISO dates are days since 1970, anything else is NaN."""
    value = _first(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if _is_number(value):
        return _float(value)
    if isinstance(value, (str, list, tuple, datetime.date)):
        text = to_string(value)
        if _XPATH_NUMBER.fullmatch(text):
            return float(text)
        moment = _moment(text)
        return NAN if moment is None else _days(moment)
    return NAN


def _float(value: int | float | decimal.Decimal) -> float:
    """A Python number as a double; integers too large for one are ±Infinity, as in JSON parsers."""
    try:
        return float(value)
    except OverflowError:
        return INF if value > 0 else -INF


def _number_to_string(number: float) -> str:
    """XPath string() of a number: no exponent, integers without '.0'."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == int(number):
        return str(int(number))
    return format(decimal.Decimal(repr(number)), "f")


def to_string(value: object) -> str:
    """XPath string(): lists join with spaces as ODK stores select_multiple answers."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _number_to_string(_float(value))
    if isinstance(value, Nodeset):
        return to_string(_first(value))
    if isinstance(value, (list, tuple)):
        return " ".join(to_string(part) for part in value)
    if isinstance(value, dict):
        # ODK's geopoint text is "lat lon altitude accuracy"; we keep no altitude.
        return " ".join(to_string(value.get(key)) or "0"
                        for key in ("lat", "lon", "altitude", "accuracy"))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def truthy(value: object) -> bool:
    """XPath boolean(): non-zero numbers, non-empty strings, lists and node-sets are true."""
    if isinstance(value, bool):
        return value
    if _is_number(value):
        number = _float(value)
        return number != 0 and not math.isnan(number)
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return True


def _selection(value: object) -> list[str]:
    """The chosen values of a select_multiple answer, list or ODK space-separated string."""
    value = _first(value)
    if isinstance(value, (list, tuple)):
        return [to_string(part) for part in value]
    return to_string(value).split()


def _normalise(value: object) -> object:
    """An answer as the evaluator sees it: None is '', dates are ISO strings, node-sets stay."""
    if isinstance(value, Nodeset):
        return Nodeset(_normalise(node) for node in value)
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return _float(value)
    return value


# --- Dates and times -------------------------------------------------------------------------


def _moment(text: str) -> datetime.datetime | None:
    """An ISO date or date-time as an aware datetime (a date is UTC midnight), None otherwise."""
    match = _ISO_DATE.fullmatch(text)
    if match:
        parts, zone = match.groups() + (None,) * 4, None
    else:
        match = _ISO_DATE_TIME.fullmatch(text)
        if not match:
            return None
        parts, zone = match.groups()[:7], match.group(8)
    year, month, day, hour, minute, second, fraction = parts
    try:
        return datetime.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0").ljust(6, "0")[:6]), tzinfo=_zone(zone))
    except (ValueError, OverflowError):
        return None


def _zone(text: str | None) -> datetime.timezone:
    """A written UTC offset ('Z', '+07:00', '-0530'); none means UTC."""
    if not text or text == "Z":
        return datetime.timezone.utc
    digits = text[1:].replace(":", "")
    offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return datetime.timezone(-offset if text[0] == "-" else offset)


def _days(moment: datetime.datetime) -> float:
    """Days since 1970-01-01T00:00Z; a date's UTC midnight gives whole days."""
    return (moment - _EPOCH) / datetime.timedelta(days=1)


def _from_days(days: float) -> datetime.datetime | None:
    """The UTC moment a number of days after the epoch; None when not a representable date."""
    if not math.isfinite(days):
        return None
    try:
        return _EPOCH + datetime.timedelta(days=days)
    except (OverflowError, ValueError):
        return None


def _as_moment(value: object) -> datetime.datetime | None:
    """A date, date-time or number of days as a datetime (its own written wall clock)."""
    value = _first(value)
    if isinstance(value, str) and (moment := _moment(value)) is not None:
        return moment
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return _moment(value.isoformat())
    if isinstance(value, (str, list, tuple)) and to_string(value).strip() == "":
        return None
    return _from_days(to_number(value))


def _date_time_text(moment: datetime.datetime) -> str:
    """ODK's date-time text: 2026-12-06T10:00:00.000+07:00."""
    offset = moment.utcoffset() or datetime.timedelta(0)
    sign = "-" if offset < datetime.timedelta(0) else "+"
    minutes = abs(offset) // datetime.timedelta(minutes=1)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}"
            f"{sign}{minutes // 60:02d}:{minutes % 60:02d}")


def _date(value: object) -> str:
    """date(): a date, date-time or days since 1970 as 'YYYY-MM-DD'; '' when not a date."""
    value = _first(value)
    moment = _moment(value) if isinstance(value, str) else None
    if moment is None:
        days = to_number(value)
        moment = _from_days(math.floor(days)) if math.isfinite(days) else None
    return "" if moment is None else f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


def _date_time(value: object) -> str:
    """date-time(): a date-time text; numbers are days since 1970 in UTC; '' when not a date."""
    moment = _as_moment(value)
    return "" if moment is None else _date_time_text(moment)


def _decimal_date_time(value: object) -> float:
    """decimal-date-time(): fractional days since 1970-01-01T00:00Z; NaN when not a date."""
    moment = _as_moment(value)
    return NAN if moment is None else _days(moment)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FORMATS = {
    "Y": lambda m: f"{m.year:04d}", "y": lambda m: f"{m.year % 100:02d}",
    "m": lambda m: f"{m.month:02d}", "n": lambda m: str(m.month), "b": lambda m: _MONTHS[m.month - 1],
    "d": lambda m: f"{m.day:02d}", "e": lambda m: str(m.day), "a": lambda m: _WEEKDAYS[m.weekday()],
    "H": lambda m: f"{m.hour:02d}", "h": lambda m: str(m.hour), "M": lambda m: f"{m.minute:02d}",
    "S": lambda m: f"{m.second:02d}", "3": lambda m: f"{m.microsecond // 1000:03d}",
}


def _format_date(value: object, pattern: object) -> str:
    """format-date(): % codes replaced from the value's wall clock; '' when not a date."""
    moment = _as_moment(value)
    if moment is None:
        return ""
    return re.sub(r"%(.)", lambda code: _FORMATS.get(code.group(1), lambda _: code.group(0))(moment),
                  to_string(pattern), flags=re.DOTALL)


# --- Evaluator -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    scope: Scope
    current: object
    today: datetime.date | None
    now: datetime.datetime | None


def evaluate(expression: Expression | str, answers: Mapping[str, object] | Scope, current=None,
             today: datetime.date | None = None, *, now: datetime.datetime | None = None) -> object:
    """Value of an expression given answers (or a Scope), the current value, today and now."""
    scope = MappingScope(answers) if isinstance(answers, Mapping) else answers
    context = _Context(scope, _normalise(current), today, now)
    return _evaluate(_as_expression(expression).root, context)


def _as_expression(expression: Expression | str) -> Expression:
    return expression if isinstance(expression, Expression) else parse(expression)


def _evaluate(node: Node, context: _Context) -> object:
    match node:
        case Literal(value):
            return value
        case Ref(name, _, True):
            last_saved = getattr(context.scope, "last_saved", None)
            return _normalise(last_saved(name)) if last_saved else ""
        case Ref(name):
            return _normalise(context.scope.value(name))
        case Field(name):
            return _normalise(context.scope.choice_column(name))
        case Current():
            return context.current
        case Unary(operand):
            return -to_number(_evaluate(operand, context))
        case Binary("or", left, right):
            return truthy(_evaluate(left, context)) or truthy(_evaluate(right, context))
        case Binary("and", left, right):
            return truthy(_evaluate(left, context)) and truthy(_evaluate(right, context))
        case Binary(op, left, right):
            return _compare_or_compute(op, _evaluate(left, context), _evaluate(right, context))
        case Call():
            return _call(node, context)
    raise TypeError(f"not an expression node: {node!r}")


def _compare_or_compute(op: str, left: object, right: object) -> object:
    """A binary operator; comparisons with a node-set hold when they hold for any node."""
    if op in _COMPARISONS:
        # A node-set against a boolean compares the node-set's boolean() (XPath 3.4).
        if isinstance(left, bool) and isinstance(right, Nodeset):
            right = truthy(right)
        elif isinstance(right, bool) and isinstance(left, Nodeset):
            left = truthy(left)
        compare = _COMPARISONS[op]
        return any(compare(a, b) for a in _nodes(left) for b in _nodes(right))
    return _ARITHMETIC[op](left, right)


def _equals(left: object, right: object) -> bool:
    """XPath `=` for non-node-set values."""
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right)
    if _is_number(left) or _is_number(right):
        return to_number(left) == to_number(right)
    return to_string(left) == to_string(right)


def _relational(compare):
    """An ordering operator over numbers; dates are days since 1970, so they order by date."""

    def operator(left: object, right: object) -> bool:
        # Comparisons with NaN are false, which is XPath's rule too.
        return compare(to_number(left), to_number(right))

    return operator


def _divide(left: object, right: object) -> float:
    """XPath div: IEEE division, so x div 0 is ±Infinity or NaN rather than an error."""
    dividend, divisor = to_number(left), to_number(right)
    if divisor == 0:
        if dividend == 0 or math.isnan(dividend):
            return NAN
        return math.copysign(INF, dividend) * math.copysign(1.0, divisor)
    try:
        return dividend / divisor
    except OverflowError:
        return math.copysign(INF, dividend) * math.copysign(1.0, divisor)


def _modulo(left: object, right: object) -> float:
    """XPath mod truncates like C fmod: -5 mod 2 = -1."""
    try:
        return math.fmod(to_number(left), to_number(right))
    except ValueError:
        return NAN


def _multiply(left: object, right: object) -> float:
    return to_number(left) * to_number(right)


_COMPARISONS = {
    "=": _equals,
    "!=": lambda left, right: not _equals(left, right),
    "<": _relational(lambda a, b: a < b),
    "<=": _relational(lambda a, b: a <= b),
    ">": _relational(lambda a, b: a > b),
    ">=": _relational(lambda a, b: a >= b),
}
_ARITHMETIC = {
    "+": lambda left, right: to_number(left) + to_number(right),
    "-": lambda left, right: to_number(left) - to_number(right),
    "*": _multiply,
    "div": _divide,
    "mod": _modulo,
}


def _call(call: Call, context: _Context) -> object:
    """Evaluate a function call; some read the context or evaluate only what they return."""
    special = _SPECIAL.get(call.name)
    if special is not None:
        return special(call, context)
    values = [_evaluate(arg, context) for arg in call.args]
    return _FUNCTIONS[call.name](*values)


def _if(call: Call, context: _Context) -> object:
    """if(): only the chosen branch is evaluated."""
    condition, yes, no = call.args
    return _evaluate(yes if truthy(_evaluate(condition, context)) else no, context)


def _coalesce(call: Call, context: _Context) -> object:
    """coalesce(): the first non-empty argument, evaluating no further."""
    value: object = ""
    for arg in call.args:
        value = _evaluate(arg, context)
        if to_string(value) != "":
            return value
    return value


def _today(call: Call, context: _Context) -> str:
    """today() as an ISO date string from the context, never from the clock."""
    if context.today is None:
        raise ExpressionError("expr.no_today", "today() needs a date passed as today=",
                              call.position)
    today = context.today
    if isinstance(today, datetime.datetime):
        today = today.date()
    return today.isoformat()


def _now(call: Call, context: _Context) -> str:
    """now() as ODK's date-time text from the context, never from the clock."""
    now = context.now
    if not isinstance(now, datetime.datetime) or now.utcoffset() is None:
        raise ExpressionError("expr.no_now", "now() needs a timezone-aware datetime passed as now=",
                              call.position)
    return _date_time_text(now)


def _position(call: Call, context: _Context) -> float:
    """position(..): the repeat instance's 1-based index; 1 outside any repeat."""
    position = context.scope.position()
    return 1.0 if position is None else float(position)


def _indexed_repeat(call: Call, context: _Context) -> object:
    """indexed-repeat(${item}, ${repeat}, n): the item in the repeat's n-th instance. With more pairs
    (${outer}, i, ${inner}, j) the item in outer[i]/inner[j], which only a form's scope can resolve."""
    if len(call.args) > 3:
        steps = []
        for at in range(1, len(call.args), 2):
            number = to_number(_evaluate(call.args[at + 1], context))
            if not (math.isfinite(number) and number == int(number) and number >= 1):
                return ""
            steps.append((call.args[at].name, int(number)))
        at_instance = getattr(context.scope, "at", None)
        return _normalise(at_instance(call.args[0].name, tuple(steps))) if at_instance else ""
    index = to_number(_evaluate(call.args[2], context))
    values = context.scope.instances(call.args[0].name)
    if not (math.isfinite(index) and index == int(index) and 1 <= index <= len(values)):
        return ""
    return _normalise(values[int(index) - 1])


def _once(call: Call, context: _Context) -> object:
    """once(x): the current value when there is one, else x."""
    if not is_empty(context.current):
        return context.current
    return _evaluate(call.args[0], context)


def _choice_name(call: Call, context: _Context) -> str:
    """jr:choice-name(value, '${item}'): the label of that choice of the item, '' when unknown."""
    value = to_string(_evaluate(call.args[0], context))
    label = context.scope.choice_label(_choice_item(call), value)
    return "" if label is None else to_string(label)


def _pulldata(call: Call, context: _Context) -> str:
    """pulldata(table, column, key_column, key) through the scope's tables."""
    table, column, key_column, key = (to_string(_evaluate(arg, context)) for arg in call.args)
    return to_string(context.scope.lookup(table, column, key_column, key))


_SPECIAL = {
    "if": _if, "coalesce": _coalesce, "today": _today, "now": _now, "position": _position,
    "indexed-repeat": _indexed_repeat, "once": _once, "jr:choice-name": _choice_name,
    "choice-name": _choice_name, "pulldata": _pulldata,
}


# --- Numbers ---------------------------------------------------------------------------------


def _int(value: object) -> float:
    """ODK int(): truncate toward zero; NaN and infinities stay as they are."""
    number = to_number(value)
    return number if math.isnan(number) or math.isinf(number) else float(math.trunc(number))


def _round(value: object, digits: object = 0.0) -> float:
    """ODK round(): half away from zero, to a number of decimal places (negative: tens, ...)."""
    number, places = to_number(value), to_number(digits)
    if not math.isfinite(number) or math.isnan(places):
        return number if math.isfinite(places) or math.isnan(number) else NAN
    places = int(max(-400.0, min(400.0, places)))
    # repr() is the shortest text of the double, so round(1.005, 2) is 1.01 as people expect.
    with decimal.localcontext() as exact:
        exact.prec = 1000
        rounded = decimal.Decimal(repr(number)).quantize(decimal.Decimal(1).scaleb(-places),
                                                          rounding=decimal.ROUND_HALF_UP)
    return float(rounded)


def _floor(value: object) -> float:
    number = to_number(value)
    return float(math.floor(number)) if math.isfinite(number) else number


def _ceiling(value: object) -> float:
    number = to_number(value)
    return float(math.ceil(number)) if math.isfinite(number) else number


def _math(function, domain=lambda _: True):
    """A one-argument math function that gives NaN outside its domain and ±Infinity on overflow."""

    def apply(value: object) -> float:
        number = to_number(value)
        if math.isnan(number) or not domain(number):
            return NAN
        try:
            return float(function(number))
        except OverflowError:
            return INF
        except ValueError:
            return NAN

    return apply


def _log(function):
    """log() or log10(): -Infinity at 0 and NaN below, as in Java and JavaScript."""

    def apply(value: object) -> float:
        number = to_number(value)
        if number == 0:
            return -INF
        if math.isnan(number) or number < 0:
            return NAN
        return INF if math.isinf(number) else function(number)

    return apply


def _pow(base: object, exponent: object) -> float:
    """pow() with Java/JavaScript results where Python's math.pow raises or differs."""
    x, y = to_number(base), to_number(exponent)
    if math.isnan(y) or (math.isnan(x) and y != 0):
        return NAN  # pow(1, NaN) is NaN in Java and JavaScript, 1 in Python
    if abs(x) == 1 and math.isinf(y):
        return NAN
    odd = math.isfinite(y) and y == int(y) and int(y) % 2 == 1
    try:
        return math.pow(x, y)
    except OverflowError:
        return -INF if x < 0 and odd else INF
    except (ValueError, ZeroDivisionError):
        if x == 0:  # 0 to a negative power
            return math.copysign(INF, x) if odd else INF
        return NAN


def _atan2(y: object, x: object) -> float:
    return math.atan2(to_number(y), to_number(x))


def _exp10(value: object) -> float:
    return _pow(10.0, value)


def _numbers(values: tuple) -> list[float]:
    """number() of every node of every argument."""
    return [to_number(node) for value in values for node in _nodes(value)]


def _extreme(pick):
    """min() or max(): NaN when any value is NaN or there is none."""

    def apply(*values: object) -> float:
        numbers = _numbers(values)
        if not numbers or any(math.isnan(n) for n in numbers):
            return NAN
        return pick(numbers)

    return apply


def _sum(value: object) -> float:
    """sum(): number() of each node added; NaN when any is not a number."""
    # Plain left-to-right addition, as a JavaScript engine does it; math.fsum raises on overflow.
    return sum(_numbers((value,)), 0.0)


# --- Strings ---------------------------------------------------------------------------------


def _index(value: object) -> int:
    """A number used as a string index: NaN is 0, infinities are clamped."""
    number = to_number(value)
    if math.isnan(number):
        return 0
    return int(max(-1e9, min(1e9, number)))


def _substr(value: object, start: object, end: object = None) -> str:
    """ODK substr(): 0-based start, exclusive end, negative indices from the end."""
    text = to_string(value)
    return text[_index(start):] if end is None else text[_index(start):_index(end)]


def _substring(value: object, start: object, length: object = None) -> str:
    """XPath substring(): characters at 1-based positions p with round(start) <= p < round(start) + round(length)."""
    text = to_string(value)
    first = _xpath_round(to_number(start))
    last = INF if length is None else first + _xpath_round(to_number(length))
    return "".join(char for position, char in enumerate(text, 1) if first <= position < last)


def _xpath_round(number: float) -> float:
    """XPath round(): half toward +Infinity; NaN and infinities unchanged."""
    return number if not math.isfinite(number) else float(math.floor(number + 0.5))


def _translate(value: object, source: object, target: object) -> str:
    """XPath translate(): map characters of source to those of target, drop the extra ones."""
    source, target = to_string(source), to_string(target)
    table: dict[str, str] = {}
    for index, char in enumerate(source):
        table.setdefault(char, target[index] if index < len(target) else "")
    return "".join(table.get(char, char) for char in to_string(value))


def _substring_before(value: object, part: object) -> str:
    text, part = to_string(value), to_string(part)
    return text[:text.index(part)] if part in text else ""


def _substring_after(value: object, part: object) -> str:
    text, part = to_string(value), to_string(part)
    return text[text.index(part) + len(part):] if part in text else ""


def _flatten_strings(values: tuple) -> list[str]:
    """string() of every node of every argument (ODK flattens node-sets in concat and join)."""
    return [to_string(node) for value in values for node in _nodes(value)]


def _selected_at(value: object, index: object) -> str:
    """selected-at(): the 0-based n-th chosen value, '' when out of range."""
    chosen, number = _selection(value), to_number(index)
    if not math.isfinite(number) or not 0 <= int(number) < len(chosen):
        return ""
    return chosen[int(number)]


# --- Logic -----------------------------------------------------------------------------------


def _within(count: float, low: object, high: object) -> bool:
    """Whether count lies between low and high, where -1 means no limit (ODK's checklist)."""
    low_number, high_number = to_number(low), to_number(high)
    return ((low_number == -1 or count >= low_number)
            and (high_number == -1 or count <= high_number))


def _checklist(low: object, high: object, *values: object) -> bool:
    """checklist(): whether the number of true values is within [low, high]."""
    return _within(sum(truthy(node) for value in values for node in _nodes(value)), low, high)


def _weighted_checklist(low: object, high: object, *pairs: object) -> bool:
    """weighted-checklist(): whether the weights of true values add up to within [low, high]."""
    total = sum(to_number(weight) for value, weight in zip(pairs[::2], pairs[1::2]) if truthy(value))
    return _within(total, low, high)


def _count(value: object) -> float:
    """count(): instances of a node-set; any other value is one node."""
    return float(len(value)) if isinstance(value, Nodeset) else 1.0


def _count_non_empty(value: object) -> float:
    """count-non-empty(): nodes whose text is not empty."""
    return float(sum(to_string(node) != "" for node in _nodes(value)))


_FUNCTIONS = {
    "not": lambda value: not truthy(value),
    "true": lambda: True,
    "false": lambda: False,
    "boolean": truthy,
    "boolean-from-string": lambda value: to_string(value) in ("true", "1"),
    "checklist": _checklist,
    "weighted-checklist": _weighted_checklist,
    "count": _count,
    "count-non-empty": _count_non_empty,
    "sum": _sum,
    "min": _extreme(min),
    "max": _extreme(max),
    "number": to_number,
    "int": _int,
    "round": _round,
    "pow": _pow,
    "atan2": _atan2,
    "pi": lambda: math.pi,
    "random": random.random,
    "abs": lambda value: abs(to_number(value)),
    "floor": _floor,
    "ceiling": _ceiling,
    "sqrt": _math(math.sqrt, lambda n: n >= 0),
    "exp": _math(math.exp),
    "exp10": _exp10,
    "log": _log(math.log),
    "log10": _log(math.log10),
    "sin": _math(math.sin, math.isfinite),
    "cos": _math(math.cos, math.isfinite),
    "tan": _math(math.tan, math.isfinite),
    "asin": _math(math.asin, lambda n: -1 <= n <= 1),
    "acos": _math(math.acos, lambda n: -1 <= n <= 1),
    "atan": _math(math.atan),
    "string": to_string,
    "concat": lambda *values: "".join(_flatten_strings(values)),
    "join": lambda separator, *values: to_string(separator).join(_flatten_strings(values)),
    "string-length": lambda value: float(len(to_string(value))),
    "substr": _substr,
    "substring": _substring,
    "contains": lambda value, part: to_string(part) in to_string(value),
    "starts-with": lambda value, part: to_string(value).startswith(to_string(part)),
    "ends-with": lambda value, part: to_string(value).endswith(to_string(part)),
    "substring-before": _substring_before,
    "substring-after": _substring_after,
    "translate": _translate,
    "normalize-space": lambda value: " ".join(part for part in _XPATH_SPACE.split(to_string(value)) if part),
    "regex": lambda value, pattern: _compile_regex(pattern).fullmatch(to_string(value)) is not None,
    "uuid": lambda: str(uuid.uuid4()),
    "selected": lambda answer, choice: to_string(choice).strip() in _selection(answer),
    "selected-at": _selected_at,
    "count-selected": lambda answer: float(len(_selection(answer))),
    "date": _date,
    "date-time": _date_time,
    "decimal-date-time": _decimal_date_time,
    "format-date": _format_date,
    "format-date-time": _format_date,
}


# --- Conveniences for relevance and constraints ----------------------------------------------


def is_relevant(expression: Expression | str | None, answers: Mapping[str, object] | Scope,
                today: datetime.date | None = None, *, now: datetime.datetime | None = None) -> bool:
    """Whether an item with this relevance expression is shown; no expression means always."""
    if expression is None:
        return True
    return truthy(evaluate(expression, answers, today=today, now=now))


def satisfies(expression: Expression | str | None, value: object, answers: Mapping[str, object] | Scope,
              today: datetime.date | None = None, *, now: datetime.datetime | None = None) -> bool:
    """Whether a value meets a constraint; as in ODK, constraints skip unanswered items."""
    if expression is None or is_empty(value):
        return True
    return truthy(evaluate(expression, answers, current=value, today=today, now=now))
