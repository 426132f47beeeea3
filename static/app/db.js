/**
 * The field app's IndexedDB: everything the app holds lives here, never in Cache Storage (which a service-worker
 * update replaces). Migrations run in order from the version a tablet has; each is kept forever, so a tablet that
 * skipped versions still arrives at the newest shape without losing a draft or an unsent change.
 */

import { openDB } from '/static/vendor/idb/index.js';

export const DB_NAME = 'pantau-field';

/** Store shapes, one step per version; step n upgrades version n to n + 1. */
export const MIGRATIONS = [
  (db) => {
    db.createObjectStore('meta', { keyPath: 'key' }); // device, clock, auditor, package, settings
    db.createObjectStore('facilities', { keyPath: 'id' });
    db.createObjectStore('checklists', { keyPath: 'key' });
    db.createObjectStore('regions', { keyPath: 'code' });
    db.createObjectStore('auditors', { keyPath: 'username' }); // auditors of the scope, and local PIN hashes
    const audits = db.createObjectStore('audits', { keyPath: 'id' });
    audits.createIndex('facility_id', 'facility_id');
    audits.createIndex('status', 'status');
    const answers = db.createObjectStore('answers', { keyPath: ['audit_id', 'address'] });
    answers.createIndex('audit_id', 'audit_id');
    const photos = db.createObjectStore('photos', { keyPath: 'sha256' });
    photos.createIndex('audit_id', 'audit_id');
    db.createObjectStore('changes', { keyPath: 'seq' }); // the app's own change log: the outbox is seq > acked
  },
];

export const DB_VERSION = MIGRATIONS.length;

let opened = null;

/** Open a database at the version its migrations reach, running those the stored copy has not had yet. */
export function openWith(name, migrations, { blocking = () => {} } = {}) {
  return openDB(name, migrations.length, {
    upgrade(db, oldVersion, newVersion, transaction) {
      for (let version = oldVersion; version < newVersion; version += 1) migrations[version](db, transaction);
    },
    blocking,
  });
}

/** The database, opened once per page; a newer tab's upgrade closes this one and reloads it onto the new code. */
export function database() {
  if (!opened) {
    opened = openWith(DB_NAME, MIGRATIONS, {
      blocking() {
        // A newer version of the app wants to upgrade: let it, then come back on the new code.
        opened.then((db) => db.close());
        opened = null;
        window.location.reload();
      },
    });
  }
  return opened;
}

/** One meta record's value, or `fallback`. */
export async function meta(key, fallback = null) {
  const row = await (await database()).get('meta', key);
  return row ? row.value : fallback;
}

/** Set one meta record. */
export async function setMeta(key, value) {
  await (await database()).put('meta', { key, value });
}
