// The field app's position rules (static/app/position.js) on cases given as JSON on stdin; prints results.
// tests/test_js_position.py compares them with geo/geofence.py, which the desktop and the hub use.
import { readFileSync } from 'node:fs';

import { decide, distanceOutside, positionWarnings } from '../../static/app/position.js';

const { region, limits, cases } = JSON.parse(readFileSync(0, 'utf-8'));
const out = cases.map(({ lat, lon, accuracy, source, facility, outline }) => {
  const where = outline ? region : { ...region, geometry: null };
  return { outside_m: outline ? distanceOutside(lat, lon, region.geometry) : null,
    verdict: decide(lat, lon, source, facility, where, limits).verdict,
    warnings: positionWarnings(lat, lon, accuracy, source, facility, where, limits) };
});
process.stdout.write(JSON.stringify(out));
