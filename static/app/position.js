/**
 * GPS on the tablet: watch for a while, show each reading's accuracy live, keep the best; and what geo/geofence.py
 * decides of a position, worked out offline: its warnings (poor accuracy, outside the kecamatan, far from the
 * facility), refused beyond `far_m` of the kecamatan, confirmed first when set by hand outside it.
 */

const WATCH_MS = 30000;
const EARTH_M = 6371008.8;
export const BORDER_TOLERANCE_M = 25; // geo/geofence.py: shared borders overlap or leave slivers this wide
export const FAR_OUTSIDE_M = 100000; // geo/geofence.py FAR_OUTSIDE_M, when the package names no far_m

/**
 * Watch the position until a reading is at least as good as `target` metres or WATCH_MS pass; `onDone(best, problem)`
 * gets the best reading ({lat, lon, accuracy, at}) or null with a text key. Returns a function that stops early.
 */
export function watchBest({ target, onReading, onDone }) {
  if (!('geolocation' in navigator)) {
    onDone(null, 'position.unavailable');
    return () => {};
  }
  let best = null;
  let finished = false;
  const finish = (problem = null) => {
    if (finished) return;
    finished = true;
    navigator.geolocation.clearWatch(watch);
    clearTimeout(timer);
    onDone(best, best ? null : problem);
  };
  const watch = navigator.geolocation.watchPosition((position) => {
    const reading = { lat: position.coords.latitude, lon: position.coords.longitude,
      accuracy: position.coords.accuracy, at: new Date(position.timestamp || Date.now()).toISOString() };
    if (!best || reading.accuracy < best.accuracy) best = reading;
    onReading(reading);
    if (reading.accuracy <= target) finish();
  }, (error) => {
    finish(error.code === 1 ? 'position.denied' : 'position.failed');
  }, { enableHighAccuracy: true, maximumAge: 0, timeout: WATCH_MS });
  const timer = setTimeout(() => finish('position.failed'), WATCH_MS);
  return () => finish('position.failed');
}

/** Great-circle distance in metres (geo/distance.py haversine_m). */
export function haversine(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Whether a point lies inside a GeoJSON Polygon or MultiPolygon (even-odd rule, holes included). */
export function inside(lat, lon, geometry) {
  if (!geometry) return true;
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates]
    : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  return polygons.some((rings) => rings.reduce((within, ring) => within !== crosses(ring, lon, lat), false));
}

function crosses(ring, x, y) {
  let odd = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

/**
 * Metres from a point to the nearest edge of a GeoJSON Polygon or MultiPolygon, 0 inside it
 * (geo.geofence.distance_outside_m), in a flat projection around the point: close enough for 25 m and 100 km.
 */
export function distanceOutside(lat, lon, geometry) {
  if (!geometry || inside(lat, lon, geometry)) return 0;
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates]
    : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  const rad = Math.PI / 180;
  const kx = EARTH_M * rad * Math.cos(lat * rad);
  const ky = EARTH_M * rad;
  let best = Infinity;
  for (const rings of polygons) {
    for (const ring of rings) {
      for (let i = 1; i < ring.length; i += 1) {
        const ax = (ring[i - 1][0] - lon) * kx;
        const ay = (ring[i - 1][1] - lat) * ky;
        const dx = (ring[i][0] - lon) * kx - ax;
        const dy = (ring[i][1] - lat) * ky - ay;
        const length = dx * dx + dy * dy;
        const along = length ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / length)) : 0;
        best = Math.min(best, Math.hypot(ax + along * dx, ay + along * dy));
      }
    }
  }
  return Number.isFinite(best) ? best : 0;
}

function facilityDistance(lat, lon, facility) {
  return facility && facility.lat !== null && facility.lat !== undefined && facility.lon !== null
    && facility.lon !== undefined ? haversine(lat, lon, facility.lat, facility.lon) : null;
}

/**
 * geo.geofence.decide: {verdict: 'accept' | 'confirm' | 'refuse', km}. Beyond `far_m` of the kecamatan (without its
 * outline, of the facility) nothing can be the audit's position; a hand-set point outside the kecamatan is confirmed.
 */
export function decide(lat, lon, source, facility, region, limits) {
  const outsideBy = region && region.geometry ? distanceOutside(lat, lon, region.geometry) : null;
  const far = outsideBy !== null ? outsideBy : facilityDistance(lat, lon, facility);
  if (far !== null && far > (limits.far_m ?? FAR_OUTSIDE_M)) return { verdict: 'refuse', km: Math.round(far / 1000) };
  if (outsideBy !== null && outsideBy > BORDER_TOLERANCE_M && (source === 'manual' || source === 'map')) {
    return { verdict: 'confirm', km: (outsideBy / 1000).toFixed(1) };
  }
  return { verdict: 'accept' };
}

/** Warning codes for one reading, in geo/geofence.py's order. */
export function positionWarnings(lat, lon, accuracy, source, facility, region, limits) {
  const warnings = [];
  if (source === 'gps') {
    if (accuracy === null || accuracy === undefined) warnings.push('gps.no_accuracy');
    else if (accuracy > limits.accuracy_m) warnings.push('gps.poor_accuracy');
  }
  if (region && region.geometry && distanceOutside(lat, lon, region.geometry) > BORDER_TOLERANCE_M) {
    warnings.push('gps.outside_kecamatan');
  }
  if (facility && facility.lat !== null && facility.lat !== undefined && facility.lon !== null
      && haversine(lat, lon, facility.lat, facility.lon) > limits.distance_m) {
    warnings.push('gps.far_from_facility');
  }
  return warnings;
}
