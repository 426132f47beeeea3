/**
 * GPS on the tablet: watch for a while, show each reading's accuracy live, keep the best; and the position warnings
 * geo/geofence.py gives (poor accuracy, outside the kecamatan, far from the facility), worked out offline.
 */

const WATCH_MS = 30000;
const EARTH_M = 6371008.8;

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

/** Warning codes for one reading, in geo/geofence.py's order. */
export function positionWarnings(lat, lon, accuracy, source, facility, region, limits) {
  const warnings = [];
  if (source === 'gps') {
    if (accuracy === null || accuracy === undefined) warnings.push('gps.no_accuracy');
    else if (accuracy > limits.accuracy_m) warnings.push('gps.poor_accuracy');
  }
  if (region && region.geometry && !inside(lat, lon, region.geometry)) warnings.push('gps.outside_kecamatan');
  if (facility && facility.lat !== null && facility.lat !== undefined && facility.lon !== null
      && haversine(lat, lon, facility.lat, facility.lon) > limits.distance_m) {
    warnings.push('gps.far_from_facility');
  }
  return warnings;
}
