"""The expression language: tokens, parse trees, parse errors and XPath/ODK value semantics."""

import datetime
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Binary,
    Call,
    Current,
    FUNCTIONS,
    Expression,
    ExpressionError,
    Field,
    Literal,
    MappingScope,
    Nodeset,
    Parent,
    Ref,
    Scope,
    Unary,
    evaluate,
    is_empty,
    is_relevant,
    parse,
    satisfies,
    to_number,
    to_string,
    tokenize,
    truthy,
)

TODAY = datetime.date(2025, 7, 15)
NOW = datetime.datetime(2025, 7, 15, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
NAN = object()  # expected value meaning "NaN"


def case(*values, id):
    return pytest.param(*values, id=id)


# --- Tokenizer -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    case("${a} = 'ya'", [("ref", "a", 0), ("op", "=", 5), ("string", "ya", 7)], id="ref-eq-string"),
    case('"dua kata"', [("string", "dua kata", 0)], id="double-quoted"),
    case(". >= 0.5", [("dot", ".", 0), ("op", ">=", 2), ("number", "0.5", 5)],
         id="current-decimal"),
    case(".5", [("number", ".5", 0)], id="leading-dot-number"),
    case("count-selected(${m})",
         [("name", "count-selected", 0), ("op", "(", 14), ("ref", "m", 15), ("op", ")", 19)],
         id="hyphenated-function"),
    case("1 div 2 mod 3", [("number", "1", 0), ("name", "div", 2), ("number", "2", 6),
                           ("name", "mod", 8), ("number", "3", 12)], id="keyword-operators"),
    case("  ${x_1.b-c}!=3", [("ref", "x_1.b-c", 2), ("op", "!=", 12), ("number", "3", 14)],
         id="ref-name-chars"),
    case("'it''s'", [("string", "it", 0), ("string", "s", 4)], id="no-escapes-as-in-xpath"),
    case("jr:choice-name(", [("name", "jr:choice-name", 0), ("op", "(", 14)], id="prefixed-name"),
    case("position(..)", [("name", "position", 0), ("op", "(", 8), ("parent", "..", 9), ("op", ")", 11)],
         id="parent"),
])
def test_tokenize(text, expected):
    tokens = tokenize(text)
    assert [(t.kind, t.value, t.position) for t in tokens[:-1]] == expected
    assert tokens[-1].kind == "end" and tokens[-1].position == len(text)


# --- Parser ----------------------------------------------------------------------------------

one, two, three = Literal(1.0), Literal(2.0), Literal(3.0)


@pytest.mark.parametrize("text, tree", [
    case("1 + 2 * 3", Binary("+", one, Binary("*", two, three)), id="mul-over-add"),
    case("(1 + 2) * 3", Binary("*", Binary("+", one, two), three), id="parentheses"),
    case("1 - 2 - 3", Binary("-", Binary("-", one, two), three), id="left-associative"),
    case("1 + 2 mod 3", Binary("+", one, Binary("mod", two, three)), id="mod-over-add"),
    case("1 div 2 * 3", Binary("*", Binary("div", one, two), three), id="div-mul-same-level"),
    case("-1 * 2", Binary("*", Unary(one), two), id="unary-binds-tightest"),
    case("- -1", Unary(Unary(one)), id="double-negation"),
    case("1 < 2 = true()", Binary("=", Binary("<", one, two), Call("true", ())),
         id="relational-over-equality"),
    case("1 = 2 and 3", Binary("and", Binary("=", one, two), three), id="equality-over-and"),
    case("1 or 2 and 3", Binary("or", one, Binary("and", two, three)), id="and-over-or"),
    case("1 + 2 > 3", Binary(">", Binary("+", one, two), three), id="additive-over-relational"),
    case("${a} != 'x'", Binary("!=", Ref("a"), Literal("x")), id="ref-and-string"),
    case(". <= 500", Binary("<=", Current(), Literal(500.0)), id="current"),
    case("selected(${m}, 'a')", Call("selected", (Ref("m"), Literal("a"))), id="call"),
    case("if(${a}, 1, 2)", Call("if", (Ref("a"), one, two)), id="if-three-args"),
    case("position(..)", Call("position", (Parent(),)), id="position-of-parent"),
    case("concat('a', 1, ${b})", Call("concat", (Literal("a"), one, Ref("b"))), id="variadic"),
])
def test_parse_tree(text, tree):
    assert parse(text).root == tree


@pytest.mark.parametrize("text, tree", [
    case("kab = ${prov}", Binary("=", Field("kab"), Ref("prov")), id="field-and-ref"),
    case("selected(${m}, name)", Call("selected", (Ref("m"), Field("name"))), id="field-argument"),
    case("x:y != ''", Binary("!=", Field("x:y"), Literal("")), id="prefixed-field"),
])
def test_parse_choice_filter_tree(text, tree):
    assert parse(text, choice_filter=True).root == tree


@pytest.mark.parametrize("text, code, position", [
    case("", "expr.syntax", 0, id="empty"),
    case("   ", "expr.syntax", 0, id="blank"),
    case("1 +", "expr.syntax", 3, id="missing-operand"),
    case("(1 + 2", "expr.syntax", 6, id="unclosed-paren"),
    case("1 + 2)", "expr.syntax", 5, id="stray-paren"),
    case("1 2", "expr.syntax", 2, id="two-operands"),
    case("'abc", "expr.syntax", 0, id="unterminated-string"),
    case("${a} = 'x", "expr.syntax", 7, id="unterminated-string-later"),
    case("${} = 1", "expr.syntax", 0, id="empty-reference"),
    case("${a b} = 1", "expr.syntax", 0, id="space-in-reference"),
    case("1 # 2", "expr.syntax", 2, id="bad-character"),
    case("1 ! 2", "expr.syntax", 2, id="bang-alone"),
    case("jumlah > 3", "expr.syntax", 0, id="bare-name"),
    case("/data/a = 1", "expr.syntax", 0, id="xpath-path"),
    case("1 and", "expr.syntax", 5, id="and-without-right"),
    case("not(1,)", "expr.syntax", 6, id="trailing-comma"),
    case("foo(1)", "expr.unknown_function", 0, id="unknown-function"),
    case("1 + foo('a')", "expr.unknown_function", 4, id="unknown-function-position"),
    case("not()", "expr.bad_arity", 0, id="not-no-args"),
    case("selected(${m})", "expr.bad_arity", 0, id="selected-one-arg"),
    case("if(1, 2)", "expr.bad_arity", 0, id="if-two-args"),
    case("today(1)", "expr.bad_arity", 0, id="today-with-arg"),
    case("1 + x:y(1)", "expr.unknown_function", 4, id="unknown-prefixed-function"),
    case("concat()", "expr.bad_arity", 0, id="concat-no-args"),
    case("coalesce(1)", "expr.bad_arity", 0, id="coalesce-one-arg"),
    case("round()", "expr.bad_arity", 0, id="round-no-args"),
    case("round(1, 2, 3)", "expr.bad_arity", 0, id="round-three-args"),
    case("substr('a')", "expr.bad_arity", 0, id="substr-one-arg"),
    case("substr('a', 1, 2, 3)", "expr.bad_arity", 0, id="substr-four-args"),
    case("substring('a', 1, 2, 3)", "expr.bad_arity", 0, id="substring-four-args"),
    case("join(',')", "expr.bad_arity", 0, id="join-separator-only"),
    case("min()", "expr.bad_arity", 0, id="min-no-args"),
    case("max()", "expr.bad_arity", 0, id="max-no-args"),
    case("count(1, 2)", "expr.bad_arity", 0, id="count-two-args"),
    case("sum()", "expr.bad_arity", 0, id="sum-no-args"),
    case("pow(2)", "expr.bad_arity", 0, id="pow-one-arg"),
    case("atan2(1)", "expr.bad_arity", 0, id="atan2-one-arg"),
    case("pi(1)", "expr.bad_arity", 0, id="pi-with-arg"),
    case("random(1)", "expr.bad_arity", 0, id="random-with-arg"),
    case("uuid(8)", "expr.bad_arity", 0, id="uuid-with-length"),
    case("now(1)", "expr.bad_arity", 0, id="now-with-arg"),
    case("sqrt()", "expr.bad_arity", 0, id="sqrt-no-args"),
    case("translate('a', 'b')", "expr.bad_arity", 0, id="translate-two-args"),
    case("format-date('2025-01-01')", "expr.bad_arity", 0, id="format-date-one-arg"),
    case("selected-at('a b')", "expr.bad_arity", 0, id="selected-at-one-arg"),
    case("checklist(1)", "expr.bad_arity", 0, id="checklist-one-arg"),
    case("weighted-checklist(1, 2, 'a')", "expr.bad_arity", 0, id="weighted-checklist-odd"),
    case("pulldata('t', 'c', 'k')", "expr.bad_arity", 0, id="pulldata-three-args"),
    case("indexed-repeat(${a}, ${r})", "expr.bad_arity", 0, id="indexed-repeat-two-args"),
    case("indexed-repeat(${a}, ${r}, 1, ${s})", "expr.bad_arity", 0, id="indexed-repeat-unpaired"),
    case("indexed-repeat(${a}, ${r}, 1, ${s}, 2, ${t}, 3, ${u}, 4)", "expr.bad_arity", 0, id="indexed-repeat-too-deep"),
    case("jr:choice-name(.)", "expr.bad_arity", 0, id="choice-name-one-arg"),
    case("once()", "expr.bad_arity", 0, id="once-no-args"),
    case("position(1, 2)", "expr.bad_arity", 0, id="position-two-args"),
    case("position(.)", "expr.bad_argument", 9, id="position-of-current"),
    case("jr:choice-name(., 'q')", "expr.bad_argument", 18, id="choice-name-without-ref"),
    case("jr:choice-name(., ${q})", "expr.bad_argument", 18, id="choice-name-ref-not-quoted"),
    case("choice-name(., concat('${q}'))", "expr.bad_argument", 15, id="choice-name-computed"),
    case("indexed-repeat('a', ${r}, 1)", "expr.bad_argument", 15, id="indexed-repeat-item-literal"),
    case("indexed-repeat(${a}, 1, 1)", "expr.bad_argument", 21, id="indexed-repeat-repeat-literal"),
    case(".. = 1", "expr.syntax", 0, id="parent-alone"),
    case("position(.. + 1)", "expr.syntax", 9, id="parent-in-arithmetic"),
    case("regex(., ${p})", "expr.bad_argument", 9, id="regex-pattern-not-literal"),
    case("regex(., 5)", "expr.bad_argument", 9, id="regex-pattern-number"),
    case("regex(., '[a-')", "expr.bad_regex", 9, id="regex-does-not-compile"),
    case("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), "expr.too_deep", MAX_DEPTH,
         id="deep-parentheses"),
    case("-" * (MAX_DEPTH + 5) + "1", "expr.too_deep", MAX_DEPTH, id="deep-unary"),
    case("not(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), "expr.too_deep", None,
         id="deep-calls"),
    case("1" + " + 1" * (MAX_DEPTH + 1), "expr.too_deep", None, id="long-chain"),
    case("1" * (MAX_LENGTH + 1), "expr.too_long", MAX_LENGTH, id="too-long"),
])
def test_parse_errors(text, code, position):
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    assert raised.value.code == code
    if position is not None:
        assert raised.value.position == position
    assert raised.value.message and raised.value.message_id


def test_error_has_indonesian_message_and_readable_str():
    with pytest.raises(ExpressionError) as raised:
        parse("1 +")
    assert raised.value.message_id == "Penulisan ekspresi tidak valid (posisi 3)"
    assert str(raised.value) == "expr.syntax at 3: unexpected end of expression"


def test_nesting_at_the_limit_parses():
    text = "(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1)
    assert evaluate(parse(text), {}) == 1


@pytest.mark.parametrize("text, references, uses_current, uses_today", [
    case("1", frozenset(), False, False, id="none"),
    case("${a} = 'ya' and ${b} > ${a}", {"a", "b"}, False, False, id="two-refs"),
    case(". <= ${max} and . >= 0", {"max"}, True, False, id="current"),
    case("${tanggal} <= today()", {"tanggal"}, False, True, id="today"),
])
def test_expression_dependencies(text, references, uses_current, uses_today):
    expression = parse(text)
    assert expression.references == references
    assert expression.uses_current is uses_current
    assert expression.uses_today is uses_today


@pytest.mark.parametrize("text, references, fields, uses_current, uses_now", [
    case("jr:choice-name(${a}, '${q}') != ''", {"a", "q"}, set(), False, False, id="choice-name-item"),
    case("indexed-repeat(${n}, ${r}, 2) = ''", {"n", "r"}, set(), False, False, id="indexed-repeat"),
    case("once(now())", set(), set(), True, True, id="once-reads-current"),
    case("kab = ${prov} and name != ''", {"prov"}, {"kab", "name"}, False, False, id="choice-filter"),
])
def test_expression_fields_and_clock(text, references, fields, uses_current, uses_now):
    expression = parse(text, choice_filter=True)
    assert (expression.references, expression.fields) == (references, fields)
    assert (expression.uses_current, expression.uses_now) == (uses_current, uses_now)
    assert expression.uses_today is False


def test_every_function_has_an_implementation():
    from survey import expressions
    implemented = set(expressions._FUNCTIONS) | set(expressions._SPECIAL)
    assert set(FUNCTIONS) == implemented


def test_parse_is_cached_and_expressions_compare_by_text_and_tree():
    assert parse("${a} = 1") is parse("${a} = 1")
    assert Expression("x", Literal(1.0)) == Expression("x", Literal(1.0))
    assert parse("1+2") != parse("1 + 2")  # same tree, different text: dumps must keep the text


def test_parse_rejects_non_text():
    with pytest.raises(TypeError):
        parse(5)


# --- Evaluation ------------------------------------------------------------------------------

ANSWERS = {
    "ya": "ya",
    "n": 5,
    "d": 2.5,
    "s5": "5",
    "kata": "abc",
    "multi": ["beton", "kayu"],
    "kosong": "",
    "none": None,
    "tgl": "2025-01-31",
    "gps": {"lat": -6.12, "lon": 106.15, "accuracy": 4.0},
}


@pytest.mark.parametrize("text, expected", [
    # empty and unanswered
    case("${tidak_ada} = ''", True, id="unanswered-is-empty-string"),
    case("${none} = ''", True, id="none-is-empty-string"),
    case("${kosong} = 0", False, id="empty-vs-number-is-nan"),
    case("${kosong} != 0", True, id="empty-ne-number"),
    case("${kosong} + 1", NAN, id="arithmetic-on-empty"),
    case("${kosong} < 1", False, id="empty-less-than"),
    case("${kosong} >= 1", False, id="empty-greater-equal"),
    # numbers and strings
    case("${n} = 5", True, id="int-answer-eq-number"),
    case("${n} = '5'", True, id="number-eq-numeric-string"),
    case("${n} = '05'", True, id="typed-number-compares-numerically"),
    case("${s5} = 5", True, id="numeric-string-eq-number"),
    case("${s5} = '05'", False, id="two-strings-compare-as-strings"),
    case("${kata} = 5", False, id="non-numeric-string-eq-number"),
    case("${kata} != 5", True, id="non-numeric-string-ne-number"),
    case("${ya} = 'ya'", True, id="string-eq"),
    case("${ya} != 'tidak'", True, id="string-ne"),
    case("'10' < '9'", False, id="relational-converts-strings-to-numbers"),
    case("${d} > 2", True, id="decimal-answer"),
    case("' 7 ' = 7", True, id="number-conversion-trims"),
    case("'1e3' = 1000", False, id="no-exponent-in-xpath-numbers"),
    # booleans
    case("${ya} = true()", True, id="non-empty-string-eq-true"),
    case("${kosong} = false()", True, id="empty-string-eq-false"),
    case("0 = false()", True, id="zero-eq-false"),
    case("true() + 1", 2, id="true-is-one-in-arithmetic"),
    case("true() > false()", True, id="booleans-ordered-as-numbers"),
    # lists
    case("selected(${multi}, 'kayu')", True, id="selected-in-list"),
    case("selected(${multi}, 'besi')", False, id="selected-not-in-list"),
    case("selected(${kosong}, 'kayu')", False, id="selected-on-empty"),
    case("selected('beton kayu', 'kayu')", True, id="selected-on-odk-string"),
    case("selected(${multi}, ' kayu ')", True, id="selected-trims-value"),
    case("count-selected(${multi})", 2, id="count-selected"),
    case("count-selected(${tidak_ada})", 0, id="count-selected-unanswered"),
    case("${multi} = 'beton kayu'", True, id="list-joins-with-spaces"),
    case("string-length(${multi})", 10, id="list-string-length"),
    # not(), and/or
    case("not(${ya} = 'ya')", False, id="not"),
    case("not(${kosong})", True, id="not-empty"),
    case("not(0)", True, id="not-zero"),
    case("not(0 div 0)", True, id="not-nan"),
    case("${ya} = 'ya' and ${n} > 3", True, id="and"),
    case("${ya} = 'tidak' or ${n} > 3", True, id="or"),
    case("1 or 0 and 0", True, id="and-binds-tighter-than-or"),
    # arithmetic and precedence
    case("1 + 2 * 3", 7, id="precedence"),
    case("(1 + 2) * 3", 9, id="parentheses"),
    case("10 - 4 - 3", 3, id="left-associative"),
    case("7 div 2", 3.5, id="div"),
    case("7 mod 3", 1, id="mod"),
    case("-7 mod 3", -1, id="mod-truncates-like-fmod"),
    case("7 mod -3", 1, id="mod-sign-of-dividend"),
    case("1 div 0", math.inf, id="div-by-zero"),
    case("-1 div 0", -math.inf, id="negative-div-by-zero"),
    case("0 div 0", NAN, id="zero-div-zero"),
    case("5 mod 0", NAN, id="mod-by-zero"),
    case("- - 3", 3, id="double-negation"),
    case("-${n}", -5, id="negate-ref"),
    case("${n} * ${d}", 12.5, id="int-times-decimal"),
    case("'abc' * 2", NAN, id="arithmetic-on-text"),
    case("1 + 2 = 3", True, id="arithmetic-before-comparison"),
    case("1 < 2 = 1", True, id="relational-before-equality"),
    # functions
    case("string-length('abc')", 3, id="string-length"),
    case("string-length(${n})", 1, id="string-length-of-number"),
    case("number('12.5')", 12.5, id="number"),
    case("number('x')", NAN, id="number-of-text"),
    case("int(3.9)", 3, id="int-truncates"),
    case("int(-3.9)", -3, id="int-truncates-toward-zero"),
    case("int('x')", NAN, id="int-of-text"),
    case("if(${ya} = 'ya', 'a', 'b')", "a", id="if-true"),
    case("if(${kosong}, 'a', 'b')", "b", id="if-false"),
    case("coalesce(${kosong}, 'cadangan')", "cadangan", id="coalesce-empty"),
    case("coalesce(${kata}, 'cadangan')", "abc", id="coalesce-value"),
    case("coalesce(${tidak_ada}, ${n})", 5, id="coalesce-unanswered"),
    case("regex(${kata}, '[a-c]+')", True, id="regex-matches"),
    case("regex(${kata}, 'b')", False, id="regex-is-full-match"),
    case("regex(${n}, '[0-9]')", True, id="regex-on-number"),
    case("true()", True, id="true"),
    case("false()", False, id="false"),
    # dates and other types
    case("${tgl} < '2025-02-01'", True, id="iso-dates-compare-as-text"),
    case("${tgl} > '2025-01-31'", False, id="iso-dates-equal"),
    case("${tgl} = '2025-01-31'", True, id="iso-date-equality"),
    case("${gps} != ''", True, id="gps-is-answered"),
    case("string-length(${gps}) > 0", True, id="gps-as-string"),
])
def test_evaluate(text, expected):
    value = evaluate(parse(text), ANSWERS)
    if expected is NAN:
        assert isinstance(value, float) and math.isnan(value)
    else:
        assert value == expected
        assert type(value) is type(expected) or isinstance(expected, (int, float))


@pytest.mark.parametrize("text, today, expected", [
    case("today()", TODAY, "2025-07-15", id="today-iso"),
    case("${tgl} <= today()", TODAY, True, id="date-not-in-future"),
    case("'2025-07-16' <= today()", TODAY, False, id="date-in-future"),
    case("today() = '2025-07-15'", datetime.datetime(2025, 7, 15, 23, 59), True,
         id="datetime-today"),
])
def test_today_comes_from_context(text, today, expected):
    assert evaluate(text, ANSWERS, today=today) == expected


def test_now_comes_from_context_in_odk_text():
    assert evaluate("now()", {}, now=NOW) == "2025-07-15T09:30:00.000+07:00"
    assert is_relevant("date(now()) = today()", {}, today=TODAY, now=NOW)


@pytest.mark.parametrize("now", [None, datetime.datetime(2025, 7, 15, 9, 30)], ids=["missing", "naive"])
def test_now_without_an_aware_datetime_is_a_loud_error(now):
    with pytest.raises(ExpressionError) as raised:
        evaluate("'x' != now()", {}, now=now)
    assert (raised.value.code, raised.value.position) == ("expr.no_now", 7)
    assert raised.value.message_id == "Waktu sekarang tidak tersedia (posisi 7)"


def test_today_without_date_is_a_loud_error():
    with pytest.raises(ExpressionError) as raised:
        evaluate("1 = 1 and today() != ''", {})
    assert (raised.value.code, raised.value.position) == ("expr.no_today", 10)


@pytest.mark.parametrize("value, expected", [
    case(True, True, id="true"),
    case(False, False, id="false"),
    case(0, False, id="zero"),
    case(0.0, False, id="zero-float"),
    case(float("nan"), False, id="nan"),
    case(-1, True, id="negative"),
    case("", False, id="empty-string"),
    case("0", True, id="string-zero-is-non-empty"),
    case("false", True, id="string-false-is-non-empty"),
    case([], False, id="empty-list"),
    case(["a"], True, id="list"),
    case(None, False, id="none"),
])
def test_truthy(value, expected):
    assert truthy(value) is expected


@pytest.mark.parametrize("value, expected", [
    case(5.0, "5", id="integral-float"),
    case(0.1, "0.1", id="decimal"),
    case(1e-7, "0.0000001", id="no-exponent"),
    case(float("nan"), "NaN", id="nan"),
    case(float("-inf"), "-Infinity", id="negative-infinity"),
    case(True, "true", id="boolean"),
    case(["a", "b"], "a b", id="list"),
    case(datetime.date(2025, 1, 2), "2025-01-02", id="date"),
])
def test_to_string(value, expected):
    assert to_string(value) == expected


@pytest.mark.parametrize("value, expected", [
    case("12", 12.0, id="integer-text"),
    case("-.5", -0.5, id="leading-dot"),
    case("+1", NAN, id="no-plus-sign-in-xpath"),
    case("1,5", NAN, id="no-decimal-comma"),
    case("", NAN, id="empty"),
    case(False, 0.0, id="false"),
])
def test_to_number(value, expected):
    number = to_number(value)
    assert math.isnan(number) if expected is NAN else number == expected


@pytest.mark.parametrize("value, expected", [
    case(None, True, id="none"),
    case("", True, id="empty-string"),
    case([], True, id="empty-list"),
    case({}, True, id="empty-dict"),
    case(0, False, id="zero-is-an-answer"),
    case("tidak", False, id="text"),
    case(["a"], False, id="list"),
])
def test_is_empty(value, expected):
    assert is_empty(value) is expected


# --- Scopes and node-sets -------------------------------------------------------------------


class RepeatScope:
    """A Scope that is no Mapping, as the form evaluator's will be: one repeat instance of three."""

    def value(self, name):
        return {"umur": "7", "kelas": Nodeset(["1", "2", None])}.get(name, "")

    def instances(self, name):
        return Nodeset(["5", "7", "9"]) if name == "umur" else Nodeset()

    def position(self):
        return 2

    def choice_label(self, item, value):
        return {"b": "Baik"}.get(value) if item == "kondisi" else None

    def lookup(self, table, column, key_column, key):
        return "Serang" if (table, column, key_column, key) == ("kota", "nama", "id", "36") else ""

    def choice_column(self, name):
        return "x" if name == "kolom" else ""


@pytest.mark.parametrize("text, expected", [
    case("${umur} + position(..)", 9, id="value-and-position"),
    case("indexed-repeat(${umur}, ${anak}, position(..) + 1)", "9", id="next-instance"),
    case("count(${kelas})", 3, id="node-set-count"),
    case("count-non-empty(${kelas})", 2, id="none-is-empty"),
    case("${kelas} = ''", True, id="none-node-is-empty-string"),
    case("jr:choice-name('b', '${kondisi}')", "Baik", id="choice-label"),
    case("pulldata('kota', 'nama', 'id', 36)", "Serang", id="lookup"),
])
def test_evaluate_with_a_scope(text, expected):
    assert isinstance(RepeatScope(), Scope)
    assert evaluate(text, RepeatScope()) == expected


def test_choice_filter_reads_the_choice_row_through_the_scope():
    assert evaluate(parse("kolom = 'x' and lain = ''", choice_filter=True), RepeatScope()) is True


def test_mapping_scope():
    scope = MappingScope({"a": "1", "n": Nodeset(["x", "y"]), "kosong": None}, position=4,
                         choices={"q": {"a": "Apel"}}, tables={"t": [{"k": "1", "v": "satu"}]},
                         choice={"c": "z"})
    assert (scope.value("a"), scope.value("kosong"), scope.value("tidak_ada")) == ("1", "", "")
    assert scope.instances("a") == Nodeset(["1"]) and scope.instances("n") == ("x", "y")
    assert scope.position() == 4 and MappingScope({}).position() is None
    assert (scope.choice_label("q", "a"), scope.choice_label("q", "b")) == ("Apel", None)
    assert (scope.lookup("t", "v", "k", "1"), scope.lookup("t", "v", "k", "2")) == ("satu", "")
    assert (scope.choice_column("c"), scope.choice_column("d")) == ("z", "")


def test_node_set_answers_are_normalised_node_by_node():
    answers = {"tgl": Nodeset([datetime.date(2025, 1, 2), None])}
    assert evaluate("${tgl} = '2025-01-02' and count-non-empty(${tgl}) = 1", answers) is True
    assert repr(Nodeset(["a"])) == "Nodeset(('a',))"


# --- Relevance and constraints ---------------------------------------------------------------


@pytest.mark.parametrize("expression, answers, expected", [
    case(None, {}, True, id="no-relevance-always-shown"),
    case("${ada} = 'ya'", {"ada": "ya"}, True, id="shown"),
    case("${ada} = 'ya'", {"ada": "tidak"}, False, id="hidden"),
    case("${ada} = 'ya'", {}, False, id="hidden-while-unanswered"),
    case("${ada} != 'tidak'", {}, True, id="shown-while-unanswered"),
    case("selected(${bahan}, 'kayu')", {"bahan": ["kayu"]}, True, id="selected"),
    case("${jumlah} > 0", {"jumlah": 3}, True, id="number"),
    case(parse("${jumlah} > 0"), {"jumlah": 0}, False, id="parsed-expression"),
])
def test_is_relevant(expression, answers, expected):
    assert is_relevant(expression, answers) is expected


@pytest.mark.parametrize("expression, value, answers, expected", [
    case(None, 5, {}, True, id="no-constraint"),
    case(". >= 0 and . <= 500", 500, {}, True, id="at-max"),
    case(". >= 0 and . <= 500", 501, {}, False, id="over-max"),
    case(". >= 0 and . <= 500", -1, {}, False, id="under-min"),
    case(". >= 0 and . <= 500", "", {}, True, id="unanswered-skips-constraint"),
    case(". >= 0 and . <= 500", None, {}, True, id="none-skips-constraint"),
    case(". >= 0", [], {}, True, id="empty-list-skips-constraint"),
    case(". <= ${kapasitas}", 30, {"kapasitas": 40}, True, id="against-other-item"),
    case(". <= ${kapasitas}", 50, {"kapasitas": 40}, False, id="over-other-item"),
    case(". <= ${kapasitas}", 50, {}, False, id="other-item-unanswered"),
    case("count-selected(.) <= 2", ["a", "b", "c"], {}, False, id="count-selected-current"),
    case("not(selected(., 'tidak_ada') and count-selected(.) > 1)", ["tidak_ada", "a"], {}, False,
         id="exclusive-choice"),
    case("regex(., '[0-9]{8}')", "20101234", {}, True, id="npsn-format"),
    case("regex(., '[0-9]{8}')", "2010123", {}, False, id="npsn-too-short"),
    case("string-length(.) <= 5", "abcdef", {}, False, id="text-length"),
])
def test_satisfies(expression, value, answers, expected):
    assert satisfies(expression, value, answers) is expected


def test_constraint_with_today():
    assert satisfies(". <= today()", "2025-07-15", {}, today=TODAY)
    assert not satisfies(". <= today()", "2025-07-16", {}, today=TODAY)


# --- Robustness ------------------------------------------------------------------------------

_PIECES = ["${a}", "${m}", "${r}", "${d}", "${big}", ".", "..", "1", "2.5", "400", "'x'", "''", "'-0'",
           "'2025-02-30'", "'2025-07-15T10:00:00+07:00'", "(", ")", ",", "=", "!=", "<", "<=", "+", "-", "*",
           " div ", " mod ", " and ", " or ", "not(", "selected(", "if(", "count-selected(", "int(",
           "coalesce(", "regex(", "'[a-z]+'", "true()", " ", "now()", "today()", "position(..)",
           "'%Y %b %e %a %3 %q'", "'${q}'", "0 div 0", "1 div 0", "-1 div 0", "cf"]
_PIECES += [f"{name}(" for name in FUNCTIONS if name not in ("regex", "random", "uuid")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_any_text_parses_or_fails_with_a_code(text):
    try:
        expression = parse(text)
    except ExpressionError as error:
        assert error.code.startswith("expr.")
        return
    answers = {"a": "ya", "m": ["x", "y"], "r": Nodeset(["1", "", "x"]), "d": "2025-07-15", "big": 10 ** 400}
    scope = MappingScope(answers, position=2, choices={"q": {"x": "X"}}, tables={"t": [{"k": "1"}]})
    evaluate(expression, scope, current="3", today=TODAY, now=NOW)  # evaluation never raises


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_any_choice_filter_parses_or_fails_with_a_code(text):
    try:
        expression = parse(text, choice_filter=True)
    except ExpressionError as error:
        assert error.code.startswith("expr.")
        return
    evaluate(expression, MappingScope({}, choice={"cf": "1"}), today=TODAY, now=NOW)
