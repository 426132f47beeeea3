/**
 * Scoring of a facility audit against its checklist: a port of survey/scoring.py (read its docstring for the rules).
 *
 * Weights add up exactly, as Python's Fractions do: each weight is read from its shortest decimal text (0.1 is one
 * tenth, not the nearest double) into a BigInt fraction, so the threshold test never errs by a rounding.
 */

import { compute } from './form.js';

export const MEMENUHI = 'memenuhi';
export const BELUM_MEMENUHI = 'belum_memenuhi';

const CRITICAL_FAILURES = ['tidak', 'sebagian'];

function gcd(a, b) {
  let [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  while (y) [x, y] = [y, x % y];
  return x;
}

/** An exact rational number with a positive denominator. */
export class Fraction {
  constructor(numerator, denominator = 1n) {
    if (denominator === 0n) throw new RangeError('zero denominator');
    const sign = denominator < 0n ? -1n : 1n;
    const divisor = gcd(numerator, denominator) || 1n;
    this.numerator = (sign * numerator) / divisor;
    this.denominator = (sign * denominator) / divisor;
    Object.freeze(this);
  }

  /** A finite number exactly as its shortest decimal text says (Python's Fraction(str(x))). */
  static fromNumber(number) {
    if (!Number.isFinite(number)) throw new RangeError(`not a finite number: ${number}`);
    const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(number));
    const [, sign, whole, fraction = '', exponent = '0'] = match;
    const scale = Number(exponent) - fraction.length;
    let numerator = BigInt(`${sign}${whole}${fraction}`);
    let denominator = 1n;
    if (scale >= 0) numerator *= 10n ** BigInt(scale);
    else denominator = 10n ** BigInt(-scale);
    return new Fraction(numerator, denominator);
  }

  add(other) {
    return new Fraction(this.numerator * other.denominator + other.numerator * this.denominator,
      this.denominator * other.denominator);
  }

  multiply(other) {
    return new Fraction(this.numerator * other.numerator, this.denominator * other.denominator);
  }

  divide(other) {
    return new Fraction(this.numerator * other.denominator, this.denominator * other.numerator);
  }

  isZero() {
    return this.numerator === 0n;
  }

  /** Whether this is at least another (denominators are positive, so cross-multiplying keeps the order). */
  atLeast(other) {
    return this.numerator * other.denominator >= other.numerator * this.denominator;
  }

  /** The nearest double, even when numerator and denominator are too large for one. */
  toNumber() {
    const shift = (value) => value.toString(2).length;
    const excess = BigInt(Math.max(0, Math.max(shift(this.numerator), shift(this.denominator)) - 1000));
    return Number(this.numerator >> excess) / Number(this.denominator >> excess);
  }
}

const ZERO = new Fraction(0n);

// Share of an item's weight that each ynp answer earns; tidak_berlaku is not applicable at all.
const EARNED_SHARE = new Map([['ya', new Fraction(1n)], ['sebagian', new Fraction(1n, 2n)], ['tidak', ZERO]]);

/** Running weights of a section or an audit; Fractions keep the threshold test exact. */
class Tally {
  constructor() {
    this.applicable = ZERO;
    this.earned = ZERO;
  }

  score() {
    return this.applicable.isZero() ? null : this.earned.divide(this.applicable).toNumber();
  }
}

function weightOf(entry) {
  return Fraction.fromNumber(entry.weight);
}

/** The form state scoring and the page read (form.js compute), or the one given. */
function stateOf(checklist, answers, options, state) {
  return state || compute(checklist, answers, options);
}

/**
 * Per section id, in order: [answered, relevant] counts of the questions the auditor answers.
 * An answer with a problem is kept but not counted as answered. Every repeat instance counts.
 * Takes a FormState, or (checklist, answers, options) to compute one.
 */
export function progress(stateOrChecklist, answers = {}, options = {}) {
  const state = stateOrChecklist && stateOrChecklist.nodes ? stateOrChecklist : stateOf(stateOrChecklist, answers,
    options, null);
  const { checklist } = state;
  const counts = new Map(checklist.sections.map((section) => [section.id, [0, 0]]));
  for (const [address, entry] of state.nodes) {
    if (entry.isAnswerable && state.relevant.has(address)) {
      const tally = counts.get(checklist.sectionOf(entry.id).id);
      tally[1] += 1;
      tally[0] += state.answered(address) ? 1 : 0;
    }
  }
  return counts;
}

/**
 * Score an audit's answers against its checklist; a scored item inside a repeat counts once per instance.
 * Takes a FormState, or (checklist, answers, options) to compute one. Returns {score, result, applicableWeight,
 * earnedWeight, failedCritical, missingRequired, invalid, perSection, isComplete}.
 */
export function scoreAudit(stateOrChecklist, answers = {}, options = {}) {
  const state = stateOrChecklist && stateOrChecklist.nodes ? stateOrChecklist : stateOf(stateOrChecklist, answers,
    options, null);
  const { checklist } = state;
  const tallies = new Map(checklist.sections.map((section) => [section.id, new Tally()]));
  const failures = new Map(checklist.sections.map((section) => [section.id, []]));
  for (const [address, entry] of state.nodes) {
    if (!state.relevant.has(address) || entry.type !== 'ynp') continue; // a critical ynp of weight 0 still fails
    const sectionId = checklist.sectionOf(entry.id).id;
    const problem = state.problems.get(address);
    const value = problem ? null : (state.values.has(address) ? state.values.get(address) : null);
    count(entry, value, tallies.get(sectionId));
    if (entry.critical && CRITICAL_FAILURES.includes(value)) failures.get(sectionId).push(address);
  }
  const total = new Tally();
  const perSection = [];
  const failed = [];
  for (const section of checklist.sections) {
    const tally = tallies.get(section.id);
    const sectionFailed = failures.get(section.id);
    total.applicable = total.applicable.add(tally.applicable);
    total.earned = total.earned.add(tally.earned);
    failed.push(...sectionFailed);
    perSection.push({ sectionId: section.id, score: tally.score(), applicableWeight: tally.applicable.toNumber(),
      earnedWeight: tally.earned.toNumber(), failedCritical: sectionFailed });
  }
  const missingRequired = [...state.missing];
  const invalid = [...state.problems];
  return {
    score: total.score(), result: resultOf(checklist, total, failed),
    applicableWeight: total.applicable.toNumber(), earnedWeight: total.earned.toNumber(),
    failedCritical: failed, missingRequired, invalid, perSection,
    isComplete: !missingRequired.length && !invalid.length,
  };
}

/** Add a scored item's weight; invalid answers arrive as null and earn nothing. */
function count(entry, value, tally) {
  if (!entry.isScored || value === 'tidak_berlaku') return;
  const weight = weightOf(entry);
  tally.applicable = tally.applicable.add(weight);
  tally.earned = tally.earned.add(weight.multiply(EARNED_SHARE.get(value) || ZERO));
}

function resultOf(checklist, total, failed) {
  if (failed.length) return BELUM_MEMENUHI;
  if (total.applicable.isZero()) return null;
  const threshold = Fraction.fromNumber(checklist.scoring.memenuhiMin);
  return total.earned.divide(total.applicable).atLeast(threshold) ? MEMENUHI : BELUM_MEMENUHI;
}
