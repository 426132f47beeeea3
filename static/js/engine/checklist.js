/**
 * Facility checklists in the browser: the model built from a checklist's plain data, and answer shapes.
 * A port of the parts of survey/checklist.py the form evaluator needs: the model (Text, Choice, Container, Item,
 * Section, Checklist), checklistFromDict, dependencies(), validateAnswer() and coerceAnswer().
 *
 * The server validates every checklist fully when it is loaded or imported (survey/checklist.py); the browser only
 * receives checklists that passed, so checklistFromDict here checks what keeps the evaluator safe (the shape it
 * walks, item types, ids, expressions and their references) and leaves the author-facing rules to the server.
 */

import { ExpressionError, isEmpty, parse } from './expressions.js';

export const ITEM_TYPES = ['ynp', 'integer', 'decimal', 'select_one', 'select_multiple', 'text', 'date',
  'photo', 'gps', 'time', 'datetime', 'calculate', 'note', 'hidden', 'acknowledge', 'file'];
export const CONTAINER_TYPES = ['group', 'repeat'];
// Items that hold no answer the auditor gives: computed, shown or kept out of sight.
export const COMPUTED_TYPES = ['calculate', 'hidden'];
export const DISPLAY_TYPES = ['note'];
export const YNP_VALUES = ['ya', 'tidak', 'sebagian', 'tidak_berlaku'];

export const MAX_TEXT_ANSWER = 10000;
export const MAX_INSTANCES = 500; // instances of one repeat in one audit, in all its enclosing instances together
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})T(.+)$/;
const SHA256 = /^[0-9a-f]{64}$/;
const ID = /^[a-z0-9_]{1,64}$/;

/** A checklist's plain data that breaks the format, with a stable code and where it went wrong. */
export class ChecklistError extends Error {
  constructor(code, message, location) {
    super(`${location}: ${message} [${code}]`);
    this.name = 'ChecklistError';
    this.code = code;
    this.detail = message;
    this.location = location;
  }
}

// --- Model -----------------------------------------------------------------------------------

/** A bilingual text; Indonesian is the fallback. */
export class Text {
  constructor(id, en) {
    this.id = id;
    this.en = en;
    Object.freeze(this);
  }

  /** The text for a locale such as 'en', 'en_US' or 'id'. */
  get(locale = null) {
    if (locale && locale.toLowerCase().startsWith('en') && this.en) return this.en;
    return this.id;
  }
}

/** One option of a select_one or select_multiple item. */
export class Choice {
  constructor(value, label, columns = {}) {
    this.value = value;
    this.label = label;
    this.columns = Object.freeze({ ...columns }); // other columns of the choice row, read by choice filters
    Object.freeze(this);
  }

  /** A column of the choice row for a choice filter: `name` is the value, a missing column is ''. */
  column(name) {
    if (name === 'name') return this.value;
    return Object.prototype.hasOwnProperty.call(this.columns, name) ? this.columns[name] : '';
  }
}

/** A group (a sub-heading) or a repeat (answered once per instance) inside a section. */
export class Container {
  constructor({ id, type, label = null, hint = null, relevant = null, count = null, parent = null,
    appearance = null }) {
    Object.assign(this, { id, type, label, hint, relevant, count, parent, appearance });
    Object.freeze(this);
  }
}

const ITEM_DEFAULTS = {
  hint: null, required: false, relevant: null, constraint: null, constraintMessage: null, weight: 1,
  critical: false, allowNa: true, min: null, max: null, choices: [], source: null, sourceStatus: null,
  requiredIf: null, calculation: null, default: null, readOnly: false, choiceFilter: null, appearance: null,
  path: [], accept: null, choicesFrom: null,
};

/**
 * One question. weight, critical and allowNa only mean something for ynp items.
 * `path` names the containers (groups and repeats) around the item inside its section, outermost first.
 */
export class Item {
  constructor(fields) {
    Object.assign(this, ITEM_DEFAULTS, fields);
    Object.freeze(this);
  }

  /** Whether the item contributes weight to the score. */
  get isScored() {
    return this.type === 'ynp' && this.weight > 0;
  }

  get choiceValues() {
    return this.choices.map((choice) => choice.value);
  }

  /** Whether the auditor gives this item an answer (not computed, not a note, not read-only). */
  get isAnswerable() {
    return !COMPUTED_TYPES.includes(this.type) && !DISPLAY_TYPES.includes(this.type) && !this.readOnly
      && this.calculation === null;
  }

  /** The item's expressions by field name. */
  expressions() {
    const named = { relevant: this.relevant, constraint: this.constraint, required: this.requiredIf,
      calculation: this.calculation, choice_filter: this.choiceFilter };
    return Object.fromEntries(Object.entries(named).filter(([, value]) => value !== null));
  }
}

/** A group of items with its own source. */
export class Section {
  constructor({ id, title, source, items, sourceStatus = null, sourceText = null }) {
    Object.assign(this, { id, title, source, items, sourceStatus, sourceText });
    Object.freeze(this);
  }
}

/** One version of a facility checklist. */
export class Checklist {
  constructor({ id, version, title, sections, scoring, containers = [], tables = {}, ...rest }) {
    Object.assign(this, rest, { id, version, title, sections, scoring, containers, tables });
    this.items = sections.flatMap((section) => section.items);
    this._itemsById = new Map(this.items.map((item) => [item.id, item]));
    this._sectionsByItem = new Map(sections.flatMap((section) => section.items.map((item) => [item.id, section])));
    this._containers = new Map(containers.map((container) => [container.id, container]));
  }

  get key() {
    return `${this.id}@${this.version}`;
  }

  /** The item with this id; an Error when there is none. */
  item(itemId) {
    const item = this._itemsById.get(itemId);
    if (item === undefined) throw new Error(`no item ${itemId}`);
    return item;
  }

  hasItem(itemId) {
    return this._itemsById.has(itemId);
  }

  /** The section holding an item. */
  sectionOf(itemId) {
    return this._sectionsByItem.get(itemId);
  }

  /** The group or repeat with this id; an Error when there is none. */
  container(containerId) {
    const container = this._containers.get(containerId);
    if (container === undefined) throw new Error(`no container ${containerId}`);
    return container;
  }

  hasContainer(containerId) {
    return this._containers.has(containerId);
  }

  /** Ids of the repeats around an item or container, outermost first (a repeat includes itself). */
  repeatsOf(itemOrContainer) {
    const path = itemOrContainer instanceof Item ? itemOrContainer.path : this.containerPath(itemOrContainer.id);
    return path.filter((id) => this._containers.get(id).type === 'repeat');
  }

  /** The container and its enclosing containers, outermost first. */
  containerPath(containerId) {
    const path = [];
    for (let current = containerId; current !== null; current = this._containers.get(current).parent) {
      path.push(current);
    }
    return path.reverse();
  }

  get repeats() {
    return this.containers.filter((container) => container.type === 'repeat');
  }

  /** The rows of a pulldata() table, as objects. */
  table(name) {
    return Object.prototype.hasOwnProperty.call(this.tables, name) ? this.tables[name] : [];
  }

  /** Questions the auditor answers (repeats count once). */
  get questionCount() {
    return this.items.filter((item) => item.isAnswerable).length;
  }
}

// --- Building the model ----------------------------------------------------------------------

/** A checklist from its plain data (the YAML shape of docs/checklist-format.md, as checklist_to_dict writes it). */
export function checklistFromDict(data, origin = '<checklist>') {
  const where = (path) => `${origin}: ${path}`;
  if (!isObject(data)) throw new ChecklistError('checklist.bad_type', 'expected a mapping', origin);
  const containers = [];
  const ids = new Set();
  const sections = list(data, 'sections', where('sections')).map((section, index) => {
    const path = `sections[${index}]`;
    if (!isObject(section)) throw new ChecklistError('checklist.bad_type', 'expected a mapping', where(path));
    const items = [];
    entries(section, path, [], containers, ids, items, where);
    return new Section({
      id: identifier(section, where(`${path}.id`)), title: text(section.title), source: section.source ?? null, items,
      sourceStatus: section.source_status ?? null, sourceText: text(section.source_text),
    });
  });
  const checklist = new Checklist({
    id: data.id, version: data.version, title: text(data.title), sections,
    scoring: { memenuhiMin: scoringThreshold(data, origin) }, containers, tables: data.tables || {},
    description: text(data.description),
    facilityKinds: data.facility_kinds || [], source: data.source ?? null, sourceStatus: data.source_status ?? null,
    versionLabel: data.version_label ?? null,
  });
  checkReferences(checklist, origin);
  return checklist;
}

/** scoring.memenuhi_min: the share of the applicable weight an audit must earn to pass, between 0 and 1. */
function scoringThreshold(data, origin) {
  const threshold = isObject(data.scoring) ? data.scoring.memenuhi_min : undefined;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new ChecklistError('checklist.bad_range', 'memenuhi_min must be between 0 and 1', `${origin}: scoring`);
  }
  return threshold;
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A required, non-empty list field. */
function list(data, key, location) {
  const value = data[key];
  if (!Array.isArray(value) || !value.length) {
    throw new ChecklistError('checklist.bad_value', `${key} must be a non-empty list`, location);
  }
  return value;
}

function identifier(data, location) {
  if (typeof data.id !== 'string' || !ID.test(data.id)) {
    throw new ChecklistError('checklist.bad_value', `id ${JSON.stringify(data.id)} must match [a-z0-9_]+`, location);
  }
  return data.id;
}

/** A bilingual {id, en} text; a plain string stands for both languages. */
function text(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return new Text(value, value);
  return new Text(value.id ?? '', value.en ?? '');
}

/** The `items` list of a section or container: questions, and groups and repeats holding more. */
function entries(data, path, containerPath, containers, ids, items, where) {
  list(data, 'items', where(`${path}.items`)).forEach((entry, index) => {
    const child = `${path}.items[${index}]`;
    if (!isObject(entry)) throw new ChecklistError('checklist.bad_type', 'expected a mapping', where(child));
    const id = identifier(entry, where(`${child}.id`));
    if (ids.has(id)) throw new ChecklistError('checklist.duplicate_id', `item id '${id}' is used twice`, where(child));
    ids.add(id);
    if (CONTAINER_TYPES.includes(entry.type)) {
      containers.push(new Container({
        id, type: entry.type, label: text(entry.label), hint: text(entry.hint),
        relevant: expression(entry, 'relevant', where(child)), count: expression(entry, 'count', where(child)),
        parent: containerPath.length ? containerPath[containerPath.length - 1] : null,
        appearance: entry.appearance ?? null,
      }));
      entries(entry, child, [...containerPath, id], containers, ids, items, where);
    } else {
      items.push(item(entry, containerPath, where(child)));
    }
  });
}

/** An expression field, parsed now so a broken one fails at load time. */
function expression(data, key, location, choiceFilter = false) {
  const value = data[key];
  if (value === null || value === undefined) return null;
  try {
    return parse(String(value), { choiceFilter });
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw new ChecklistError('checklist.bad_expression',
      `${key} ${JSON.stringify(value)}: ${error.detail} at position ${error.position} [${error.code}]`,
      `${location}.${key}`);
  }
}

function item(data, path, location) {
  if (!ITEM_TYPES.includes(data.type)) {
    throw new ChecklistError('checklist.bad_value', `type ${JSON.stringify(data.type)} is not an item type`,
      `${location}.type`);
  }
  const required = typeof data.required === 'string';
  const ynp = data.type === 'ynp';
  return new Item({
    id: data.id, type: data.type, label: text(data.label) || new Text(data.id, data.id), hint: text(data.hint),
    required: data.required === true, requiredIf: required ? expression(data, 'required', location) : null,
    relevant: expression(data, 'relevant', location), constraint: expression(data, 'constraint', location),
    constraintMessage: text(data.constraint_message),
    weight: ynp && data.weight !== undefined ? data.weight : 1, critical: ynp && data.critical === true,
    allowNa: !(ynp && data.allow_na === false), min: data.min ?? null, max: data.max ?? null,
    choices: (data.choices || []).map((choice) => new Choice(choice.value, text(choice.label), choice.columns || {})),
    source: data.source ?? null, sourceStatus: data.source_status ?? null,
    calculation: expression(data, 'calculation', location), default: defaultText(data.default),
    readOnly: data.read_only === true, choiceFilter: expression(data, 'choice_filter', location, true),
    appearance: data.appearance ?? null, path: Object.freeze([...path]),
    accept: data.type === 'file' ? data.accept || 'file' : null,
    choicesFrom: data.choices_from ?? null,
  });
}

/** A default as text, as survey/checklist.py keeps it (a number is written out). */
function defaultText(value) {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

/** Every ${name} names an item, group or repeat of the checklist. */
function checkReferences(checklist, origin) {
  const names = new Set([...checklist.items.map((i) => i.id), ...checklist.containers.map((c) => c.id)]);
  const owners = [...checklist.items.map((i) => [i.id, i.expressions()]),
    ...checklist.containers.map((c) => [c.id, { relevant: c.relevant, count: c.count }])];
  for (const [name, expressions] of owners) {
    for (const [key, parsed] of Object.entries(expressions)) {
      for (const reference of parsed ? [...parsed.references, ...parsed.lastSaved].sort() : []) {
        if (!names.has(reference)) {
          throw new ChecklistError('checklist.unknown_reference', `\${${reference}} is not an item of this checklist`,
            `${origin}: ${name}.${key}`);
        }
      }
    }
  }
}

/** What each item's or container's value or visibility is computed from: the order evaluation must follow. */
export function dependencies(checklist) {
  const depends = new Map();
  const referencesOf = (parsed) => (parsed ? [...parsed.references] : []);
  for (const entry of checklist.items) {
    const used = new Set([...referencesOf(entry.relevant), ...referencesOf(entry.calculation)]);
    if (entry.path.length) used.add(entry.path[entry.path.length - 1]);
    used.delete(entry.id);
    depends.set(entry.id, [...used].sort());
  }
  for (const container of checklist.containers) {
    const used = new Set([...referencesOf(container.relevant), ...referencesOf(container.count)]);
    if (container.parent) used.add(container.parent);
    used.delete(container.id);
    depends.set(container.id, [...used].sort());
  }
  return depends;
}

// --- Answers ---------------------------------------------------------------------------------
// JavaScript has one number type: 3.0 from JSON is the integer 3 here, where Python keeps a float (not_integer).

/** Error code when an answer has the wrong shape for its item; null when fine or unanswered. */
export function validateAnswer(entry, value) {
  if (isEmpty(value)) return null;
  return VALIDATORS[entry.type](entry, value);
}

function isNumber(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

const codePointLength = (text) => Array.from(text).length;

function checkYnp(entry, value) {
  if (!YNP_VALUES.includes(value)) return 'answer.not_a_choice';
  if (value === 'tidak_berlaku' && !entry.allowNa) return 'answer.na_not_allowed';
  return null;
}

function checkRange(entry, value) {
  if (entry.min !== null && value < entry.min) return 'answer.below_min';
  if (entry.max !== null && value > entry.max) return 'answer.above_max';
  return null;
}

function checkInteger(entry, value) {
  if (!Number.isInteger(value)) return 'answer.not_integer';
  return checkRange(entry, value);
}

function checkDecimal(entry, value) {
  if (!isNumber(value)) return 'answer.not_number';
  return checkRange(entry, value);
}

// Choices taken from a repeat's answers are known only with the form's state (form.js checks them).
function checkSelectOne(entry, value) {
  const offered = typeof value === 'string' && (entry.choicesFrom !== null || entry.choiceValues.includes(value));
  return offered ? null : 'answer.not_a_choice';
}

function checkSelectMultiple(entry, value) {
  if (!Array.isArray(value)) return 'answer.not_a_list';
  if (value.some((v) => typeof v !== 'string' || (entry.choicesFrom === null && !entry.choiceValues.includes(v)))) {
    return 'answer.not_a_choice';
  }
  return new Set(value).size !== value.length ? 'answer.duplicate' : null;
}

function checkText(entry, value) {
  if (typeof value !== 'string') return 'answer.not_text';
  return codePointLength(value) > MAX_TEXT_ANSWER ? 'answer.too_long' : null;
}

/** Whether a 'YYYY-MM-DD' text is a real date (Python's date.fromisoformat). */
function isRealDate(value) {
  const [year, month, day] = value.split('-').map(Number);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= lengths[month - 1];
}

function checkDate(entry, value) {
  if (typeof value !== 'string' || !ISO_DATE.test(value) || !isRealDate(value)) return 'answer.not_a_date';
  return null;
}

function checkPhoto(entry, value) {
  if (!Array.isArray(value)) return 'answer.not_a_list';
  if (value.some((v) => typeof v !== 'string' || !SHA256.test(v))) return 'answer.bad_photo';
  return new Set(value).size !== value.length ? 'answer.duplicate' : null;
}

function checkGps(entry, value) {
  if (!isObject(value)) return 'answer.bad_gps';
  const keys = Object.keys(value).sort();
  if (keys.join(',') !== 'accuracy,lat,lon') return 'answer.bad_gps';
  const { lat, lon, accuracy } = value;
  if (![lat, lon, accuracy].every(isNumber)) return 'answer.bad_gps';
  if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && accuracy >= 0)) return 'answer.bad_gps';
  return null;
}

function checkTime(entry, value) {
  return typeof value === 'string' && TIME.test(value) ? null : 'answer.not_a_time';
}

function checkDatetime(entry, value) {
  const match = typeof value === 'string' ? DATETIME.exec(value) : null;
  if (!match || checkDate(entry, match[1]) || !TIME.test(match[2])) return 'answer.not_a_datetime';
  return null;
}

/** A calculation's result is kept as ODK keeps it: text (numbers and booleans are written as text). */
function checkComputed(entry, value) {
  if (typeof value === 'string') return codePointLength(value) > MAX_TEXT_ANSWER ? 'answer.too_long' : null;
  return isNumber(value) || typeof value === 'boolean' ? null : 'answer.not_text';
}

const VALIDATORS = {
  time: checkTime,
  datetime: checkDatetime,
  calculate: checkComputed,
  hidden: checkComputed,
  note: () => 'answer.not_answerable',
  acknowledge: (entry, value) => (value === 'OK' ? null : 'answer.not_a_choice'),
  file: checkPhoto, // hashes of stored recordings or documents, as photos
  ynp: checkYnp,
  integer: checkInteger,
  decimal: checkDecimal,
  select_one: checkSelectOne,
  select_multiple: checkSelectMultiple,
  text: checkText,
  date: checkDate,
  photo: checkPhoto,
  gps: checkGps,
};

const INTEGER = /^[+-]?\d+$/;
// '.' is what <input type=number> sends; a lone ',' is how Indonesians write a decimal point.
const DECIMAL = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

/** Python's str.strip() and str.split() on whitespace. */
const strip = (value) => value.trim();
const splitWords = (value) => value.split(/\s+/).filter((part) => part !== '');

/**
 * Typed answer from form input; null when blank. Unconvertible input is returned as given,
 * so validateAnswer reports it instead of it vanishing.
 */
export function coerceAnswer(entry, raw) {
  if (['select_multiple', 'photo', 'file'].includes(entry.type)) {
    let parts = typeof raw === 'string' ? splitWords(raw) : raw.map((part) => strip(String(part)));
    parts = parts.filter((part) => part).map((part) => (entry.type === 'select_multiple' ? part : part.toLowerCase()));
    return parts.length ? parts : null;
  }
  if (Array.isArray(raw)) {
    if (raw.length > 1) return [...raw];
    raw = raw.length ? raw[0] : '';
  }
  const value = strip(raw);
  if (!value) return null;
  const coerce = COERCERS[entry.type];
  return coerce ? coerce(value) : value;
}

function coerceInteger(value) {
  return INTEGER.test(value) ? Number(value) : value;
}

function coerceDecimal(value) {
  if (!DECIMAL.test(value) || (value.includes(',') && value.includes('.'))) return value;
  return Number(value.replace(',', '.'));
}

/** <input type=time> sends HH:MM or HH:MM:SS; seconds are kept only when not zero. */
function coerceTime(value) {
  return /^\d{2}:\d{2}(:00)?$/.test(value) ? value.slice(0, 5) : value;
}

/** <input type=datetime-local> sends YYYY-MM-DDTHH:MM; a space instead of the T is taken too. */
function coerceDatetime(value) {
  const written = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}.*$/.test(value) ? value.replace(' ', 'T') : value;
  const match = DATETIME.exec(written);
  return match ? `${match[1]}T${coerceTime(match[2])}` : written;
}

/** Python's float() of one word: digits with '_', exponents, inf and nan; null when it would raise. */
function pythonFloat(word) {
  if (/^[+-]?(inf|infinity)$/i.test(word)) return word.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(word)) return NaN;
  const digits = '\\d(?:_?\\d)*';
  const pattern = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`);
  return pattern.test(word) ? Number(word.replace(/_/g, '')) : null;
}

/** ODK writes a geopoint as 'lat lon altitude accuracy'; altitude is dropped. */
function coerceGps(value) {
  const numbers = splitWords(value).map(pythonFloat);
  if (numbers.some((number) => number === null)) return value;
  if (numbers.length === 3) return { lat: numbers[0], lon: numbers[1], accuracy: numbers[2] };
  if (numbers.length === 4) return { lat: numbers[0], lon: numbers[1], accuracy: numbers[3] };
  return value;
}

const COERCERS = {
  time: coerceTime,
  datetime: coerceDatetime,
  integer: coerceInteger,
  decimal: coerceDecimal,
  gps: coerceGps,
};
