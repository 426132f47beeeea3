"""A small, safe expression language for relevance and constraints (XLSForm's common subset).

Text is tokenized and parsed by hand into frozen dataclasses, then evaluated by walking the tree;
nothing is ever passed to eval(). Values follow XPath 1.0 as ODK uses it:

- an unanswered item is the empty string '';
- a select_multiple (or photo) answer is a list of strings; in a string context it joins with
  spaces, as ODK stores it;
- `=` / `!=`: if either side is a boolean both become booleans, else if either side is a number
  both become numbers (a non-numeric string is NaN, so `=` is false and `!=` true), else strings;
- `<` `<=` `>` `>=` compare numbers, except that two ISO dates ('YYYY-MM-DD' strings) compare as
  strings, which orders them by date; `today()` returns such a string;
- arithmetic converts to numbers: '' and other non-numeric strings give NaN.

Evaluation never raises for any answers, with one exception: `today()` without a `today` date in the
context, which is a caller's mistake (ExpressionError `expr.no_today`).
"""

from __future__ import annotations

import datetime
import decimal
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_LENGTH = 2000
MAX_DEPTH = 50

NAN = float("nan")
INF = float("inf")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_XPATH_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*")

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


# --- AST -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A string, number or boolean constant."""

    value: str | float | bool


@dataclass(frozen=True)
class Ref:
    """`${name}`: the answer of another item."""

    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Current:
    """`.`: the value of the item being constrained."""


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


Node = Literal | Ref | Current | Unary | Binary | Call


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source text, tree and what it depends on."""

    text: str
    root: Node
    references: frozenset[str] = field(init=False, compare=False)
    uses_current: bool = field(init=False, compare=False)
    uses_today: bool = field(init=False, compare=False)

    def __post_init__(self):
        nodes = list(_walk(self.root))
        references = frozenset(node.name for node in nodes if isinstance(node, Ref))
        object.__setattr__(self, "references", references)
        object.__setattr__(self, "uses_current", any(isinstance(n, Current) for n in nodes))
        object.__setattr__(self, "uses_today",
                           any(isinstance(n, Call) and n.name == "today" for n in nodes))

    def __str__(self) -> str:
        return self.text


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

    kind: str  # number, string, ref, dot, name, op, end
    value: str
    position: int


_TOKEN_PATTERNS = [
    ("space", re.compile(r"\s+")),
    ("number", re.compile(r"\d+(\.\d*)?|\.\d+")),
    ("ref", re.compile(r"\$\{([A-Za-z0-9_.\-]+)\}")),
    ("string", re.compile(r"'[^']*'|\"[^\"]*\"")),
    ("op", re.compile(r"!=|<=|>=|[=<>+\-*(),]")),
    ("dot", re.compile(r"\.")),
    # XPath names may contain '-' and '.', which is how count-selected and string-length are spelt.
    ("name", re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")),
]


def tokenize(text: str) -> list[Token]:
    """Split expression text into tokens, ending with an `end` token."""
    tokens, position = [], 0
    while position < len(text):
        kind, match = _match_token(text, position)
        if kind != "space":
            value = match.group(1) if kind == "ref" else match.group(0)
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

# name -> number of arguments
FUNCTIONS = {
    "not": 1,
    "selected": 2,
    "count-selected": 1,
    "string-length": 1,
    "number": 1,
    "int": 1,
    "if": 3,
    "coalesce": 2,
    "today": 0,
    "regex": 2,
    "true": 0,
    "false": 0,
}


class _Parser:
    """Recursive-descent parser over a token list."""

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def is_operator(self, token: Token, operators: tuple[str, ...]) -> bool:
        if token.kind == "op":
            return token.value in operators
        keyword = token.kind == "name" and token.value in _KEYWORD_OPERATORS
        return keyword and token.value in operators

    def expect(self, value: str) -> Token:
        if self.token.kind == "op" and self.token.value == value:
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
        if self.token.kind == "op" and self.token.value == "-":
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
        if token.kind == "dot":
            return Current()
        if token.kind == "op" and token.value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if token.kind == "name":
            return self.call(token)
        raise ExpressionError("expr.syntax", f"unexpected {_describe(token)}", token.position)

    def call(self, name: Token) -> Node:
        if not (self.token.kind == "op" and self.token.value == "("):
            raise ExpressionError(
                "expr.syntax", f"bare name {name.value!r}: write ${{{name.value}}} for an item",
                name.position)
        if name.value not in FUNCTIONS:
            raise ExpressionError("expr.unknown_function", f"unknown function {name.value}()",
                                  name.position, f"Fungsi tidak dikenal: {name.value}()")
        self.advance()
        args, positions = self.arguments()
        call = _checked(Call(name.value, tuple(args), name.position), name)
        _check_call(call, positions)
        return call

    def arguments(self) -> tuple[list[Node], list[int]]:
        args, positions = [], []
        if self.token.kind == "op" and self.token.value == ")":
            self.advance()
            return args, positions
        while True:
            positions.append(self.token.position)
            args.append(self.expression())
            if self.token.kind == "op" and self.token.value == ",":
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
    """Arity, and a regex pattern that must be a valid string literal."""
    expected = FUNCTIONS[call.name]
    if len(call.args) != expected:
        raise ExpressionError(
            "expr.bad_arity",
            f"{call.name}() takes {expected} argument(s), got {len(call.args)}", call.position)
    if call.name == "regex":
        pattern = call.args[1]
        # A literal pattern lets a bad regex fail when the checklist loads, never mid-audit.
        if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)):
            raise ExpressionError("expr.bad_argument", "regex() pattern must be a quoted string",
                                  positions[1])
        try:
            _compile_regex(pattern.value)
        except re.error as error:
            raise ExpressionError("expr.bad_regex", f"invalid regex: {error}",
                                  positions[1]) from None


@functools.lru_cache(maxsize=256)
def _compile_regex(pattern: str) -> re.Pattern:
    """Compile a regex once per pattern."""
    return re.compile(pattern)


@functools.lru_cache(maxsize=2048)
def parse(text: str) -> Expression:
    """Parse expression text; raises ExpressionError. Results are cached by text."""
    if not isinstance(text, str):
        raise TypeError(f"expression text must be str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError("expr.too_long", f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return Expression(text, _Parser(text).parse())


# --- Values ----------------------------------------------------------------------------------


def is_empty(value: object) -> bool:
    """Whether an answer counts as unanswered: None, '', [] or {}."""
    return value is None or (isinstance(value, (str, list, tuple, dict)) and len(value) == 0)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def to_number(value: object) -> float:
    """XPath number(): numeric strings parse, anything else non-numeric is NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if _is_number(value):
        return float(value)
    if isinstance(value, (str, list, tuple)):
        text = to_string(value)
        return float(text) if _XPATH_NUMBER.fullmatch(text) else NAN
    return NAN


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
        return _number_to_string(float(value))
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
    """XPath boolean(): non-zero numbers, non-empty strings and lists are true."""
    if isinstance(value, bool):
        return value
    if _is_number(value):
        number = float(value)
        return number != 0 and not math.isnan(number)
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return True


def _selection(value: object) -> list[str]:
    """The chosen values of a select_multiple answer, list or ODK space-separated string."""
    if isinstance(value, (list, tuple)):
        return [to_string(part) for part in value]
    return to_string(value).split()


def _normalise(value: object) -> object:
    """An answer as the evaluator sees it: None is '', dates are ISO strings."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


# --- Evaluator -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    answers: Mapping[str, object]
    current: object
    today: datetime.date | None


def evaluate(expression: Expression | str, answers: Mapping[str, object], current=None,
             today: datetime.date | None = None) -> object:
    """Value of an expression given item answers, the current item's value and today's date."""
    context = _Context(answers, _normalise(current), today)
    return _evaluate(_as_expression(expression).root, context)


def _as_expression(expression: Expression | str) -> Expression:
    return expression if isinstance(expression, Expression) else parse(expression)


def _evaluate(node: Node, context: _Context) -> object:
    match node:
        case Literal(value):
            return value
        case Ref(name):
            return _normalise(context.answers.get(name))
        case Current():
            return context.current
        case Unary(operand):
            return -to_number(_evaluate(operand, context))
        case Binary("or", left, right):
            return truthy(_evaluate(left, context)) or truthy(_evaluate(right, context))
        case Binary("and", left, right):
            return truthy(_evaluate(left, context)) and truthy(_evaluate(right, context))
        case Binary(op, left, right):
            return _BINARY[op](_evaluate(left, context), _evaluate(right, context))
        case Call():
            return _call(node, context)
    raise TypeError(f"not an expression node: {node!r}")


def _equals(left: object, right: object) -> bool:
    """XPath `=` for non-node-set values."""
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right)
    if _is_number(left) or _is_number(right):
        return to_number(left) == to_number(right)
    return to_string(left) == to_string(right)


def _relational(compare):
    """An ordering operator: numbers, except that two ISO dates compare as text."""

    def operator(left: object, right: object) -> bool:
        if (isinstance(left, str) and isinstance(right, str)
                and _ISO_DATE.fullmatch(left) and _ISO_DATE.fullmatch(right)):
            return compare(left, right)
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


_BINARY = {
    "=": _equals,
    "!=": lambda left, right: not _equals(left, right),
    "<": _relational(lambda a, b: a < b),
    "<=": _relational(lambda a, b: a <= b),
    ">": _relational(lambda a, b: a > b),
    ">=": _relational(lambda a, b: a >= b),
    "+": lambda left, right: to_number(left) + to_number(right),
    "-": lambda left, right: to_number(left) - to_number(right),
    "*": lambda left, right: to_number(left) * to_number(right),
    "div": _divide,
    "mod": _modulo,
}


def _call(call: Call, context: _Context) -> object:
    """Evaluate a function call; `if` and `coalesce` evaluate only what they return."""
    args = call.args
    if call.name == "if":
        chosen = args[1] if truthy(_evaluate(args[0], context)) else args[2]
        return _evaluate(chosen, context)
    if call.name == "coalesce":
        first = _evaluate(args[0], context)
        return first if to_string(first) != "" else _evaluate(args[1], context)
    if call.name == "today":
        return _today(call, context)
    values = [_evaluate(arg, context) for arg in args]
    return _FUNCTIONS[call.name](*values)


def _today(call: Call, context: _Context) -> str:
    """today() as an ISO date string from the context, never from the clock."""
    if context.today is None:
        raise ExpressionError("expr.no_today", "today() needs a date passed as today=",
                              call.position)
    today = context.today
    if isinstance(today, datetime.datetime):
        today = today.date()
    return today.isoformat()


def _int(value: object) -> float:
    """ODK int(): truncate toward zero; NaN and infinities stay as they are."""
    number = to_number(value)
    return number if math.isnan(number) or math.isinf(number) else float(math.trunc(number))


_FUNCTIONS = {
    "not": lambda value: not truthy(value),
    "selected": lambda answer, choice: to_string(choice).strip() in _selection(answer),
    "count-selected": lambda answer: float(len(_selection(answer))),
    "string-length": lambda value: float(len(to_string(value))),
    "number": to_number,
    "int": _int,
    "regex": lambda value, pattern: _compile_regex(pattern).fullmatch(to_string(value)) is not None,
    "true": lambda: True,
    "false": lambda: False,
}


# --- Conveniences for relevance and constraints ----------------------------------------------


def is_relevant(expression: Expression | str | None, answers: Mapping[str, object],
                today: datetime.date | None = None) -> bool:
    """Whether an item with this relevance expression is shown; no expression means always."""
    if expression is None:
        return True
    return truthy(evaluate(expression, answers, today=today))


def satisfies(expression: Expression | str | None, value: object, answers: Mapping[str, object],
              today: datetime.date | None = None) -> bool:
    """Whether a value meets a constraint; as in ODK, constraints skip unanswered items."""
    if expression is None or is_empty(value):
        return True
    return truthy(evaluate(expression, answers, current=value, today=today))
