/**
 * The state of a filled form: repeat instances, relevance, calculations, choices on offer, problems. A port of
 * survey/form.py; read its docstring for the rules (addresses, dependency order, ODK's node-set references).
 *
 * Addresses are `item`, `rep[2]/item`, `trees[1]/stems[3]/cbh`; a repeat's own address holds its number of
 * instances. An instance is an array of 1-based instance numbers, one per enclosing repeat.
 */

import {
  MAX_INSTANCES, Checklist, Choice, Text, checklistFromDict, coerceAnswer, dependencies, validateAnswer,
} from './checklist.js';
import { ExpressionError, Nodeset, evaluate, isEmpty, parse, toNumber, toString, truthy } from './expressions.js';

/** The address prefix of a repeat instance: `trees[1]/stems[3]/`; '' outside repeats. */
export function prefix(repeats, instance) {
  return repeats.slice(0, instance.length).map((name, index) => `${name}[${instance[index]}]/`).join('');
}

/** The address of a repeat instance itself: `trees[1]/stems[3]`. */
export function instanceKey(repeats, instance) {
  return prefix(repeats, instance).slice(0, -1);
}

/** The address of an item (or a repeat's count) inside the given repeat instance. */
export function addressOf(name, repeats, instance) {
  return prefix(repeats, instance) + name;
}

/** [[[repeat, number], ...], name] of an address; an Error when it is not one. */
export function splitAddress(address) {
  const steps = address.split('/');
  const name = steps.pop();
  const parsed = steps.map((step) => {
    const match = /^([^[]*)\[(\d+)\]$/.exec(step);
    if (!match) throw new Error(`not an answer address: ${JSON.stringify(address)}`);
    return [match[1], Number(match[2])];
  });
  return [parsed, name];
}

/** The item (or repeat) id an address names. */
export function itemOf(address) {
  return address.slice(address.lastIndexOf('/') + 1);
}

/** An own property of the answers object (never one inherited from Object.prototype). */
function answerAt(answers, address) {
  return Object.prototype.hasOwnProperty.call(answers, address) ? answers[address] : undefined;
}

/** Everything the page, the save and the score need to know about a form's answers at once. */
export class FormState {
  constructor(checklist, answers, touched = null) {
    this.checklist = checklist;
    this.answers = answers;
    this.nodes = []; // [address, item, instance], file order
    this.counts = new Map(); // repeat count address -> instances
    this.totals = new Map(); // repeat id -> its instances in all enclosing instances
    this.relevant = new Set(); // addresses of relevant items and container instances
    this.values = new Map(); // what expressions see: relevant answers, calculations
    this.problems = new Map(); // address -> answer problem code
    this.missing = []; // relevant, required, unanswered addresses
    this.choices = new Map(); // filtered choices by address
    this.defaults = new Set(); // addresses whose value is their item's default, never touched
    this.touched = touched; // addresses ever saved; null: every address counts as touched
    this._visible = null;
    this._evaluation = null;
  }

  /** The instance numbers of a repeat inside a parent instance (of its enclosing repeats). */
  instances(repeatId, parent = []) {
    const repeats = this.checklist.repeatsOf(this.checklist.container(repeatId));
    const count = this.counts.get(addressOf(repeatId, repeats.slice(0, -1), parent)) || 0;
    return Array.from({ length: count }, (_, index) => index + 1);
  }

  isRelevant(address) {
    return this.relevant.has(address);
  }

  /** A label or hint with its ${name} references filled in as seen from an address (ODK output values). */
  text(text, address) {
    if (!text.includes('${') || this._evaluation === null) return text;
    const [steps] = splitAddress(address);
    const scope = new Scope(this._evaluation, steps.map(([repeat]) => repeat), steps.map(([, number]) => number));
    return text.replace(OUTPUT, (_, name) => shown(scope.value(name)));
  }

  /** Whether a relevant answer is saved and has no problem: what progress counts as done. */
  answered(address) {
    return this.relevant.has(address) && this.visible.has(address) && !this.problems.has(address);
  }

  /** Relevant, non-empty answers given by the auditor (not calculations). */
  get visible() {
    if (this._visible === null) {
      const answerable = new Set(this.nodes.filter(([, entry]) => entry.isAnswerable).map(([address]) => address));
      this._visible = new Map([...this.values].filter(([address]) => answerable.has(address)));
    }
    return this._visible;
  }
}

/**
 * The state of a form for these answers. `checklist` is a Checklist or its plain data; `today` is 'YYYY-MM-DD',
 * `now` an ISO date-time with its offset, `locale` picks jr:choice-name's labels. `touched` holds the addresses
 * the auditor has ever saved (even cleared); an item with a `default` takes it until touched, as ODK fills
 * defaults into a new form or repeat instance. null means every address is touched.
 */
export function compute(checklist, answers,
  { today = null, now = null, locale = 'id', touched = null, lastSaved = null } = {}) {
  const model = checklist instanceof Checklist ? checklist : checklistFromDict(checklist);
  const state = new FormState(model, answers || {}, touched === null || touched === undefined ? null
    : new Set(touched));
  const evaluation = new Evaluation(state, today, now, locale, state.touched);
  evaluation.lastSavedAnswers = lastSaved || {};  // ${last-saved#x}: the form saved before, by address
  evaluation.run();
  return state;
}

/** Lexicographic order of two arrays of numbers, a prefix first (Python's tuple order). */
function compareKeys(left, right) {
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    if (left[index] !== right[index]) return left[index] - right[index];
  }
  return left.length - right.length;
}

/** One pass over the names of a checklist in dependency order. */
class Evaluation {
  constructor(state, today, now, locale, touched) {
    Object.assign(this, { state, today, now, locale, touched });
    state._evaluation = this;
    this.checklist = state.checklist;
    this.order = evaluationOrder(this.checklist);
    this.items = new Map(this.checklist.items.map((entry) => [entry.id, entry]));
    this.positions = new Map(this.checklist.items.map((entry, index) => [entry.id, index]));
    this.first = new Map(); // container id -> file position of its first item
    this.checklist.items.forEach((entry, index) => {
      for (const containerId of entry.path) if (!this.first.has(containerId)) this.first.set(containerId, index);
    });
  }

  run() {
    for (const name of this.order) {
      if (this.items.has(name)) {
        this.item(this.items.get(name));
      } else {
        this.container(this.checklist.container(name));
      }
    }
    const { state } = this;
    const keys = new Map(state.nodes.map((node) => [node[0], this.documentKey(node)]));
    state.nodes.sort((left, right) => compareKeys(keys.get(left[0]), keys.get(right[0])));
    for (const [address, entry, instance] of state.nodes) {
      if (state.relevant.has(address) && entry.isAnswerable) this.check(address, entry, instance);
    }
  }

  /** File order of instances: an instance's items together, instances in number order. */
  documentKey([, entry, instance]) {
    const repeats = this.checklist.repeatsOf(entry);
    const key = [];
    // Sort by the position of each enclosing repeat's first item, then the instance number.
    repeats.forEach((repeatId, depth) => key.push(this.first.get(repeatId), instance[depth]));
    key.push(this.positions.get(entry.id));
    return key;
  }

  // -- names --

  /** Every instance of a chain of repeats, in order (one empty instance outside repeats). */
  parentInstances(repeats) {
    let instances = [[]];
    repeats.forEach((repeatId, depth) => {
      const grown = [];
      for (const instance of instances) {
        const count = this.state.counts.get(addressOf(repeatId, repeats.slice(0, depth), instance)) || 0;
        for (let number = 1; number <= count; number += 1) grown.push([...instance, number]);
      }
      instances = grown;
    });
    return instances;
  }

  container(container) {
    const { checklist, state } = this;
    const repeats = checklist.repeatsOf(container);
    const outer = container.type === 'repeat' ? repeats.slice(0, -1) : repeats;
    for (const instance of this.parentInstances(outer)) {
      const here = addressOf(container.id, outer, instance);
      if (this.enclosingRelevant(container.parent, outer, instance) && this.isTrue(container.relevant, outer,
        instance)) {
        state.relevant.add(here);
      }
      if (container.type === 'repeat') {
        // At most MAX_INSTANCES of a repeat in all, taken by its enclosing instances in order (survey/form.py).
        const used = state.totals.get(container.id) || 0;
        state.counts.set(here, Math.min(this.count(container, outer, instance, here), MAX_INSTANCES - used));
        state.totals.set(container.id, used + state.counts.get(here));
        if (state.relevant.has(here)) {
          for (let number = 1; number <= state.counts.get(here); number += 1) {
            state.relevant.add(instanceKey(repeats, [...instance, number]));
          }
        }
      }
    }
  }

  count(container, outer, instance, here) {
    let number;
    if (container.count !== null) {
      number = toNumber(this.evaluate(container.count, outer, instance));
    } else {
      const stored = answerAt(this.state.answers, here);
      number = typeof stored === 'number' ? stored : 0;
    }
    if (Number.isNaN(number) || number < 0) return 0;
    return Math.min(Math.trunc(number), MAX_INSTANCES);
  }

  /** Whether the container around something is relevant at this instance (true outside containers). */
  enclosingRelevant(containerId, repeats, instance) {
    if (containerId === null) return true;
    const container = this.checklist.container(containerId);
    if (container.type === 'repeat') {
      const depth = repeats.includes(containerId) ? repeats.indexOf(containerId) : repeats.length - 1;
      return this.state.relevant.has(instanceKey(repeats.slice(0, depth + 1), instance.slice(0, depth + 1)));
    }
    const depth = this.checklist.repeatsOf(container).length;
    return this.state.relevant.has(addressOf(containerId, repeats.slice(0, depth), instance.slice(0, depth)));
  }

  item(entry) {
    const { checklist, state } = this;
    const repeats = checklist.repeatsOf(entry);
    const parent = entry.path.length ? entry.path[entry.path.length - 1] : null;
    for (const instance of this.parentInstances(repeats)) {
      const address = addressOf(entry.id, repeats, instance);
      state.nodes.push([address, entry, instance]);
      if (!(this.enclosingRelevant(parent, repeats, instance) && this.isTrue(entry.relevant, repeats, instance))) {
        continue;
      }
      state.relevant.add(address);
      const answer = answerAt(state.answers, address);
      if (entry.calculation !== null) {
        const value = this.evaluate(entry.calculation, repeats, instance, answer ?? null);
        state.values.set(address, toString(value));
      } else if (!isEmpty(answer)) {
        state.values.set(address, answer);
      } else if (entry.default !== null && this.touched !== null && !this.touched.has(address)) {
        const value = this.defaultOf(entry, repeats, instance);
        if (!isEmpty(value)) {
          state.values.set(address, value);
          state.defaults.add(address);
        }
      }
    }
  }

  /** An item's default: a literal, or an expression such as today() evaluated where it applies. */
  defaultOf(entry, repeats, instance) {
    const text = entry.default;
    if (text.includes('(') || text.includes('${')) {
      try {
        return toString(this.evaluate(parse(text), repeats, instance));
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        // not an expression after all: the text itself is the default
      }
    }
    return coerceAnswer(entry, text);
  }

  // -- checks --

  check(address, entry, instance) {
    const { state } = this;
    const repeats = this.checklist.repeatsOf(entry);
    const value = state.values.has(address) ? state.values.get(address) : null;
    if (entry.choicesFrom !== null) state.choices.set(address, this.answeredChoices(entry, repeats, instance));
    else if (entry.choiceFilter !== null) state.choices.set(address, this.filteredChoices(entry, repeats, instance));
    if (value === null) {
      if (entry.required || (entry.requiredIf !== null && this.isTrue(entry.requiredIf, repeats, instance))) {
        state.missing.push(address);
      }
      return;
    }
    let code = validateAnswer(entry, value);
    if (code === null && (entry.choiceFilter !== null || entry.choicesFrom !== null)) {
      const offered = new Set(state.choices.get(address).map((choice) => choice.value));
      const chosen = Array.isArray(value) ? value : [value];
      code = chosen.every((v) => offered.has(v)) ? null : 'answer.not_a_choice';
    }
    if (code === null && entry.constraint !== null
        && !truthy(this.evaluate(entry.constraint, repeats, instance, value))) {
      code = 'answer.constraint';
    }
    if (code) state.problems.set(address, code);
  }

  /** `select_one ${name}`: each different answer `name` got (in entry order) is a choice, its own label. */
  answeredChoices(entry, repeats, instance) {
    // A choice_filter is read in each entry, as ODK reads it inside the repeat: `${umur} > 5` is that entry's.
    const name = entry.choicesFrom;
    const target = this.checklist.repeatsOf(this.items.get(name));
    const here = new Scope(this, repeats, instance);
    const seen = [];
    for (const each of here.instancesBelow(target, shared(repeats, target))) {
      if (entry.choiceFilter !== null && !this.isTrue(entry.choiceFilter, target, each)) continue;
      const address = addressOf(name, target, each);
      const text = toString(this.state.values.has(address) ? this.state.values.get(address) : '').trim();
      if (text && !seen.includes(text)) seen.push(text);
    }
    return seen.map((value) => new Choice(value, new Text(value, value), {}));
  }

  /** The choices a choice_filter leaves on offer for this instance. */
  filteredChoices(entry, repeats, instance) {
    return entry.choices.filter((choice) => truthy(this.evaluate(entry.choiceFilter, repeats, instance, null,
      choice)));
  }

  // -- expressions --

  isTrue(expression, repeats, instance) {
    return expression === null || truthy(this.evaluate(expression, repeats, instance));
  }

  evaluate(expression, repeats, instance, current = null, choice = null) {
    const scope = new Scope(this, repeats, instance, choice);
    return evaluate(expression, scope, { current, today: this.today, now: this.now });
  }
}

/** What `${name}`, position(..), jr:choice-name() and pulldata() mean at one repeat instance (a Scope). */
class Scope {
  constructor(evaluation, repeats, instance, choice = null) {
    Object.assign(this, { evaluation, repeats, instance, choice });
    this.checklist = evaluation.checklist;
  }

  value(name) {
    const target = this.repeatsOfName(name);
    if (target === null) return '';
    const count = shared(this.repeats, target);
    if (count === target.length && !this.isRepeat(name)) {
      const address = addressOf(name, target, this.instance.slice(0, count));
      const values = this.evaluation.state.values;
      return values.has(address) ? values.get(address) : '';
    }
    return this.nodeset(name, target, count);
  }

  instances(name) {
    const target = this.repeatsOfName(name);
    if (target === null) return new Nodeset();
    const count = Math.min(shared(this.repeats, target), Math.max(target.length - 1, 0));
    return this.nodeset(name, target, count);
  }

  position() {
    return this.instance.length ? this.instance[this.instance.length - 1] : null;
  }

  /** ${last-saved#name}: its answer in the form saved before, at the same place ('' when none). */
  lastSaved(name) {
    const target = this.repeatsOfName(name);
    if (target === null) return '';
    const count = shared(this.repeats, target);
    if (count < target.length) return '';  // an entry of the earlier form cannot be told from here
    const value = (this.evaluation.lastSavedAnswers || {})[addressOf(name, target, this.instance.slice(0, count))];
    return value === undefined || value === null ? '' : value;
  }

  /** indexed-repeat with pairs: the value of `name` in the named entries (the others as seen from here). */
  at(name, steps) {
    const target = this.repeatsOfName(name);
    if (target === null) return '';
    const chosen = new Map(steps);
    const instance = [];
    for (let depth = 0; depth < target.length; depth++) {
      const repeat = target[depth];
      if (chosen.has(repeat)) instance.push(chosen.get(repeat));
      else if (depth < this.repeats.length && this.repeats[depth] === repeat) instance.push(this.instance[depth]);
      else return '';  // an enclosing entry neither named nor shared with here
    }
    const address = addressOf(name, target, instance);
    return this.evaluation.state.values.has(address) ? this.evaluation.state.values.get(address) : '';
  }

  choiceLabel(itemId, value) {
    const entry = this.evaluation.items.get(itemId);
    for (const choice of entry ? entry.choices : []) {
      if (choice.value === value) return choice.label.get(this.evaluation.locale);
    }
    return null;
  }

  lookup(table, column, keyColumn, key) {
    for (const row of this.checklist.table(table)) {
      if (row[keyColumn] === key) return Object.prototype.hasOwnProperty.call(row, column) ? row[column] : '';
    }
    return '';
  }

  choiceColumn(name) {
    return this.choice !== null ? this.choice.column(name) : '';
  }

  // -- helpers --

  isRepeat(name) {
    return this.checklist.hasContainer(name) && this.checklist.container(name).type === 'repeat';
  }

  repeatsOfName(name) {
    if (this.evaluation.items.has(name)) return this.checklist.repeatsOf(this.evaluation.items.get(name));
    if (this.checklist.hasContainer(name)) return this.checklist.repeatsOf(this.checklist.container(name));
    return null;
  }

  /** The values of a name over every instance of its repeats below the shared instance. */
  /** Every instance of a chain of repeats below the instance this scope shares with it, in order. */
  instancesBelow(target, count) {
    const { state } = this.evaluation;
    let instances = [this.instance.slice(0, count)];
    for (let depth = count; depth < target.length; depth += 1) {
      const grown = [];
      for (const instance of instances) {
        const number = state.counts.get(addressOf(target[depth], target.slice(0, depth), instance)) || 0;
        for (let index = 1; index <= number; index += 1) grown.push([...instance, index]);
      }
      instances = grown;
    }
    return instances;
  }

  nodeset(name, target, count) {
    const { state } = this.evaluation;
    const instances = this.instancesBelow(target, count);
    const repeat = this.isRepeat(name);
    return new Nodeset(instances.map((instance) => {
      if (repeat) return ''; // a repeat instance as a node: count(${rep}) counts them
      const address = addressOf(name, target, instance);
      return state.values.has(address) ? state.values.get(address) : '';
    }));
  }
}

const OUTPUT = /\$\{([A-Za-z0-9_]+)\}/g;

/** A value inside a label: a node-set shows its values joined, as a list of choices does. */
function shown(value) {
  if (value instanceof Nodeset) return value.values.map(toString).filter((part) => part).join(', ');
  return toString(value);
}

/** How many enclosing repeats two chains share from the outside in. */
function shared(context, target) {
  let count = 0;
  while (count < Math.min(context.length, target.length) && context[count] === target[count]) count += 1;
  return count;
}

/** Names in dependency order, ties in file order (containers before the items they hold). */
function evaluationOrder(checklist) {
  const depends = dependencies(checklist);
  const rank = new Map();
  for (const entry of checklist.items) {
    for (const containerId of entry.path) if (!rank.has(containerId)) rank.set(containerId, rank.size);
    if (!rank.has(entry.id)) rank.set(entry.id, rank.size);
  }
  // A container holding no item has no rank in Python either; it goes last here rather than failing.
  const rankOf = (name) => (rank.has(name) ? rank.get(name) : Infinity);
  const waiting = new Map([...depends].map(([name, deps]) => [name, new Set(deps.filter((d) => rank.has(d)))]));
  const dependents = new Map([...waiting.keys()].map((name) => [name, []]));
  for (const [name, deps] of waiting) for (const dependency of deps) dependents.get(dependency).push(name);
  // A small priority queue by rank: checklists hold hundreds of names, so a linear scan is fast enough.
  const ready = [...waiting].filter(([, deps]) => !deps.size).map(([name]) => name);
  const popReady = () => {
    let best = 0;
    for (let index = 1; index < ready.length; index += 1) if (rankOf(ready[index]) < rankOf(ready[best])) best = index;
    return ready.splice(best, 1)[0];
  };
  const order = [];
  const done = new Set();
  while (done.size < waiting.size) {
    let name;
    if (ready.length) {
      name = popReady();
    } else { // a cycle slipped through validation: break it in file order
      name = [...waiting.keys()].filter((n) => !done.has(n)).reduce((a, b) => (rankOf(b) < rankOf(a) ? b : a));
    }
    if (done.has(name)) continue;
    done.add(name);
    order.push(name);
    for (const dependent of dependents.get(name)) {
      waiting.get(dependent).delete(name);
      if (!waiting.get(dependent).size && !done.has(dependent)) ready.push(dependent);
    }
  }
  return order;
}
