// Runs every vector of tests/conformance/engine.json against the JavaScript engine (static/js/engine/).
// Usage: node tests/js/conformance.mjs [id-prefix]. Prints a one-line summary and each failure; exits 1 on any.
// The checks mirror tests/unit/test_conformance_expressions.py and tests/unit/test_conformance_form.py.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { ExpressionError, MappingScope, Nodeset, evaluate, parse } from '../../static/js/engine/expressions.js';
import { compute } from '../../static/js/engine/form.js';
import { progress, scoreAudit } from '../../static/js/engine/scoring.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DOCUMENT = JSON.parse(readFileSync(join(HERE, '..', 'conformance', 'engine.json'), 'utf-8'));
const SPECIAL_NUMBERS = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** A JSON answer as the engine takes it: {"nodeset": [...]} is a Nodeset. */
function answer(value) {
  if (value && typeof value === 'object' && !Array.isArray(value)
      && Object.keys(value).length === 1 && 'nodeset' in value) {
    return new Nodeset(value.nodeset);
  }
  return value;
}

/** The vector's answers, repeat position, choices, tables and choice row. */
function scopeOf(vector) {
  const answers = Object.fromEntries(Object.entries(vector.answers || {}).map(([name, v]) => [name, answer(v)]));
  return new MappingScope(answers, {
    position: vector.position ?? null, choices: vector.choices, tables: vector.tables, choice: vector.choice,
    lastSaved: vector.last_saved,
  });
}

/** Parse and evaluate one expression vector. */
function run(vector) {
  const expression = parse(vector.expression, { choiceFilter: Boolean(vector.choice_filter) });
  return evaluate(expression, scopeOf(vector), {
    current: answer(vector.current ?? null), today: vector.today ?? null, now: vector.now ?? null,
  });
}

/** A value as a failure shows it. */
function shown(value) {
  if (value instanceof Nodeset) return `Nodeset(${JSON.stringify(value.values)})`;
  if (typeof value === 'number' && !Number.isFinite(value)) return `number ${value}`;
  if (value instanceof Set) return JSON.stringify([...value].sort());
  if (value instanceof Map) return JSON.stringify(Object.fromEntries(value));
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** pytest.approx(expected, rel=1e-9, abs=1e-12). */
function close(value, expected) {
  if (value === expected) return true;
  return Math.abs(value - expected) <= Math.max(1e-9 * Math.abs(expected), 1e-12);
}

/** Booleans exactly, numbers within 1e-9 relative, special numbers by name, strings exactly; a problem or null. */
function valueProblem(value, expected) {
  if (typeof expected === 'boolean') return value === expected ? null : 'not that boolean';
  if (typeof expected === 'number') {
    return typeof value === 'number' && close(value, expected) ? null : 'not that number';
  }
  if (expected && typeof expected === 'object' && 'number' in expected) {
    const number = SPECIAL_NUMBERS[expected.number];
    const same = typeof value === 'number' && (Number.isNaN(number) ? Number.isNaN(value) : value === number);
    return same ? null : 'not that special number';
  }
  if (expected && typeof expected === 'object' && 'nodeset' in expected) {
    const same = value instanceof Nodeset && JSON.stringify(value.values) === JSON.stringify(expected.nodeset);
    return same ? null : 'not that node-set';
  }
  return typeof value === 'string' && value === expected ? null : 'not that string';
}

/** One expression vector: a failure message, or null when it holds. */
function checkExpression(vector) {
  if ('error' in vector) {
    try {
      const value = run(vector);
      return `expected error ${vector.error}, got ${shown(value)}`;
    } catch (error) {
      if (!(error instanceof ExpressionError)) return `expected error ${vector.error}, got ${error.stack}`;
      return error.code === vector.error ? null : `expected error ${vector.error}, got ${error.code}`;
    }
  }
  const value = run(vector);
  if ('matches' in vector) {
    const holds = typeof value === 'string' && new RegExp(vector.matches).test(value);
    return holds ? null : `expected a string matching ${vector.matches}, got ${shown(value)}`;
  }
  const problem = valueProblem(value, vector.expected);
  return problem === null ? null : `expected ${JSON.stringify(vector.expected)}, got ${shown(value)}`;
}

const sorted = (values) => [...values].sort();
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** One form vector: a list of failure messages (empty when it holds). */
function checkForm(vector) {
  const locale = vector.locale || 'id';
  const state = compute(vector.form, vector.answers, {
    today: vector.today ?? null, now: vector.now ?? null, locale, touched: vector.touched ?? null,
    lastSaved: vector.last_saved ?? null,
  });
  const items = new Set(state.nodes.filter(([address]) => state.relevant.has(address)).map(([address]) => address));
  const failures = [];
  const expect = (key, got, want) => {
    if (!same(got, want)) failures.push(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  };
  for (const [key, want] of Object.entries(vector.expected)) {
    if (key === 'counts') {
      expect(key, Object.fromEntries(Object.keys(want).map((a) => [a, state.counts.get(a) ?? 0])), want);
    } else if (key === 'relevant') {
      expect(key, sorted(items), sorted(want));
    } else if (key === 'relevant_includes') {
      expect(key, want.filter((a) => !items.has(a)), []);
    } else if (key === 'hidden') {
      expect(key, want.filter((a) => items.has(a)), []);
    } else if (key === 'values') {
      expect(key, Object.fromEntries(Object.keys(want).map((a) => [a, state.values.has(a) ? state.values.get(a)
        : null])), want);
    } else if (key === 'defaults') {
      expect(key, sorted(state.defaults), sorted(want));
    } else if (key === 'problems') {
      expect(key, Object.fromEntries(state.problems), want);
    } else if (key === 'missing') {
      expect(key, sorted(state.missing), sorted(want));
    } else if (key === 'choices') {
      const offered = (a) => (state.choices.get(a) || []).map((choice) => choice.value);
      expect(key, Object.fromEntries(Object.keys(want).map((a) => [a, offered(a)])), want);
    } else if (key === 'texts') {
      const texts = Object.fromEntries(Object.keys(want).map((a) => {
        const item = state.checklist.item(a.split('/').pop());
        return [a, state.text(item.label.get(locale), a)];
      }));
      expect(key, texts, want);
    } else if (key === 'progress') {
      expect(key, Object.fromEntries([...progress(state)].map(([id, counts]) => [id, counts])), want);
    } else if (key === 'score' || key === 'result' || key === 'failed_critical') {
      const got = scoreAudit(state)[key === 'failed_critical' ? 'failedCritical' : key];
      if (key === 'score' && want !== null) {
        if (!(typeof got === 'number' && close(got, want))) failures.push(`score: expected ${want}, got ${got}`);
      } else {
        expect(key, got, want);
      }
    } else {
      failures.push(`unknown expectation ${JSON.stringify(key)}`);
    }
  }
  return failures;
}

/** Every vector (or those whose id starts with the argument); the failures as [id, message]. */
function main() {
  const prefix = process.argv[2] || '';
  const vectors = DOCUMENT.vectors.filter((vector) => vector.id.startsWith(prefix));
  const failures = [];
  const ran = { expression: 0, form: 0 };
  let skipped = 0;
  for (const vector of vectors) {
    let messages;
    try {
      if (vector.area === 'expression') {
        const message = checkExpression(vector);
        messages = message === null ? [] : [message];
      } else if (vector.area === 'form') {
        messages = checkForm(vector);
      } else {
        skipped += 1; // the README: a runner takes the areas it knows and skips the others
        continue;
      }
    } catch (error) {
      messages = [`raised ${error && error.stack ? error.stack : error}`];
    }
    ran[vector.area] = (ran[vector.area] || 0) + 1;
    for (const message of messages) failures.push([vector.id, message]);
  }
  const failed = new Set(failures.map(([id]) => id)).size;
  console.log(`conformance: ${vectors.length - skipped - failed}/${vectors.length - skipped} vectors pass `
    + `(${ran.expression} expression, ${ran.form} form), ${failed} fail, ${skipped} of unknown areas skipped`);
  for (const [id, message] of failures) console.log(`FAIL ${id}: ${message}`);
  if (DOCUMENT.format !== 1) {
    console.log(`FAIL format: expected 1, got ${DOCUMENT.format}`);
    return 1;
  }
  return failures.length || !vectors.length ? 1 : 0;
}

process.exitCode = main();
