// The field app's clock and canonical JSON (static/app/clock.js) on cases given as JSON on stdin; prints results.
// tests/test_js_clock.py compares them with sync/hlc.py and sync/changes.py canonical, which the hub uses.
import { readFileSync } from 'node:fs';

import { canonical, hmacHex, observe, tick } from '../../static/app/clock.js';

const cases = JSON.parse(readFileSync(0, 'utf-8'));
const out = {
  tick: cases.tick.map(([last, now]) => { try { return tick(last, now); } catch (error) { return 'error'; } }),
  observe: cases.observe.map(([last, seen, now]) => observe(last, seen, now)),
  canonical: cases.canonical.map((value) => canonical(value)),
  hmac: await Promise.all(cases.hmac.map(([key, text]) => hmacHex(key, text))),
};
process.stdout.write(JSON.stringify(out));
