/**
 * *Siapkan untuk lapangan*: the hub's field package (fieldapp/package.py) stored for offline work, replacing what an
 * earlier package held in one transaction (facilities, checklists, regions, auditors; a checklist version an audit
 * here still names is kept), and review decisions on this tablet's audits brought home: a returned audit can then be
 * corrected offline.
 */

import { database, meta } from './db.js';
import * as hub from './hub.js';

/** Fetch and store the package; resolves to the stored summary ({at, bytes, facilities, checklists}), unchanged or new. */
export async function prepare() {
  const device = await meta('device');
  const previous = await meta('package');
  const answer = await hub.fieldPackage(device.token, previous && previous.etag);
  if (!answer) {
    const summary = { ...previous, checked_at: new Date().toISOString() };
    await (await database()).put('meta', { key: 'package', value: summary });
    return summary;
  }
  return store(answer.data, answer.etag, answer.bytes || 0);
}

/** Store one package whole, in one transaction; `transferred` is its size on the wire (compressed). */
export async function store(data, etag, transferred) {
  const db = await database();
  const tx = db.transaction(['facilities', 'checklists', 'regions', 'auditors', 'audits', 'meta'], 'readwrite');
  const replace = async (name, rows) => {
    const table = tx.objectStore(name);
    await table.clear();
    for (const row of rows) table.put(row);
  };
  await replace('facilities', data.facilities);
  // A version no longer on offer stays while an audit here names it (a draft begun before a newer version was
  // published, an unsent or a returned audit): it opens as it was filled, and is offered for no new audit.
  const offered = new Set(data.checklists.map((row) => row.key));
  const named = new Set((await tx.objectStore('audits').getAll()).map((audit) => audit.checklist_key));
  const kept = (await tx.objectStore('checklists').getAll())
    .filter((row) => named.has(row.key) && !offered.has(row.key)).map((row) => ({ ...row, kinds: [] }));
  await replace('checklists', [...data.checklists, ...kept]);
  await replace('regions', data.regions);
  const auditors = tx.objectStore('auditors');
  const known = new Map((await auditors.getAll()).map((row) => [row.username, row]));
  await auditors.clear();
  for (const row of data.auditors) { // a PIN set on this tablet stays with its auditor
    const local = known.get(row.username) || {};
    auditors.put({ ...row, pin: local.pin || null, signed_on_at: local.signed_on_at || null });
  }
  await bringReviews(tx.objectStore('audits'), data.audits || []);
  const now = new Date().toISOString();
  const summary = { at: now, checked_at: now, etag, bytes: new Blob([JSON.stringify(data)]).size, transferred,
    generated_at: data.generated_at,
    facilities: data.facilities.length, checklists: data.checklists.length, hub: data.hub, limits: data.limits };
  tx.objectStore('meta').put({ key: 'package', value: summary });
  await tx.done;
  return summary;
}

/** The hub's decisions on our audits; a returned audit this tablet no longer holds comes back whole. */
async function bringReviews(audits, sent) {
  for (const row of sent) {
    const local = await audits.get(row.id);
    if (local) {
      if (JSON.stringify(local.review || null) !== JSON.stringify(row.review || null)) {
        audits.put({ ...local, review: row.review || null, document: row.document || local.document || null });
      }
    } else if (row.review && row.review.decision === 'returned' && row.document) {
      audits.put({ ...row.document, status: 'submitted', sent_at: row.submitted_at, updated_at: row.submitted_at,
        review: row.review, document: row.document, readings: row.document.readings || [] });
    }
  }
}
