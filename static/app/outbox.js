/**
 * The outbox: the app's own changes the hub has not acknowledged, pushed in order with the photos the hub lacks,
 * resumable (each batch is acknowledged by itself; a change leaves the outbox only then). And *Export unsent*: the
 * same changes as a signed bundle file (sync/bundle.py) for a USB stick or a chat app.
 *
 * One sync at a time on this tablet, whatever the number of tabs (Web Locks).
 */

import { strToU8, zipSync } from '/static/vendor/fflate/browser.js';

import { canonical, hmacHex, sha256Hex } from './clock.js';
import { database, meta, setMeta } from './db.js';
import * as hub from './hub.js';
import { extension } from './photos.js';
import { t } from './texts.js';
import { lastSeq, unsent } from './store.js';

export const BATCH = 50; // changes per push: an audit with its answers is a few kB
const LOCK = 'pantau-field-sync';

/** Photo hashes a change's audit names. */
export function photosOf(change) {
  const photos = (change.payload && change.payload.photos) || {};
  return [...new Set(Object.values(photos).flat())];
}

/** The device record, or an Error when the app is not enrolled. */
async function device() {
  const record = await meta('device');
  if (!record) throw new hub.HubError('field.not_enrolled', 'not enrolled');
  return record;
}

/**
 * Push everything unsent, then report. `progress(done, total)` is told after each batch. Resolves to
 * {pushed, acked, restart}; throws HubError (offline or refused): what was acknowledged before stays acknowledged.
 */
export async function push(progress = () => {}) {
  return navigator.locks.request(LOCK, async () => {
    const me = await device();
    const seq = await lastSeq();
    const state = await hub.status(me.token, seq);
    // The hub is the judge of what it holds: after a restored hub it holds less, and we send again from there.
    let acked = Math.min(state.acked_seq, seq);
    await setMeta('acked', acked);
    const changes = (await (await database()).getAll('changes', IDBKeyRange.lowerBound(acked, true)));
    let pushed = 0;
    for (let start = 0; start < changes.length; start += BATCH) {
      const batch = changes.slice(start, start + BATCH);
      await sendPhotos(me.token, batch);
      const upTo = batch[batch.length - 1].seq;
      const answer = await hub.push(me.token, acked, upTo,
        batch.map((row) => ({ local_seq: row.seq, change: row.change })));
      acked = answer.acked_seq;
      await acknowledge(acked);
      pushed += batch.length;
      progress(pushed, changes.length);
    }
    await setMeta('last_push', { at: new Date().toISOString(), acked });
    return { pushed, acked, restart: Boolean(state.restart) };
  });
}

/** Upload the photos of a batch that the hub lacks, one at a time (a slow office line finishes what it started). */
async function sendPhotos(token, batch) {
  const shas = [...new Set(batch.flatMap((row) => photosOf(row.change)))];
  if (!shas.length) return;
  const missing = await hub.missingPhotos(token, shas);
  const db = await database();
  for (const sha of missing) {
    const record = await db.get('photos', sha);
    if (!record) throw new hub.HubError('photo.lost', t('sync.photo_lost', { sha: sha.slice(0, 12) }));
    await hub.putPhoto(token, sha, record.blob);
  }
}

/**
 * Record the hub's acknowledgement, mark the audits it covers as sent and let go of the photos only they needed
 * (the hub holds them now: weeks of audits must not fill the tablet), in one transaction.
 */
async function acknowledge(acked) {
  const db = await database();
  const tx = db.transaction(['meta', 'audits', 'answers', 'changes', 'photos'], 'readwrite');
  tx.objectStore('meta').put({ key: 'acked', value: acked });
  const sent = await tx.objectStore('audits').index('status').getAll('submitted');
  for (const record of sent) {
    if (record.seq && record.seq <= acked && !record.sent_at) {
      record.sent_at = new Date().toISOString();
      tx.objectStore('audits').put(record);
    }
  }
  await letGo(tx, acked, Date.now());
  await tx.done;
}

export const KEEP_ACKNOWLEDGED_DAYS = 30;

/**
 * Photos only acknowledged changes name are kept KEEP_ACKNOWLEDGED_DAYS after the hub first acknowledged them, then
 * let go: a hub restored from a backup of the last month asks for them again and gets them (without them the
 * hub refuses the audit, sync.photo_missing). Drafts' and unsent changes' photos are always kept. `tx` spans
 * answers, changes and photos.
 */
export async function letGo(tx, acked, now) {
  const needed = new Set();
  for (const draft of await tx.objectStore('audits').index('status').getAll('draft')) {
    for (const row of await tx.objectStore('answers').index('audit_id').getAll(draft.id)) {
      if (row.address.startsWith('photos:')) (row.value || []).forEach((sha) => needed.add(sha));
    }
  }
  for (const row of await tx.objectStore('changes').getAll(IDBKeyRange.lowerBound(acked, true))) {
    photosOf(row.change).forEach((sha) => needed.add(sha));
  }
  const photos = tx.objectStore('photos');
  for (const sha of await photos.getAllKeys()) {
    const record = await photos.get(sha);
    if (needed.has(sha)) {
      if (record.acked_at) photos.put({ ...record, acked_at: null }); // needed again (a correction took it)
    } else if (!record.acked_at) {
      photos.put({ ...record, acked_at: new Date(now).toISOString() });
    } else if (now - Date.parse(record.acked_at) > KEEP_ACKNOWLEDGED_DAYS * 86_400_000) {
      photos.delete(sha);
    }
  }
}

/** {count, audits, photos} of what waits in the outbox. */
export async function summary() {
  const changes = await unsent();
  return { count: changes.length, audits: changes.filter((row) => row.change.kind === 'audit').length,
    photos: new Set(changes.flatMap((row) => photosOf(row.change))).size };
}

/**
 * The unsent changes and their photos as a signed bundle (sync/bundle.py write): a Blob and its file name.
 * The hub's bundle import takes it as a push from this device, so it counts once however it travels.
 */
export async function exportBundle() {
  const me = await device();
  const acked = await meta('acked', 0);
  const changes = await unsent();
  const db = await database();
  const lines = changes.map((row) => `${canonical({ local_seq: row.seq, change: row.change })}\n`).join('');
  const members = { 'changes.jsonl': strToU8(lines) };
  for (const sha of [...new Set(changes.flatMap((row) => photosOf(row.change)))].sort()) {
    const record = await db.get('photos', sha);
    // A correction names the photos of the audit it corrects; the hub holds those, so they need not travel.
    if (record) members[`photos/${sha}.${extension(record.type)}`] = new Uint8Array(await record.blob.arrayBuffer());
  }
  const digests = {};
  for (const [name, bytes] of Object.entries(members)) digests[name] = await sha256Hex(bytes);
  const upTo = changes.length ? changes[changes.length - 1].seq : acked;
  const manifest = {
    format: 'pantau-bundle', schema_version: 1, device_id: me.device_id, hub_id: me.hub_id, direction: 'push',
    first_seq: changes.length ? changes[0].seq : 0, last_seq: changes.length ? upTo : 0, cursor: 0,
    created_at: new Date().toISOString(), members: digests, after: acked, up_to: upTo,
  };
  manifest.signature = await hmacHex(me.device_key, canonical(manifest));
  const files = { 'manifest.json': [strToU8(JSON.stringify(manifest, null, 1)), { level: 6 }] };
  for (const [name, bytes] of Object.entries(members)) {
    files[name] = [bytes, { level: name.startsWith('photos/') ? 0 : 6 }]; // photos are compressed already
  }
  const zipped = zipSync(files);
  const stamp = manifest.created_at.slice(0, 16).replace(/[-:T]/g, '');
  await setMeta('last_export', { at: manifest.created_at, up_to: upTo, count: changes.length });
  return { blob: new Blob([zipped], { type: 'application/zip' }), name: `pantau-${me.device_id.slice(0, 8)}-${stamp}.zip`,
    count: changes.length };
}
