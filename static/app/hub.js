/**
 * Talking to the hub: the sync API (/api/v1/sync/) and the field package (/api/v1/field/). Every failure becomes a
 * HubError with words for the auditor: the hub's own message (asked for in the app's language) or what the network
 * did, never a bare status or an exception's text.
 */

import { t, locale } from './texts.js';

export class HubError extends Error {
  constructor(code, message, status = 0) {
    super(message);
    this.name = 'HubError';
    this.code = code;
    this.status = status;
  }

  /** True when the hub could not be reached at all: try again later, nothing was refused. */
  get offline() {
    return this.status === 0;
  }
}

const TIMEOUT_MS = 30000;
const CLOCK_KEY = 'pantau-field-clock';
export const CLOCK_SKEW_MS = 10 * 60 * 1000;

/**
 * The tablet's clock against the hub's (its reply's Date header), kept for the screens: a tablet whose clock reset
 * to 1970 after a flat battery, or runs days ahead, dates its audits wrongly (and the hub refuses changes more than a
 * day ahead, sync.clock_ahead); the auditor is told to set the date. Kept in localStorage: a small fact, read at once.
 */
function noteClock(header) {
  const served = Date.parse(header || '');
  if (!Number.isFinite(served)) return;
  try {
    localStorage.setItem(CLOCK_KEY, JSON.stringify({ skew: Date.now() - served, hub: new Date(served).toISOString() }));
  } catch (error) { /* storage refused: the warning waits for the next reply */ }
}

/** {skew, hub}: how far the tablet's clock ran ahead of the hub's (ms, negative when behind) at the last reply. */
export function clockSkew() {
  try {
    return JSON.parse(localStorage.getItem(CLOCK_KEY) || 'null');
  } catch (error) {
    return null;
  }
}

/** fetch with the device token, a timeout and the app's language; JSON in, JSON out. */
export async function call(path, { method = 'GET', token = null, json = undefined, body = undefined,
  headers = {}, timeout = TIMEOUT_MS } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const sent = { 'X-Locale': locale(), ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    sent['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers: sent, body, signal: controller.signal, cache: 'no-store',
      credentials: 'omit' });
  } catch (error) {
    throw new HubError(controller.signal.aborted ? 'net.timeout' : 'net.down',
      controller.signal.aborted ? t('net.timeout') : t('net.down'));
  } finally {
    clearTimeout(timer);
  }
  noteClock(response.headers.get('Date'));
  if (response.status === 304) return { notModified: true, headers: response.headers };
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  if (!response.ok) {
    const problem = data && data.error;
    const message = problem && problem.message ? problem.message : t('net.refused', { status: response.status });
    throw new HubError(problem ? problem.code : `http.${response.status}`, message, response.status);
  }
  return { data, headers: response.headers };
}

/** Exchange the one-time code for the device's identity. */
export async function enroll(code, name) {
  return (await call('/api/v1/sync/enroll', { method: 'POST', json: { code, name } })).data;
}

/** How far the hub has our changes; tells the hub our own last number, so it notices a restarted sequence. */
export async function status(token, seq) {
  return (await call(`/api/v1/sync/status?seq=${encodeURIComponent(seq)}`, { token })).data;
}

/** Push one batch of our changes. */
export async function push(token, after, upTo, entries) {
  return (await call('/api/v1/sync/push', { method: 'POST', token, json: { after, up_to: upTo, entries },
    timeout: 120000 })).data;
}

/** Which of these photo hashes the hub lacks. */
export async function missingPhotos(token, shas) {
  return (await call('/api/v1/sync/photos/missing', { method: 'POST', token, json: { sha256: shas } })).data.missing;
}

/** Upload one photo's bytes under its hash. */
export async function putPhoto(token, sha, blob) {
  return (await call(`/api/v1/sync/photos/${sha}`, { method: 'PUT', token, body: blob,
    headers: { 'Content-Type': blob.type || 'application/octet-stream' }, timeout: 300000 })).data;
}

/** The field package: everything this device's kecamatan needs offline (304 when nothing changed). */
export async function fieldPackage(token, etag) {
  const headers = etag ? { 'If-None-Match': etag } : {};
  const answer = await call('/api/v1/field/package', { token, headers, timeout: 300000 });
  if (answer.notModified) return null;
  return { data: answer.data, etag: answer.headers.get('ETag'), bytes: Number(answer.headers.get('Content-Length')) };
}

/** Check an auditor's hub password once, online; afterwards they switch in with their PIN. */
export async function signOn(token, username, password) {
  return (await call('/api/v1/field/auditor', { method: 'POST', token, json: { username, password } })).data;
}
