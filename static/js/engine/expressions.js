/**
 * The expression language of relevance, constraints and choice filters: a port of survey/expressions.py.
 *
 * Read that module's docstring for the semantics (XPath 1.0 values as ODK uses them); this file mirrors its
 * sections and names so the two can be reviewed side by side. JavaScript differences handled here:
 * - one JS number stands for Python's int and float; string() of a number is written without an exponent
 *   (BigInt for integers, the shortest digits for the rest), and -0 is '0';
 * - dates are ISO text and computed with integer civil-date arithmetic, never with the machine's time zone;
 * - lengths, substr() and error positions count Unicode code points, as Python does;
 * - regex() matches the whole value: the pattern is wrapped as ^(?:pattern)$ (Python's re.fullmatch).
 * Nothing is ever passed to eval() or Function().
 */

export const MAX_LENGTH = 2000;
export const MAX_DEPTH = 50;

const NAN = NaN;
const INF = Infinity;

const ISO_DATE = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/;
const ISO_DATE_TIME =
  /^\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/;
const XPATH_NUMBER = /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/;
const CHOICE_ITEM = /^\s*\$\{([A-Za-z0-9_.\-]+)\}\s*$/;
const XPATH_SPACE = /[ \t\r\n]+/;

// Indonesian texts for the UI; the English message carries the detail for logs and authors.
const MESSAGES_ID = {
  'expr.syntax': 'Penulisan ekspresi tidak valid',
  'expr.unknown_function': 'Fungsi tidak dikenal',
  'expr.bad_arity': 'Jumlah argumen fungsi salah',
  'expr.bad_argument': 'Argumen fungsi tidak valid',
  'expr.bad_regex': 'Pola regex tidak valid',
  'expr.too_long': 'Ekspresi terlalu panjang',
  'expr.too_deep': 'Ekspresi terlalu bertingkat',
  'expr.no_today': 'Tanggal hari ini tidak tersedia',
  'expr.no_now': 'Waktu sekarang tidak tersedia',
};

/** An expression that cannot be parsed or evaluated, with a stable code. */
export class ExpressionError extends Error {
  constructor(code, message, position = null, messageId = null) {
    super(message);
    this.name = 'ExpressionError';
    this.code = code;
    this.detail = message;
    this.position = position;
    this.messageId = messageId || indonesian(code, position);
  }

  toString() {
    const where = this.position === null ? '' : ` at ${this.position}`;
    return `${this.code}${where}: ${this.detail}`;
  }
}

/** Short Indonesian message for an error code. */
function indonesian(code, position) {
  const text = MESSAGES_ID[code] || 'Ekspresi tidak valid';
  return position === null ? text : `${text} (posisi ${position})`;
}

// --- Values from outside: node-sets and scopes ------------------------------------------------

/** Values of one item across repeat instances, in document order (an XPath node-set). */
export class Nodeset {
  constructor(values = []) {
    this.values = Array.from(values);
  }

  get length() {
    return this.values.length;
  }
}

/** The Scope for a plain object of answers, with optional position, choices, tables and choice row. */
export class MappingScope {
  constructor(answers, { position = null, choices = null, tables = null, choice = null, lastSaved = null } = {}) {
    this.answers = answers || {};
    this.lastSavedAnswers = lastSaved || {};
    this._position = position === undefined ? null : position;
    this.choices = choices || {};
    this.tables = tables || {};
    this.choice = choice || {};
  }

  /** The answer, '' for unknown names. */
  value(name) {
    const value = own(this.answers, name);
    return value === undefined || value === null ? '' : value;
  }

  /** ${last-saved#name}: the answer in the form saved before, '' when none. */
  lastSaved(name) {
    const value = own(this.lastSavedAnswers, name);
    return value === undefined || value === null ? '' : value;
  }

  /** The answer if it is a Nodeset, else a one-node Nodeset. */
  instances(name) {
    const value = this.value(name);
    return value instanceof Nodeset ? value : new Nodeset([value]);
  }

  position() {
    return this._position;
  }

  /** The label from choices[item][value]; null when unknown. */
  choiceLabel(item, value) {
    const labels = own(this.choices, item) || {};
    const label = own(labels, value);
    return label === undefined ? null : label;
  }

  /** First row of tables[table] whose key column is key. */
  lookup(table, column, keyColumn, key) {
    for (const row of own(this.tables, table) || []) {
      if (String(own(row, keyColumn) ?? '') === key) {
        return String(own(row, column) || '');
      }
    }
    return '';
  }

  /** A column of the choice row. */
  choiceColumn(name) {
    const value = own(this.choice, name);
    return value === undefined || value === null ? '' : value;
  }
}

/** An own property of a plain object (never one inherited from Object.prototype). */
function own(object, key) {
  return object && Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

// --- AST -------------------------------------------------------------------------------------
// Nodes are frozen plain objects: {type: 'literal' | 'ref' | 'field' | 'current' | 'parent' | 'unary' | 'binary'
// | 'call', ...}; each knows its height (`depth`) so the depth check does not walk the tree again.

function node(type, fields, children = []) {
  const depth = 1 + children.reduce((most, child) => Math.max(most, child.depth), 0);
  return Object.freeze({ type, ...fields, depth });
}

const literal = (value) => node('literal', { value });
const ref = (name, position, lastSaved = false) => node('ref', { name, position, lastSaved });
const field = (name, position) => node('field', { name, position });
const current = () => node('current', {});
const parent = () => node('parent', {});
const unary = (operand) => node('unary', { operand }, [operand]);
const binary = (op, left, right) => node('binary', { op, left, right }, [left, right]);
const call = (name, args, position) => node('call', { name, args: Object.freeze(args), position }, args);

const CHOICE_NAME = ['jr:choice-name', 'choice-name'];

/** A parsed expression: its source text, tree and what it depends on. */
export class Expression {
  constructor(text, root) {
    this.text = text;
    this.root = root;
    const nodes = [...walk(root)];
    const calls = new Set(nodes.filter((n) => n.type === 'call').map((n) => n.name));
    // ${last-saved#x} reads a form saved before: it names x, but nothing here waits on x.
    const references = new Set(nodes.filter((n) => n.type === 'ref' && !n.lastSaved).map((n) => n.name));
    this.lastSaved = new Set(nodes.filter((n) => n.type === 'ref' && n.lastSaved).map((n) => n.name));
    // jr:choice-name names its item inside a string literal; it depends on that item's choices.
    for (const n of nodes) {
      if (n.type === 'call' && CHOICE_NAME.includes(n.name)) references.add(choiceItem(n));
    }
    this.references = references;
    this.fields = new Set(nodes.filter((n) => n.type === 'field').map((n) => n.name));
    this.usesDot = nodes.some((n) => n.type === 'current');
    this.usesCurrent = this.usesDot || calls.has('once'); // once() reads the current value as well
    this.usesToday = calls.has('today');
    this.usesNow = calls.has('now');
    Object.freeze(this);
  }

  toString() {
    return this.text;
  }
}

/** The item named by jr:choice-name's literal '${item}' (checked at parse time). */
function choiceItem(callNode) {
  return CHOICE_ITEM.exec(callNode.args[1].value)[1];
}

/** Direct subexpressions of a node. */
function children(n) {
  if (n.type === 'unary') return [n.operand];
  if (n.type === 'binary') return [n.left, n.right];
  if (n.type === 'call') return n.args;
  return [];
}

/** Every node of a tree, parents first. */
function* walk(root) {
  const stack = [root];
  while (stack.length) {
    const top = stack.pop();
    yield top;
    stack.push(...children(top).slice().reverse());
  }
}

// --- Tokenizer -------------------------------------------------------------------------------

const NAME_PART = '[A-Za-z_][A-Za-z0-9_.\\-]*';
// Sticky patterns match only at lastIndex, as Python's pattern.match(text, position) does.
const TOKEN_PATTERNS = [
  ['space', /\s+/y],
  ['number', /\d+(\.\d*)?|\.\d+/y],
  ['ref', /\$\{([A-Za-z0-9_.\-]+)\}/y],
  ['last', /\$\{last-saved#([A-Za-z0-9_.\-]+)\}/y],
  // A relative path to a sibling (`../total`, `current()/../pos`): names are unique in a form, so ${total}.
  ['ref', /(?:current\(\)\/)?(?:\.\.\/)+([A-Za-z_][A-Za-z0-9_.\-]*)/y],
  ['string', /'[^']*'|"[^"]*"/y],
  ['op', /!=|<=|>=|[=<>+\-*(),]/y],
  ['parent', /\.\./y],
  ['dot', /\./y],
  // XPath names may contain '-' and '.', which is how count-selected and string-length are spelt,
  // and one namespace prefix, as in jr:choice-name.
  ['name', new RegExp(`${NAME_PART}(:${NAME_PART})?`, 'y')],
];

/** Split expression text into tokens {kind, value, position}, ending with an `end` token. */
export function tokenize(text) {
  const tokens = [];
  let position = 0;
  while (position < text.length) {
    const [kind, match] = matchToken(text, position);
    if (kind !== 'space') {
      let value = kind === 'ref' || kind === 'last' ? match[1] : match[0];
      if (kind === 'string') value = value.slice(1, -1);
      tokens.push({ kind, value, position });
    }
    position += match[0].length;
  }
  tokens.push({ kind: 'end', value: '', position: text.length });
  return tokens;
}

/** The first token pattern matching at a position, or a syntax error. */
function matchToken(text, position) {
  for (const [kind, pattern] of TOKEN_PATTERNS) {
    pattern.lastIndex = position;
    const match = pattern.exec(text);
    if (match) return [kind, match];
  }
  const char = text[position];
  if (char === "'" || char === '"') {
    throw new ExpressionError('expr.syntax', 'unterminated string', position);
  }
  if (text.startsWith('${', position)) {
    throw new ExpressionError('expr.syntax', 'malformed reference, expected ${name}', position);
  }
  throw new ExpressionError('expr.syntax', `unexpected character ${JSON.stringify(char)}`, position);
}

// --- Parser ----------------------------------------------------------------------------------

// Binary operator levels from loosest to tightest binding, as in XPath 1.0.
const LEVELS = [['or'], ['and'], ['=', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', 'div', 'mod']];
const KEYWORD_OPERATORS = new Set(['or', 'and', 'div', 'mod']);

const MANY = null; // no upper limit on arguments
const MATH_1 = ['abs', 'floor', 'ceiling', 'sqrt', 'exp', 'exp10', 'log', 'log10',
  'sin', 'cos', 'tan', 'asin', 'acos', 'atan'];

/** name -> [fewest, most] arguments; most is null for variadic functions. */
export const FUNCTIONS = Object.freeze({
  // logic
  'if': [3, 3], 'not': [1, 1], 'true': [0, 0], 'false': [0, 0], 'boolean': [1, 1],
  'boolean-from-string': [1, 1], 'coalesce': [2, MANY], 'once': [1, 1],
  'checklist': [2, MANY], 'weighted-checklist': [2, MANY],
  // node-sets and repeats
  'count': [1, 1], 'count-non-empty': [1, 1], 'sum': [1, 1], 'min': [1, MANY],
  'max': [1, MANY], 'position': [0, 1], 'indexed-repeat': [3, 7],
  // numbers
  'number': [1, 1], 'int': [1, 1], 'round': [1, 2], 'pow': [2, 2], 'atan2': [2, 2],
  'pi': [0, 0], 'random': [0, 0], ...Object.fromEntries(MATH_1.map((name) => [name, [1, 1]])),
  // strings
  'string': [1, 1], 'concat': [1, MANY], 'join': [2, MANY], 'string-length': [1, 1],
  'substr': [2, 3], 'substring': [2, 3], 'contains': [2, 2], 'starts-with': [2, 2],
  'ends-with': [2, 2], 'substring-before': [2, 2], 'substring-after': [2, 2],
  'translate': [3, 3], 'normalize-space': [1, 1], 'regex': [2, 2], 'uuid': [0, 0],
  // selects and choices
  'selected': [2, 2], 'selected-at': [2, 2], 'count-selected': [1, 1],
  'jr:choice-name': [2, 2], 'choice-name': [2, 2], 'pulldata': [4, 4],
  // dates
  'today': [0, 0], 'now': [0, 0], 'date': [1, 1], 'date-time': [1, 1],
  'decimal-date-time': [1, 1], 'format-date': [2, 2], 'format-date-time': [2, 2],
});

/** Recursive-descent parser over a token list. */
class Parser {
  constructor(text, choiceFilter = false) {
    this.tokens = tokenize(text);
    this.index = 0;
    this.nesting = 0;
    this.choiceFilter = choiceFilter;
  }

  get token() {
    return this.tokens[this.index];
  }

  peek(offset) {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
  }

  advance() {
    const token = this.token;
    this.index += 1;
    return token;
  }

  isOperator(token, operators) {
    if (token.kind === 'op') return operators.includes(token.value);
    const keyword = token.kind === 'name' && KEYWORD_OPERATORS.has(token.value);
    return keyword && operators.includes(token.value);
  }

  atOp(value, offset = 0) {
    const token = this.peek(offset);
    return token.kind === 'op' && token.value === value;
  }

  expect(value) {
    if (this.atOp(value)) return this.advance();
    throw new ExpressionError('expr.syntax', `expected '${value}', found ${describe(this.token)}`,
      this.token.position);
  }

  parse() {
    if (this.token.kind === 'end') throw new ExpressionError('expr.syntax', 'empty expression', 0);
    const root = this.expression();
    if (this.token.kind !== 'end') {
      throw new ExpressionError('expr.syntax', `unexpected ${describe(this.token)}`, this.token.position);
    }
    return root;
  }

  expression() {
    this.enter();
    const root = this.binary(0);
    this.nesting -= 1;
    return root;
  }

  enter() {
    // Parentheses and unary minus nest without growing the tree, so count them separately.
    this.nesting += 1;
    if (this.nesting > MAX_DEPTH) {
      throw new ExpressionError('expr.too_deep', `nested more than ${MAX_DEPTH} levels`, this.token.position);
    }
  }

  binary(level) {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    while (this.isOperator(this.token, LEVELS[level])) {
      const operator = this.advance();
      left = checked(binary(operator.value, left, this.binary(level + 1)), operator);
    }
    return left;
  }

  unary() {
    if (this.atOp('-')) {
      const minus = this.advance();
      this.enter();
      const negated = checked(unary(this.unary()), minus);
      this.nesting -= 1;
      return negated;
    }
    return this.primary();
  }

  primary() {
    const token = this.advance();
    switch (token.kind) {
      case 'number': return literal(Number(token.value));
      case 'string': return literal(token.value);
      case 'ref': return ref(token.value, token.position);
      case 'last': return ref(token.value, token.position, true);
      case 'dot': return current();
      case 'name': return this.call(token);
      case 'parent':
        throw new ExpressionError('expr.syntax', "'..' is only understood as position(..)", token.position);
      default:
        if (token.kind === 'op' && token.value === '(') {
          const inner = this.expression();
          this.expect(')');
          return inner;
        }
    }
    throw new ExpressionError('expr.syntax', `unexpected ${describe(token)}`, token.position);
  }

  call(name) {
    if (!this.atOp('(')) {
      if (this.choiceFilter) return field(name.value, name.position);
      throw new ExpressionError('expr.syntax',
        `bare name '${name.value}': write \${${name.value}} for an item`, name.position);
    }
    if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, name.value)) {
      throw new ExpressionError('expr.unknown_function', `unknown function ${name.value}()`, name.position,
        `Fungsi tidak dikenal: ${name.value}()`);
    }
    this.advance();
    if (name.value === 'position' && this.peek(0).kind === 'parent' && this.atOp(')', 1)) {
      this.index += 2;
      return call(name.value, [parent()], name.position);
    }
    const [args, positions] = this.arguments();
    const made = checked(call(name.value, args, name.position), name);
    checkCall(made, positions);
    return made;
  }

  arguments() {
    const args = [];
    const positions = [];
    if (this.atOp(')')) {
      this.advance();
      return [args, positions];
    }
    for (;;) {
      positions.push(this.token.position);
      args.push(this.expression());
      if (this.atOp(',')) {
        this.advance();
        continue;
      }
      this.expect(')');
      return [args, positions];
    }
  }
}

/** A token as shown in error messages. */
function describe(token) {
  if (token.kind === 'end') return 'end of expression';
  if (token.kind === 'ref') return `\${${token.value}}`;
  return `'${token.value}'`;
}

/** Refuse trees deep enough to threaten the evaluator's recursion. */
function checked(made, token) {
  if (made.depth > MAX_DEPTH) {
    throw new ExpressionError('expr.too_deep', `nested more than ${MAX_DEPTH} levels`, token.position);
  }
  return made;
}

/** Arity, and the arguments that must be written literally (regex, choice-name, repeats). */
function checkCall(made, positions) {
  const [fewest, most] = FUNCTIONS[made.name];
  const count = made.args.length;
  if (count < fewest || (most !== null && count > most)) {
    const expected = fewest === most ? String(fewest) : most === null ? `at least ${fewest}` : `${fewest} to ${most}`;
    throw new ExpressionError('expr.bad_arity', `${made.name}() takes ${expected} argument(s), got ${count}`,
      made.position);
  }
  if (made.name === 'weighted-checklist' && count % 2) {
    throw new ExpressionError('expr.bad_arity', 'weighted-checklist() takes min, max and (value, weight) pairs',
      made.position);
  }
  if (made.name === 'regex') {
    checkRegex(made.args[1], positions[1]);
  } else if (CHOICE_NAME.includes(made.name)) {
    const item = made.args[1];
    if (!(item.type === 'literal' && typeof item.value === 'string' && CHOICE_ITEM.test(item.value))) {
      throw new ExpressionError('expr.bad_argument', `${made.name}() names its item as a quoted '\${item}'`,
        positions[1]);
    }
  } else if (made.name === 'indexed-repeat') {
    if (count % 2 === 0) {
      throw new ExpressionError('expr.bad_arity', 'indexed-repeat() takes ${item}, then pairs of ${repeat}, index',
        made.position);
    }
    const named = [0];
    for (let index = 1; index < count; index += 2) named.push(index);  // the item and each repeat: ${name}
    for (const index of named) {
      if (made.args[index].type !== 'ref') {
        throw new ExpressionError('expr.bad_argument', 'indexed-repeat() takes ${item}, ${repeat}, index',
          positions[index]);
      }
    }
  } else if (made.name === 'position' && count) {
    throw new ExpressionError('expr.bad_argument', "position() takes only '..'", positions[0]);
  }
}

/** A regex pattern must be a literal that compiles. */
function checkRegex(pattern, position) {
  // A literal pattern lets a bad regex fail when the checklist loads, never mid-audit.
  if (!(pattern.type === 'literal' && typeof pattern.value === 'string')) {
    throw new ExpressionError('expr.bad_argument', 'regex() pattern must be a quoted string', position);
  }
  try {
    compileRegex(pattern.value);
  } catch (error) {
    throw new ExpressionError('expr.bad_regex', `invalid regex: ${error.message}`, position);
  }
}

const REGEX_CACHE = new Map();

/** Compile a regex once per pattern, anchored at both ends (Python's fullmatch). */
function compileRegex(pattern) {
  let compiled = REGEX_CACHE.get(pattern);
  if (compiled === undefined) {
    new RegExp(pattern); // a bad pattern must fail on its own, not because of the wrapping
    compiled = new RegExp(`^(?:${pattern})$`);
    if (REGEX_CACHE.size >= 256) REGEX_CACHE.clear();
    REGEX_CACHE.set(pattern, compiled);
  }
  return compiled;
}

const PARSE_CACHE = new Map();

/**
 * Parse expression text; throws ExpressionError. Results are cached by text.
 * choiceFilter=true allows bare names, which are columns of the choice row being filtered.
 */
export function parse(text, { choiceFilter = false } = {}) {
  if (typeof text !== 'string') throw new TypeError(`expression text must be a string, not ${typeof text}`);
  const key = `${choiceFilter ? 1 : 0}${text}`;
  const cached = PARSE_CACHE.get(key);
  if (cached !== undefined) return cached;
  if (codePoints(text).length > MAX_LENGTH) {
    throw new ExpressionError('expr.too_long', `longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  }
  let expression;
  try {
    expression = new Expression(text, new Parser(text, choiceFilter).parse());
  } catch (error) {
    // Positions are code points, as Python counts them, not UTF-16 units.
    if (error instanceof ExpressionError && error.position !== null) {
      throw new ExpressionError(error.code, error.detail, codePoints(text.slice(0, error.position)).length,
        error.code === 'expr.unknown_function' ? error.messageId : null);
    }
    throw error;
  }
  if (PARSE_CACHE.size >= 2048) PARSE_CACHE.clear();
  PARSE_CACHE.set(key, expression);
  return expression;
}

function codePoints(text) {
  return Array.from(text);
}

// --- Values ----------------------------------------------------------------------------------

/** Whether an answer counts as unanswered: null, '', [] or {} (and an empty node-set). */
export function isEmpty(value) {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
  if (value instanceof Nodeset) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Nodeset);
}

function isNumber(value) {
  return typeof value === 'number';
}

/** A node-set's first node ('' when empty); any other value as it is. */
function first(value) {
  if (value instanceof Nodeset) return value.length ? value.values[0] : '';
  return value;
}

/** A node-set's nodes, or a plain value as one node. */
function nodes(value) {
  return value instanceof Nodeset ? value.values : [value];
}

/** XPath number(): numeric strings parse, ISO dates are days since 1970, anything else is NaN. */
export function toNumber(value) {
  value = first(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (isNumber(value)) return value;
  if (typeof value === 'string' || Array.isArray(value)) {
    const text = toString(value);
    if (XPATH_NUMBER.test(text)) return Number(text.trim());
    const moment = parseMoment(text);
    return moment === null ? NAN : days(moment);
  }
  return NAN;
}

/** A finite number's plain decimal digits (no exponent), from its shortest round-trip text. */
function plainDecimal(number) {
  const text = String(Math.abs(number));
  const sign = number < 0 || Object.is(number, -0) ? '-' : '';
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  const [, whole, fraction = '', exponent = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponent); // where the decimal point falls in `digits`
  let result;
  if (point <= 0) {
    result = `0.${'0'.repeat(-point)}${digits}`;
  } else if (point >= digits.length) {
    result = digits + '0'.repeat(point - digits.length);
  } else {
    result = `${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  result = result.replace(/^0+(?=\d)/, '');
  if (result.includes('.')) result = result.replace(/\.?0+$/, '');
  return sign + result;
}

/** XPath string() of a number: no exponent, integers without '.0'. */
function numberToString(number) {
  if (Number.isNaN(number)) return 'NaN';
  if (!Number.isFinite(number)) return number > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(number)) return BigInt(number).toString(); // -0 is '0', as str(int(-0.0))
  return plainDecimal(number);
}

/** XPath string(): lists join with spaces as ODK stores select_multiple answers. */
export function toString(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (isNumber(value)) return numberToString(value);
  if (value instanceof Nodeset) return toString(first(value));
  if (Array.isArray(value)) return value.map(toString).join(' ');
  if (isPlainObject(value)) {
    // ODK's geopoint text is "lat lon altitude accuracy"; we keep no altitude.
    return ['lat', 'lon', 'altitude', 'accuracy'].map((key) => toString(own(value, key)) || '0').join(' ');
  }
  return String(value);
}

/** XPath boolean(): non-zero numbers, non-empty strings, lists and node-sets are true. */
export function truthy(value) {
  if (typeof value === 'boolean') return value;
  if (isNumber(value)) return value !== 0 && !Number.isNaN(value);
  if (value === null || value === undefined) return false;
  if (typeof value === 'string' || Array.isArray(value) || value instanceof Nodeset) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** Python's str.split(): runs of whitespace separate, none at either end. */
function splitWords(text) {
  return text.split(/\s+/).filter((part) => part !== '');
}

/** The chosen values of a select_multiple answer, list or ODK space-separated string. */
function selection(value) {
  value = first(value);
  if (Array.isArray(value)) return value.map(toString);
  return splitWords(toString(value));
}

/** An answer as the evaluator sees it: null is '', node-sets stay (their nodes normalised). */
function normalise(value) {
  if (value instanceof Nodeset) return new Nodeset(value.values.map(normalise));
  if (value === null || value === undefined) return '';
  return value;
}

// --- Dates and times -------------------------------------------------------------------------
// A moment is {year, month, day, hour, minute, second, micro, offset}: a wall clock and its UTC offset in
// minutes. Civil dates convert to day numbers with integer arithmetic (H. Hinnant's algorithms), so neither
// the Date object's range quirks nor the machine's zone play any part.

const US_PER_DAY = 86400e6;

/** Days since 1970-01-01 of a proleptic Gregorian date. */
function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month, day] of a number of days since 1970-01-01. */
function civilFromDays(count) {
  const z = count + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year, month) {
  return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1)
    - daysFromCivil(year, month, 1);
}

/** An ISO date or date-time as a moment (a date is UTC midnight), null otherwise. */
function parseMoment(text) {
  let parts;
  let zone = null;
  let match = ISO_DATE.exec(text);
  if (match) {
    parts = [match[1], match[2], match[3]];
  } else {
    match = ISO_DATE_TIME.exec(text);
    if (!match) return null;
    parts = match.slice(1, 8);
    zone = match[8] || null;
  }
  const [year, month, day, hour, minute, second] = [0, 1, 2, 3, 4, 5].map((index) => Number(parts[index] || 0));
  const micro = Number((parts[6] || '0').padEnd(6, '0').slice(0, 6));
  const offset = zoneMinutes(zone);
  const valid = year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
    && hour <= 23 && minute <= 59 && second <= 59 && offset !== null;
  return valid ? { year, month, day, hour, minute, second, micro, offset } : null;
}

/** A written UTC offset ('Z', '+07:00', '-0530') in minutes; none means UTC; null when out of range. */
function zoneMinutes(text) {
  if (!text || text === 'Z') return 0;
  const digits = text.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  if (minutes >= 24 * 60) return null; // Python's timezone() refuses a day or more
  return text[0] === '-' ? -minutes : minutes;
}

/** Days since 1970-01-01T00:00Z; a date's UTC midnight gives whole days. */
function days(moment) {
  const dayNumber = daysFromCivil(moment.year, moment.month, moment.day);
  const clock = ((moment.hour * 60 + moment.minute - moment.offset) * 60 + moment.second) * 1e6 + moment.micro;
  return dayNumber + clock / US_PER_DAY;
}

/** Round half to even, as Python's timedelta does with leftover microseconds. */
function roundHalfEven(number) {
  const floor = Math.floor(number);
  const rest = number - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The UTC moment a number of days after the epoch; null when not a representable date (years 1 to 9999). */
function fromDays(count) {
  if (!Number.isFinite(count) || Math.abs(count) > 999999999) return null;
  // timedelta(days=x): whole days exactly, the fraction as microseconds rounded half to even.
  const whole = Math.trunc(count);
  const fraction = roundHalfEven((count - whole) * US_PER_DAY);
  const dayNumber = whole + Math.floor(fraction / US_PER_DAY);
  let micros = fraction - Math.floor(fraction / US_PER_DAY) * US_PER_DAY;
  const [year, month, day] = civilFromDays(dayNumber);
  if (year < 1 || year > 9999) return null;
  const micro = micros % 1e6;
  micros = (micros - micro) / 1e6;
  const second = micros % 60;
  const minute = Math.floor(micros / 60) % 60;
  const hour = Math.floor(micros / 3600);
  return { year, month, day, hour, minute, second, micro, offset: 0 };
}

/** A date, date-time or number of days as a moment (its own written wall clock). */
function asMoment(value) {
  value = first(value);
  if (typeof value === 'string') {
    const moment = parseMoment(value);
    if (moment !== null) return moment;
  }
  if ((typeof value === 'string' || Array.isArray(value)) && toString(value).trim() === '') return null;
  return fromDays(toNumber(value));
}

function pad(number, width) {
  return String(number).padStart(width, '0');
}

/** ODK's date-time text: 2026-12-06T10:00:00.000+07:00. */
function dateTimeText(moment) {
  const sign = moment.offset < 0 ? '-' : '+';
  const minutes = Math.abs(moment.offset);
  return `${pad(moment.year, 4)}-${pad(moment.month, 2)}-${pad(moment.day, 2)}T${pad(moment.hour, 2)}:`
    + `${pad(moment.minute, 2)}:${pad(moment.second, 2)}.${pad(Math.floor(moment.micro / 1000), 3)}`
    + `${sign}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
}

/** date(): a date, date-time or days since 1970 as 'YYYY-MM-DD'; '' when not a date. */
function dateOf(value) {
  value = first(value);
  let moment = typeof value === 'string' ? parseMoment(value) : null;
  if (moment === null) {
    const count = toNumber(value);
    moment = Number.isFinite(count) ? fromDays(Math.floor(count)) : null;
  }
  return moment === null ? '' : `${pad(moment.year, 4)}-${pad(moment.month, 2)}-${pad(moment.day, 2)}`;
}

/** date-time(): a date-time text; numbers are days since 1970 in UTC; '' when not a date. */
function dateTime(value) {
  const moment = asMoment(value);
  return moment === null ? '' : dateTimeText(moment);
}

/** decimal-date-time(): fractional days since 1970-01-01T00:00Z; NaN when not a date. */
function decimalDateTime(value) {
  const moment = asMoment(value);
  return moment === null ? NAN : days(moment);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function weekday(moment) {
  // 1970-01-01 was a Thursday (3 when Monday is 0, as Python's weekday()).
  return (((daysFromCivil(moment.year, moment.month, moment.day) + 3) % 7) + 7) % 7;
}

const FORMATS = {
  Y: (m) => pad(m.year, 4), y: (m) => pad(m.year % 100, 2),
  m: (m) => pad(m.month, 2), n: (m) => String(m.month), b: (m) => MONTHS[m.month - 1],
  d: (m) => pad(m.day, 2), e: (m) => String(m.day), a: (m) => WEEKDAYS[weekday(m)],
  H: (m) => pad(m.hour, 2), h: (m) => String(m.hour), M: (m) => pad(m.minute, 2),
  S: (m) => pad(m.second, 2), 3: (m) => pad(Math.floor(m.micro / 1000), 3),
};

/** format-date(): % codes replaced from the value's wall clock; '' when not a date. */
function formatDate(value, pattern) {
  const moment = asMoment(value);
  if (moment === null) return '';
  return toString(pattern).replace(/%([\s\S])/gu, (code, letter) => {
    const format = own(FORMATS, letter);
    return format ? format(moment) : code;
  });
}

// --- Evaluator -------------------------------------------------------------------------------

/**
 * Value of an expression given answers (or a Scope), the current value, today and now.
 * `today` is 'YYYY-MM-DD'; `now` an ISO date-time with its UTC offset, which now() keeps.
 */
export function evaluate(expression, answers, { current = null, today = null, now = null } = {}) {
  const scope = isScope(answers) ? answers : new MappingScope(answers);
  const context = { scope, current: normalise(current), today, now };
  return evaluateNode(asExpression(expression).root, context);
}

function isScope(value) {
  return value !== null && typeof value === 'object' && typeof value.value === 'function'
    && typeof value.instances === 'function';
}

function asExpression(expression) {
  return expression instanceof Expression ? expression : parse(expression);
}

function evaluateNode(n, context) {
  switch (n.type) {
    case 'literal': return n.value;
    case 'ref':
      if (n.lastSaved) {
        return typeof context.scope.lastSaved === 'function' ? normalise(context.scope.lastSaved(n.name)) : '';
      }
      return normalise(context.scope.value(n.name));
    case 'field': return normalise(context.scope.choiceColumn(n.name));
    case 'current': return context.current;
    case 'unary': return -toNumber(evaluateNode(n.operand, context));
    case 'binary':
      if (n.op === 'or') return truthy(evaluateNode(n.left, context)) || truthy(evaluateNode(n.right, context));
      if (n.op === 'and') return truthy(evaluateNode(n.left, context)) && truthy(evaluateNode(n.right, context));
      return compareOrCompute(n.op, evaluateNode(n.left, context), evaluateNode(n.right, context));
    case 'call': return callFunction(n, context);
    default: throw new TypeError(`not an expression node: ${n.type}`);
  }
}

/** A binary operator; comparisons with a node-set hold when they hold for any node. */
function compareOrCompute(op, left, right) {
  const compare = COMPARISONS[op];
  if (compare) {
    // A node-set against a boolean compares the node-set's boolean() (XPath 3.4).
    if (typeof left === 'boolean' && right instanceof Nodeset) {
      right = truthy(right);
    } else if (typeof right === 'boolean' && left instanceof Nodeset) {
      left = truthy(left);
    }
    return nodes(left).some((a) => nodes(right).some((b) => compare(a, b)));
  }
  return ARITHMETIC[op](left, right);
}

/** XPath `=` for non-node-set values. */
function equals(left, right) {
  if (typeof left === 'boolean' || typeof right === 'boolean') return truthy(left) === truthy(right);
  if (isNumber(left) || isNumber(right)) return toNumber(left) === toNumber(right);
  return toString(left) === toString(right);
}

const COMPARISONS = {
  '=': equals,
  '!=': (left, right) => !equals(left, right),
  // Ordering compares numbers; dates are days since 1970, so they order by date. NaN compares false.
  '<': (left, right) => toNumber(left) < toNumber(right),
  '<=': (left, right) => toNumber(left) <= toNumber(right),
  '>': (left, right) => toNumber(left) > toNumber(right),
  '>=': (left, right) => toNumber(left) >= toNumber(right),
};

// IEEE arithmetic is XPath's: x div 0 is ±Infinity or NaN, and JavaScript's % truncates like C's fmod.
const ARITHMETIC = {
  '+': (left, right) => toNumber(left) + toNumber(right),
  '-': (left, right) => toNumber(left) - toNumber(right),
  '*': (left, right) => toNumber(left) * toNumber(right),
  'div': (left, right) => toNumber(left) / toNumber(right),
  'mod': (left, right) => toNumber(left) % toNumber(right),
};

/** Evaluate a function call; some read the context or evaluate only what they return. */
function callFunction(made, context) {
  const special = SPECIAL[made.name];
  if (special !== undefined) return special(made, context);
  const values = made.args.map((arg) => evaluateNode(arg, context));
  return FUNCTION_IMPLEMENTATIONS[made.name](...values);
}

/** if(): only the chosen branch is evaluated. */
function ifCall(made, context) {
  const [condition, yes, no] = made.args;
  return evaluateNode(truthy(evaluateNode(condition, context)) ? yes : no, context);
}

/** coalesce(): the first non-empty argument, evaluating no further. */
function coalesce(made, context) {
  let value = '';
  for (const arg of made.args) {
    value = evaluateNode(arg, context);
    if (toString(value) !== '') return value;
  }
  return value;
}

/** today() as an ISO date string from the context ('YYYY-MM-DD...'), never from the clock. */
function today(made, context) {
  const given = context.today;
  const date = typeof given === 'string' ? /^\d{4}-\d{2}-\d{2}/.exec(given) : null;
  if (date === null) {
    // A Date object is refused too: its calendar date depends on a time zone, and dates here are ISO text.
    throw new ExpressionError('expr.no_today', "today() needs a date passed as today: 'YYYY-MM-DD'", made.position);
  }
  return date[0]; // a date-time given as today counts by its date
}

/** now() as ODK's date-time text from the context, never from the clock; it keeps the given offset. */
function now(made, context) {
  // A Date is an instant without an offset of its own: it is written in UTC, never in the machine's zone.
  const given = context.now instanceof Date ? context.now.toISOString() : context.now;
  const match = typeof given === 'string' ? ISO_DATE_TIME.exec(given) : null;
  const moment = match && match[8] ? parseMoment(given) : null;
  if (moment === null) {
    throw new ExpressionError('expr.no_now', 'now() needs an ISO date-time with its offset passed as now',
      made.position);
  }
  return dateTimeText(moment);
}

/** position(..): the repeat instance's 1-based index; 1 outside any repeat. */
function position(made, context) {
  const found = context.scope.position();
  return found === null || found === undefined ? 1 : Number(found);
}

/** indexed-repeat(${item}, ${repeat}, n): the item in the repeat's n-th instance. */
function indexedRepeat(made, context) {
  if (made.args.length > 3) {  // pairs (${outer}, i, ${inner}, j): only a form's scope can resolve them
    const steps = [];
    for (let at = 1; at < made.args.length; at += 2) {
      const number = toNumber(evaluateNode(made.args[at + 1], context));
      if (!(Number.isInteger(number) && number >= 1)) return '';
      steps.push([made.args[at].name, number]);
    }
    return typeof context.scope.at === 'function' ? normalise(context.scope.at(made.args[0].name, steps)) : '';
  }
  const index = toNumber(evaluateNode(made.args[2], context));
  const values = context.scope.instances(made.args[0].name).values;
  if (!(Number.isInteger(index) && index >= 1 && index <= values.length)) return '';
  return normalise(values[index - 1]);
}

/** once(x): the current value when there is one, else x. */
function once(made, context) {
  if (!isEmpty(context.current)) return context.current;
  return evaluateNode(made.args[0], context);
}

/** jr:choice-name(value, '${item}'): the label of that choice of the item, '' when unknown. */
function choiceName(made, context) {
  const value = toString(evaluateNode(made.args[0], context));
  const label = context.scope.choiceLabel(choiceItem(made), value);
  return label === null || label === undefined ? '' : toString(label);
}

/** pulldata(table, column, key_column, key) through the scope's tables. */
function pulldata(made, context) {
  const [table, column, keyColumn, key] = made.args.map((arg) => toString(evaluateNode(arg, context)));
  return toString(context.scope.lookup(table, column, keyColumn, key));
}

const SPECIAL = {
  'if': ifCall, 'coalesce': coalesce, 'today': today, 'now': now, 'position': position,
  'indexed-repeat': indexedRepeat, 'once': once, 'jr:choice-name': choiceName,
  'choice-name': choiceName, 'pulldata': pulldata,
};

// --- Numbers ---------------------------------------------------------------------------------

/** Python's float(math.trunc(x)) and friends give +0 where JavaScript keeps -0. */
function positiveZero(number) {
  return number === 0 ? 0 : number;
}

/** ODK int(): truncate toward zero; NaN and infinities stay as they are. */
function int(value) {
  return positiveZero(Math.trunc(toNumber(value)));
}

/**
 * ODK round(): half away from zero, to a number of decimal places (negative: tens, ...).
 * Rounds the shortest decimal text of the double, so round(1.005, 2) is 1.01 as people expect.
 */
function round(value, digits = 0) {
  const number = toNumber(value);
  let places = toNumber(digits);
  if (!Number.isFinite(number) || Number.isNaN(places)) {
    return Number.isFinite(places) || Number.isNaN(number) ? number : NAN;
  }
  places = Math.trunc(Math.max(-400, Math.min(400, places)));
  const text = plainDecimal(number);
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  // Digits of |number| with the decimal point moved `places` to the right: keep = digits before it.
  const digitsText = whole + fraction.padEnd(Math.max(places, 0), '0');
  const keepLength = whole.length + places;
  if (keepLength < 0) return negative ? -0 : 0;
  const kept = digitsText.slice(0, keepLength) || '0';
  const next = digitsText.charAt(keepLength) || '0';
  const rounded = BigInt(kept) + (next >= '5' ? 1n : 0n); // half away from zero: the magnitude rounds up
  // Parsing the decimal text gives the nearest double, as float(Decimal) does.
  const magnitude = Number(`${rounded}e${-places}`);
  return negative ? -magnitude : magnitude;
}

function floor(value) {
  return positiveZero(Math.floor(toNumber(value)));
}

function ceiling(value) {
  return positiveZero(Math.ceil(toNumber(value)));
}

/** A one-argument math function that gives NaN outside its domain. */
function mathFunction(apply, domain = () => true) {
  return (value) => {
    const number = toNumber(value);
    if (Number.isNaN(number) || !domain(number)) return NAN;
    return apply(number);
  };
}

/** log() or log10(): -Infinity at 0 and NaN below, as in Java and JavaScript. */
function logFunction(apply) {
  return (value) => {
    const number = toNumber(value);
    if (number === 0) return -INF;
    if (Number.isNaN(number) || number < 0) return NAN;
    return number === INF ? INF : apply(number);
  };
}

/** pow() with Java/JavaScript results. */
function pow(base, exponent) {
  const x = toNumber(base);
  const y = toNumber(exponent);
  if (Number.isNaN(y) || (Number.isNaN(x) && y !== 0)) return NAN;
  if (Math.abs(x) === 1 && !Number.isFinite(y)) return NAN;
  return Math.pow(x, y);
}

/** number() of every node of every argument. */
function numbers(values) {
  return values.flatMap((value) => nodes(value).map(toNumber));
}

/** min() or max(): NaN when any value is NaN or there is none; the first of equals, as Python's. */
function extreme(better) {
  return (...values) => {
    const all = numbers(values);
    if (!all.length || all.some(Number.isNaN)) return NAN;
    return all.reduce((best, number) => (better(number, best) ? number : best));
  };
}

/** sum(): number() of each node added left to right; NaN when any is not a number. */
function sum(value) {
  return numbers([value]).reduce((total, number) => total + number, 0);
}

// --- Strings ---------------------------------------------------------------------------------

/** A number used as a string index: NaN is 0, infinities are clamped. */
function stringIndex(value) {
  const number = toNumber(value);
  if (Number.isNaN(number)) return 0;
  return Math.trunc(Math.max(-1e9, Math.min(1e9, number)));
}

/** Python's text[start:end] over code points. */
function slice(characters, start, end = characters.length) {
  const length = characters.length;
  const clamp = (index) => (index < 0 ? Math.max(0, length + index) : Math.min(index, length));
  return characters.slice(clamp(start), clamp(end)).join('');
}

/** ODK substr(): 0-based start, exclusive end, negative indices from the end. */
function substr(value, start, end) {
  const characters = codePoints(toString(value));
  return end === undefined
    ? slice(characters, stringIndex(start))
    : slice(characters, stringIndex(start), stringIndex(end));
}

/** XPath substring(): characters at 1-based positions p with round(start) <= p < round(start) + round(length). */
function substring(value, start, length) {
  const characters = codePoints(toString(value));
  const from = xpathRound(toNumber(start));
  const last = length === undefined ? INF : from + xpathRound(toNumber(length));
  return characters.filter((_, index) => from <= index + 1 && index + 1 < last).join('');
}

/** XPath round(): half toward +Infinity; NaN and infinities unchanged. */
function xpathRound(number) {
  return Number.isFinite(number) ? Math.floor(number + 0.5) : number;
}

/** XPath translate(): map characters of source to those of target, drop the extra ones. */
function translate(value, source, target) {
  const from = codePoints(toString(source));
  const to = codePoints(toString(target));
  const table = new Map();
  from.forEach((char, index) => {
    if (!table.has(char)) table.set(char, index < to.length ? to[index] : '');
  });
  return codePoints(toString(value)).map((char) => (table.has(char) ? table.get(char) : char)).join('');
}

function substringBefore(value, part) {
  const text = toString(value);
  const index = text.indexOf(toString(part));
  return index < 0 ? '' : text.slice(0, index);
}

function substringAfter(value, part) {
  const text = toString(value);
  const found = toString(part);
  const index = text.indexOf(found);
  return index < 0 ? '' : text.slice(index + found.length);
}

/** string() of every node of every argument (ODK flattens node-sets in concat and join). */
function flattenStrings(values) {
  return values.flatMap((value) => nodes(value).map(toString));
}

/** selected-at(): the 0-based n-th chosen value, '' when out of range. */
function selectedAt(value, index) {
  const chosen = selection(value);
  const number = toNumber(index);
  if (!Number.isFinite(number)) return '';
  const at = Math.trunc(number);
  return at >= 0 && at < chosen.length ? chosen[at] : '';
}

/** A random version 4 UUID, from the platform's cryptographic generator when there is one. */
function uuid() {
  const cryptography = globalThis.crypto;
  if (cryptography && typeof cryptography.randomUUID === 'function') return cryptography.randomUUID();
  const bytes = new Uint8Array(16);
  if (cryptography && typeof cryptography.getRandomValues === 'function') {
    cryptography.getRandomValues(bytes);
  } else {
    for (let index = 0; index < 16; index += 1) bytes[index] = Math.floor(Math.random() * 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// --- Logic -----------------------------------------------------------------------------------

/** Whether count lies between low and high, where -1 means no limit (ODK's checklist). */
function within(count, low, high) {
  const lowNumber = toNumber(low);
  const highNumber = toNumber(high);
  return (lowNumber === -1 || count >= lowNumber) && (highNumber === -1 || count <= highNumber);
}

/** checklist(): whether the number of true values is within [low, high]. */
function checklist(low, high, ...values) {
  const count = values.flatMap(nodes).filter(truthy).length;
  return within(count, low, high);
}

/** weighted-checklist(): whether the weights of true values add up to within [low, high]. */
function weightedChecklist(low, high, ...pairs) {
  let total = 0;
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    if (truthy(pairs[index])) total += toNumber(pairs[index + 1]);
  }
  return within(total, low, high);
}

/** count(): instances of a node-set; any other value is one node. */
function count(value) {
  return value instanceof Nodeset ? value.length : 1;
}

/** count-non-empty(): nodes whose text is not empty. */
function countNonEmpty(value) {
  return nodes(value).filter((n) => toString(n) !== '').length;
}

const FUNCTION_IMPLEMENTATIONS = {
  'not': (value) => !truthy(value),
  'true': () => true,
  'false': () => false,
  'boolean': truthy,
  'boolean-from-string': (value) => ['true', '1'].includes(toString(value)),
  'checklist': checklist,
  'weighted-checklist': weightedChecklist,
  'count': count,
  'count-non-empty': countNonEmpty,
  'sum': sum,
  'min': extreme((a, b) => a < b),
  'max': extreme((a, b) => a > b),
  'number': toNumber,
  'int': int,
  'round': round,
  'pow': pow,
  'atan2': (y, x) => Math.atan2(toNumber(y), toNumber(x)),
  'pi': () => Math.PI,
  'random': () => Math.random(),
  'abs': (value) => Math.abs(toNumber(value)),
  'floor': floor,
  'ceiling': ceiling,
  'sqrt': mathFunction(Math.sqrt, (n) => n >= 0),
  'exp': mathFunction(Math.exp),
  'exp10': (value) => pow(10, value),
  'log': logFunction(Math.log),
  'log10': logFunction(Math.log10),
  'sin': mathFunction(Math.sin, Number.isFinite),
  'cos': mathFunction(Math.cos, Number.isFinite),
  'tan': mathFunction(Math.tan, Number.isFinite),
  'asin': mathFunction(Math.asin, (n) => n >= -1 && n <= 1),
  'acos': mathFunction(Math.acos, (n) => n >= -1 && n <= 1),
  'atan': mathFunction(Math.atan),
  'string': toString,
  'concat': (...values) => flattenStrings(values).join(''),
  'join': (separator, ...values) => flattenStrings(values).join(toString(separator)),
  'string-length': (value) => codePoints(toString(value)).length,
  'substr': substr,
  'substring': substring,
  'contains': (value, part) => toString(value).includes(toString(part)),
  'starts-with': (value, part) => toString(value).startsWith(toString(part)),
  'ends-with': (value, part) => toString(value).endsWith(toString(part)),
  'substring-before': substringBefore,
  'substring-after': substringAfter,
  'translate': translate,
  'normalize-space': (value) => toString(value).split(XPATH_SPACE).filter((part) => part).join(' '),
  'regex': (value, pattern) => compileRegex(toString(pattern)).test(toString(value)),
  'uuid': uuid,
  'selected': (answer, choice) => selection(answer).includes(toString(choice).trim()),
  'selected-at': selectedAt,
  'count-selected': (answer) => selection(answer).length,
  'date': dateOf,
  'date-time': dateTime,
  'decimal-date-time': decimalDateTime,
  'format-date': formatDate,
  'format-date-time': formatDate,
};

// --- Conveniences for relevance and constraints ----------------------------------------------

/** Whether an item with this relevance expression is shown; no expression means always. */
export function isRelevant(expression, answers, { today = null, now = null } = {}) {
  if (expression === null || expression === undefined) return true;
  return truthy(evaluate(expression, answers, { today, now }));
}

/** Whether a value meets a constraint; as in ODK, constraints skip unanswered items. */
export function satisfies(expression, value, answers, { today = null, now = null } = {}) {
  if (expression === null || expression === undefined || isEmpty(value)) return true;
  return truthy(evaluate(expression, answers, { current: value, today, now }));
}
