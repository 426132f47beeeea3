/**
 * Hybrid logical clocks as sync/hlc.py has them: "0001795000000000.0003" (milliseconds, counter), string order is
 * time order, never backwards even when the tablet's clock is. And the canonical JSON that hashes and bundle
 * signatures are over (sync/changes.py canonical: sorted keys, no spaces, UTF-8).
 */

export const ZERO = '0000000000000000.0000';
const MAX_MS = 253402300799999;
const MAX_COUNTER = 9999;
const MAX_SKEW_MS = 24 * 3600 * 1000;
const PATTERN = /^\d{16}\.\d{4}$/;

export function encode(ms, counter) {
  return `${String(ms).padStart(16, '0')}.${String(counter).padStart(4, '0')}`;
}

export function decode(value) {
  if (typeof value !== 'string' || !PATTERN.test(value)) throw new Error(`not an HLC: ${value}`);
  return [Number(value.slice(0, 16)), Number(value.slice(17))];
}

/** The largest timestamp issued at wall-clock time `nowMs`. */
export function ceiling(nowMs) {
  return encode(Math.min(Math.max(nowMs, 0) + MAX_SKEW_MS, MAX_MS), MAX_COUNTER);
}

/** The next timestamp after `last` (sync/hlc.py tick). */
export function tick(last, nowMs = Date.now()) {
  const now = Math.min(Math.max(nowMs, 0), MAX_MS);
  const bound = ceiling(now);
  const previous = (last || ZERO) < bound ? (last || ZERO) : bound;
  const [lastMs, counter] = decode(previous);
  if (now > lastMs) return encode(now, 0);
  if (counter < MAX_COUNTER) return encode(lastMs, counter + 1);
  if (lastMs < MAX_MS) return encode(lastMs + 1, 0);
  throw new Error('the clock is at its last timestamp');
}

/** The clock after seeing another node's timestamp: never below it, never beyond now + a day. */
export function observe(last, seen, nowMs = Date.now()) {
  const bound = ceiling(nowMs);
  const larger = (last || ZERO) > (seen || ZERO) ? (last || ZERO) : (seen || ZERO);
  return larger < bound ? larger : bound;
}

/** A random UUID (version 4). */
export function uuid() {
  return crypto.randomUUID();
}

/** Python's json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False). */
export function canonical(value) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('not a finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort(byCodePoint);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
}

/** Python's string order (code points), which differs from JavaScript's (UTF-16 units) above U+FFFF. */
function byCodePoint(left, right) {
  const a = Array.from(left);
  const b = Array.from(right);
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const difference = a[index].codePointAt(0) - b[index].codePointAt(0);
    if (difference) return difference;
  }
  return a.length - b.length;
}

/** Hex SHA-256 of bytes (SubtleCrypto). */
export async function sha256Hex(bytes) {
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

/** Hex HMAC-SHA256 of a text with a text key, as sync/bundle.py sign. */
export async function hmacHex(keyText, text) {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(keyText), { name: 'HMAC', hash: 'SHA-256' },
    false, ['sign']);
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
