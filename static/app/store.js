/**
 * What the app keeps, read and written in IndexedDB transactions: drafts and their answers, photos, the change log.
 * An answer is stored the moment it is given, in its own transaction; submitting writes the audit and its change
 * (UUID, the device's next sequence number, the next HLC) in one transaction, so a killed app keeps both or neither.
 */

import { database, meta } from './db.js';
import { tick, uuid } from './clock.js';

/** A new draft of a checklist at a facility (or a correction of a returned audit, with its answers). */
export async function startAudit({ facility, checklistKey, auditor, deviceId, revisionOf = null, base = null }) {
  const db = await database();
  const now = new Date().toISOString();
  const audit = {
    id: uuid(), facility_id: facility.id, checklist_key: checklistKey, revision: base ? base.revision + 1 : 1,
    revision_of: revisionOf, auditor, device_id: deviceId, started_at: now, updated_at: now, submitted_at: null,
    status: 'draft', score: null, result: null, lat: null, lon: null, accuracy_m: null, position_source: null,
    position_at: null, position_warnings: [], readings: [], kecamatan_code: facility.kecamatan_code,
  };
  if (base) { // a correction starts where the audit was made, as survey.audits.service.revise does
    for (const name of ['lat', 'lon', 'accuracy_m', 'position_source', 'position_at']) audit[name] = base[name] ?? null;
    audit.position_warnings = [...(base.position_warnings || [])];
    audit.readings = (base.readings || []).map((reading) => ({ ...reading, id: uuid() }));
  }
  const tx = db.transaction(['audits', 'answers', 'photos'], 'readwrite');
  tx.objectStore('audits').put(audit);
  if (base) { // and from what was sent: its answers, notes and photos
    for (const [address, answer] of Object.entries(base.answers || {})) {
      tx.objectStore('answers').put({ audit_id: audit.id, address, value: answer.value ?? null,
        note: answer.note ?? null, version: 1, saved_at: now });
    }
    for (const [address, shas] of Object.entries(base.photos || {})) {
      tx.objectStore('answers').put({ audit_id: audit.id, address: `photos:${address}`, value: shas, note: null,
        version: 1, saved_at: now });
    }
  }
  await tx.done;
  return audit;
}

/** One audit, or null. */
export async function audit(id) {
  return (await (await database()).get('audits', id)) || null;
}

/** Every audit of the device, newest first. */
export async function audits() {
  const all = await (await database()).getAll('audits');
  return all.sort((a, b) => (b.updated_at || '').localeCompare(a.updated_at || ''));
}

/**
 * The answers of an audit: {answers: {address: value}, notes, versions, photos: {address: [sha]}, touched}.
 * Photo lists are kept under `photos:<address>` so a photo never overwrites the note of the same item.
 */
export async function sheet(auditId) {
  const rows = await (await database()).getAllFromIndex('answers', 'audit_id', auditId);
  const result = { answers: {}, notes: {}, versions: {}, photos: {}, touched: [], savedAt: {} };
  for (const row of rows) {
    if (row.address.startsWith('photos:')) {
      const address = row.address.slice(7);
      if (row.value && row.value.length) result.photos[address] = row.value;
      result.touched.push(address);
      continue;
    }
    if (row.value !== null && row.value !== undefined) result.answers[row.address] = row.value;
    if (row.note) result.notes[row.address] = row.note;
    result.versions[row.address] = row.version;
    result.savedAt[row.address] = row.saved_at;
    result.touched.push(row.address);
  }
  for (const [address, shas] of Object.entries(result.photos)) { // a photo item's answer is its photos
    if (!(address in result.answers)) result.answers[address] = [...shas];
  }
  return result;
}

/**
 * Store one answer (or note) as given. `base` is the version the page showed: a save based on an older version than
 * the stored one (another tab changed it) is refused with {stale: stored row}, never written over.
 */
export async function saveAnswer(auditId, address, { value, note }, base) {
  const db = await database();
  const tx = db.transaction(['audits', 'answers'], 'readwrite');
  const draft = await tx.objectStore('audits').get(auditId);
  if (!draft || draft.status !== 'draft') {
    tx.abort();
    throw Object.assign(new Error('not a draft'), { code: 'audit.not_draft' });
  }
  const row = await tx.objectStore('answers').get([auditId, address]);
  const version = row ? row.version : 0;
  if (base !== undefined && base !== null && base < version) {
    await tx.done;
    return { stale: row };
  }
  const now = new Date().toISOString();
  const next = {
    audit_id: auditId, address, value: value === undefined ? (row ? row.value : null) : value,
    note: note === undefined ? (row ? row.note : null) : note, version: version + 1, saved_at: now,
  };
  tx.objectStore('answers').put(next);
  draft.updated_at = now;
  tx.objectStore('audits').put(draft);
  await tx.done;
  return { row: next };
}

/** Keep a photo (its Blob, by hash) and add it to an item's list, in one transaction. */
export async function addPhoto(auditId, address, photo) {
  const db = await database();
  const tx = db.transaction(['audits', 'answers', 'photos'], 'readwrite');
  const draft = await tx.objectStore('audits').get(auditId);
  if (!draft || draft.status !== 'draft') {
    tx.abort();
    throw Object.assign(new Error('not a draft'), { code: 'audit.not_draft' });
  }
  const existing = await tx.objectStore('photos').get(photo.sha256);
  if (!existing) tx.objectStore('photos').put({ ...photo, audit_id: auditId });
  const key = [auditId, `photos:${address}`];
  const row = (await tx.objectStore('answers').get(key)) || { audit_id: auditId, address: `photos:${address}`,
    value: [], note: null, version: 0 };
  if (!row.value.includes(photo.sha256)) row.value = [...row.value, photo.sha256];
  row.version += 1;
  row.saved_at = new Date().toISOString();
  tx.objectStore('answers').put(row);
  draft.updated_at = row.saved_at;
  tx.objectStore('audits').put(draft);
  await tx.done;
  return row.value;
}

/** Take a photo off an item (the Blob stays while another audit or change needs it). */
export async function removePhoto(auditId, address, sha) {
  const db = await database();
  const tx = db.transaction(['answers'], 'readwrite');
  const row = await tx.objectStore('answers').get([auditId, `photos:${address}`]);
  if (row) {
    row.value = row.value.filter((value) => value !== sha);
    row.version += 1;
    tx.objectStore('answers').put(row);
  }
  await tx.done;
  return row ? row.value : [];
}

/** A stored photo record ({sha256, blob, type, ...}) or null. */
export async function photo(sha) {
  return (await (await database()).get('photos', sha)) || null;
}

/** Update the audit row's own fields (position, readings) of a draft. */
export async function updateDraft(auditId, fields) {
  const db = await database();
  const tx = db.transaction('audits', 'readwrite');
  const draft = await tx.store.get(auditId);
  if (!draft || draft.status !== 'draft') {
    tx.abort();
    throw Object.assign(new Error('not a draft'), { code: 'audit.not_draft' });
  }
  Object.assign(draft, fields, { updated_at: new Date().toISOString() });
  tx.store.put(draft);
  await tx.done;
  return draft;
}

/** Remove a draft with its answers (photos stay until nothing refers to them). */
export async function discardDraft(auditId) {
  const db = await database();
  const tx = db.transaction(['audits', 'answers'], 'readwrite');
  const draft = await tx.objectStore('audits').get(auditId);
  if (draft && draft.status === 'draft') {
    tx.objectStore('audits').delete(auditId);
    for (const key of await tx.objectStore('answers').index('audit_id').getAllKeys(auditId)) {
      tx.objectStore('answers').delete(key);
    }
  }
  await tx.done;
}

/**
 * Submit a draft: freeze it with its score and write its change, in one transaction. The change carries the whole
 * audit as sync/wire.py declares it; its sequence number and HLC come from the clock record in the same transaction.
 */
export async function submit(auditId, { score, result, submittedAt = new Date().toISOString() }) {
  const db = await database();
  const tx = db.transaction(['audits', 'answers', 'meta', 'changes'], 'readwrite');
  const draft = await tx.objectStore('audits').get(auditId);
  if (!draft || draft.status !== 'draft') {
    tx.abort();
    throw Object.assign(new Error('not a draft'), { code: 'audit.not_draft' });
  }
  const device = (await tx.objectStore('meta').get('device')).value;
  const clock = (await tx.objectStore('meta').get('clock'))?.value || { seq: 0, hlc: null };
  const rows = await tx.objectStore('answers').index('audit_id').getAll(auditId);
  Object.assign(draft, { status: 'submitted', submitted_at: submittedAt, score, result, updated_at: submittedAt });
  const seq = clock.seq + 1;
  const hlc = tick(clock.hlc);
  const change = {
    origin_id: device.device_id, origin_seq: seq, kind: 'audit', entity_id: draft.id, hlc,
    payload: auditDocument(draft, rows), scope: draft.kecamatan_code || null,
  };
  draft.seq = seq;
  tx.objectStore('audits').put(draft);
  tx.objectStore('changes').put({ seq, change, made_at: submittedAt });
  tx.objectStore('meta').put({ key: 'clock', value: { seq, hlc } });
  await tx.done;
  return { audit: draft, change };
}

/** The audit as it travels (sync/wire.py AUDIT_FIELDS, then answers, photos and readings). */
export function auditDocument(draft, rows) {
  const answers = {};
  const photos = {};
  for (const row of rows) {
    if (row.address.startsWith('photos:')) {
      if (row.value && row.value.length) photos[row.address.slice(7)] = [...row.value];
    } else if ((row.value !== null && row.value !== undefined) || row.note) {
      answers[row.address] = { value: row.value ?? null, note: row.note || null };
    }
  }
  const fields = ['id', 'facility_id', 'checklist_key', 'revision', 'revision_of', 'auditor', 'device_id',
    'started_at', 'submitted_at', 'score', 'result', 'lat', 'lon', 'accuracy_m', 'position_source', 'position_at',
    'position_warnings'];
  const doc = Object.fromEntries(fields.map((name) => [name, draft[name] ?? null]));
  doc.revision = draft.revision || 1;
  doc.position_warnings = draft.position_warnings || [];
  return { ...doc, answers, photos, readings: draft.readings || [] };
}

/** Changes not yet acknowledged by the hub, in order. */
export async function unsent() {
  const acked = await meta('acked', 0);
  const db = await database();
  return db.getAll('changes', IDBKeyRange.lowerBound(acked, true));
}

/** The number of the last change made here. */
export async function lastSeq() {
  return (await meta('clock', { seq: 0 })).seq;
}

/**
 * Remove entry `number` of a repeat with its answers and photos; later entries move up by one, as in ODK (and as
 * survey.audits.service.remove_instance does), in one transaction.
 */
export async function removeInstance(auditId, repeatAddress, number) {
  const db = await database();
  const tx = db.transaction(['answers', 'audits'], 'readwrite');
  const answers = tx.objectStore('answers');
  const rows = await answers.index('audit_id').getAll(auditId);
  const countRow = rows.find((row) => row.address === repeatAddress);
  const count = countRow ? Number(countRow.value) || 0 : 0;
  const now = new Date().toISOString();
  for (const row of rows) {
    const photo = row.address.startsWith('photos:');
    const address = photo ? row.address.slice(7) : row.address;
    const at = entryOf(address, repeatAddress);
    if (at === null || at < number) continue;
    answers.delete([auditId, row.address]);
    if (at > number) {
      const moved = `${repeatAddress}[${at - 1}]${address.slice(`${repeatAddress}[${at}]`.length)}`;
      answers.put({ ...row, address: photo ? `photos:${moved}` : moved, version: row.version + 1, saved_at: now });
    }
  }
  if (countRow) answers.put({ ...countRow, value: Math.max(0, count - 1), version: countRow.version + 1, saved_at: now });
  await tx.done;
}

/** The entry number of a repeat an address lies in (`rep[3]/x` in `rep` → 3), or null. */
function entryOf(address, repeatAddress) {
  if (!address.startsWith(`${repeatAddress}[`)) return null;
  const match = /^\[(\d+)\](\/|$)/.exec(address.slice(repeatAddress.length));
  return match ? Number(match[1]) : null;
}
