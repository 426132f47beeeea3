/**
 * The installed field app: enrollment, the auditor on this tablet, preparing for the field, facilities, audits,
 * the outbox and sync. Screens are drawn from IndexedDB; the network is only needed to enroll, prepare and send.
 */

import { database, meta, setMeta } from './db.js';
import * as hub from './hub.js';
import { exportBundle, push, summary } from './outbox.js';
import { prepare } from './prepare.js';
import * as store from './store.js';
import { AuditPage, element, storageMessage } from './capture.js';
import { local, locale, setLocale, size, t, when } from './texts.js';

const SYNC_EVERY_MS = 5 * 60 * 1000;
const PIN_TRIES = 5;
const root = () => document.getElementById('app');
let page = null; // the open audit page, closed when leaving it
let syncing = null;

// --- start ------------------------------------------------------------------------------------------------------

async function start() {
  setLocale(locale());
  drawChrome();
  registerWorker();
  window.addEventListener('hashchange', route);
  document.addEventListener('click', jumpInPage);
  window.addEventListener('online', () => backgroundSync('online'));
  setInterval(() => backgroundSync('timer'), SYNC_EVERY_MS);
  await route();
  backgroundSync('start');
}

/** The service worker that keeps the app's files for offline use; a new version is announced, never forced. */
function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
  // The first worker taking over a fresh install is no update; a later one is.
  const hadWorker = Boolean(navigator.serviceWorker.controller);
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || !hadWorker) return;
    const banner = document.getElementById('update-banner');
    banner.hidden = false;
    banner.querySelector('button').onclick = () => {
      reloading = true;
      window.location.reload();
    };
  });
}

function drawChrome() {
  document.querySelectorAll('[data-locale]').forEach((button) => {
    button.setAttribute('aria-pressed', String(button.dataset.locale === locale()));
    button.onclick = async () => {
      setLocale(button.dataset.locale);
      drawChrome();
      await route();
    };
  });
  document.querySelectorAll('[data-text]').forEach((node) => { node.textContent = t(node.dataset.text); });
}

/** Links to a place on the page (a section chip: `#section-x`) scroll there; the address keeps naming the screen. */
function jumpInPage(event) {
  const link = event.target.closest('a[href^="#"]');
  const href = link && link.getAttribute('href');
  if (!href || href.startsWith('#/') || href === '#') return;
  event.preventDefault();
  const target = document.getElementById(decodeURIComponent(href.slice(1)));
  if (target) target.scrollIntoView({ block: 'start', behavior: 'smooth' });
}

/** Which screen the address names; enrollment and the auditor come first. */
async function route() {
  if (page) {
    page.close();
    page = null;
  }
  const hash = window.location.hash || '#/';
  const device = await meta('device');
  await drawWho(device);
  if (!device) return showEnroll(hash.startsWith('#enroll=') ? decodeURIComponent(hash.slice(8)) : '');
  if (hash.startsWith('#enroll=')) { // a second scan on an enrolled tablet
    window.location.hash = '#/';
    return undefined;
  }
  const prepared = await meta('package');
  if (!prepared) return showPrepare(device);
  const auditor = await meta('auditor');
  if (!auditor || hash === '#/switch') return showAuditors(device);
  const [, screen, id] = hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  if (screen === 'facility') return showFacility(id);
  if (screen === 'audit') return showAudit(id);
  if (screen === 'sync') return showSync();
  if (screen === 'settings') return showSettings();
  return showHome();
}

async function drawWho(device) {
  const who = document.getElementById('who');
  const auditor = device ? await meta('auditor') : null;
  who.textContent = '';
  if (auditor) {
    who.append(element('strong', {}, auditor.full_name || auditor.username), t('role.auditor'));
  }
  document.getElementById('bottom-nav').hidden = !auditor;
  if (auditor) await drawOutboxBadge();
}

async function drawOutboxBadge() {
  const waiting = (await summary()).count;
  const badge = document.getElementById('outbox-count');
  badge.textContent = String(waiting);
  badge.hidden = !waiting;
}

function screen(title, ...children) {
  const main = root();
  main.textContent = '';
  const head = element('div', { class: 'page-head' });
  head.append(element('div', {}, element('h1', {}, title)));
  main.append(head, ...children.filter(Boolean));
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  return head;
}

function notice(kind, text) {
  return element('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// --- enrollment ------------------------------------------------------------------------------------------------

function showEnroll(code) {
  const form = element('form', { class: 'card', id: 'enroll-form', novalidate: true });
  const codeField = labelled('enroll-code', t('enroll.code'), element('input', { id: 'enroll-code', name: 'code',
    value: code, autocomplete: 'off', autocapitalize: 'characters', placeholder: 'K7QD-9MXA', required: true }));
  const nameField = labelled('enroll-name', t('enroll.name'), element('input', { id: 'enroll-name', name: 'name',
    autocomplete: 'off', maxlength: '80', placeholder: t('enroll.name_hint') }));
  const error = element('p', { class: 'error-text', role: 'alert', hidden: true });
  const button = element('button', { class: 'btn block', type: 'submit' }, t('enroll.button'));
  form.append(element('p', {}, t('enroll.intro')), codeField, nameField, error, button);
  screen(t('enroll.title'), form, secureNotice());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    button.disabled = true;
    button.textContent = t('enroll.working');
    try {
      const answer = await hub.enroll(form.code.value.trim(), form.name.value.trim());
      await setMeta('device', { ...answer, name: answer.name || form.name.value.trim(), hub_url: window.location.origin,
        enrolled_at: new Date().toISOString() });
      await setMeta('clock', { seq: 0, hlc: null });
      await setMeta('acked', 0);
      if (navigator.storage && navigator.storage.persist) await navigator.storage.persist();
      window.location.hash = '#/';
      await route();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      button.disabled = false;
      button.textContent = t('enroll.button');
    }
  });
}

/** Service workers, the camera and GPS need HTTPS: say so where the hub is served without it. */
function secureNotice() {
  if (window.isSecureContext) return null;
  return notice('warning', t('enroll.insecure'));
}

// --- preparing for the field ------------------------------------------------------------------------------------

function showPrepare(device) {
  const card = element('section', { class: 'card' });
  const status = element('p', { 'aria-live': 'polite' }, t('prepare.intro', { hub: device.hub_name }));
  const button = element('button', { class: 'btn block', type: 'button', 'data-prepare': true }, t('prepare.button'));
  card.append(status, button);
  screen(t('prepare.title'), card);
  onPrepare(button, status, route);
}

/** A *Prepare* button: fetch the package, say so while it runs, show a refusal in words, then `after()`. */
function onPrepare(button, status, after) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = t('prepare.working');
    try {
      await prepare();
      await after();
    } catch (failure) {
      status.textContent = '';
      status.append(notice('error', failure.message));
      button.disabled = false;
    }
  });
}

function readyCard(prepared) {
  const card = element('section', { class: 'card ready-card', 'data-ready': true });
  card.append(element('p', { class: 'ready-line' }, element('span', { class: 'badge ok' }, t('prepare.ready')),
    ' ', t('prepare.summary', { facilities: prepared.facilities, checklists: prepared.checklists })),
  element('p', { class: 'small muted' }, t('prepare.when', { when: when(prepared.at), size: size(prepared.bytes || 0) })));
  return card;
}

// --- the auditor on this tablet ---------------------------------------------------------------------------------

async function showAuditors(device) {
  const db = await database();
  const auditors = await db.getAll('auditors');
  const list = element('div', { class: 'list' });
  for (const person of auditors) {
    const row = element('button', { type: 'button', class: 'list-item auditor-choice', 'data-username': person.username });
    row.append(element('span', { class: 'row-main' }, element('span', { class: 'row-title' }, person.full_name || person.username),
      element('span', { class: 'row-sub small muted' }, person.pin ? t('auditor.has_pin') : t('auditor.first_time'))));
    row.addEventListener('click', () => auditorForm(person, device));
    list.append(row);
  }
  const children = [element('p', { class: 'muted' }, t('auditor.intro')), list];
  if (!auditors.length) children.push(notice('warning', t('auditor.none')));
  screen(t('auditor.title'), ...children);
}

function auditorForm(person, device, message = '') {
  const form = element('form', { class: 'card', novalidate: true, 'data-auditor-form': person.username });
  const error = element('p', { class: 'error-text', role: 'alert', hidden: !message }, message);
  const fields = [];
  if (person.pin) {
    fields.push(labelled('pin', t('auditor.pin'), pinInput('pin')));
  } else {
    fields.push(element('p', { class: 'small muted' }, t('auditor.first_time_hint')),
      labelled('password', t('auditor.password'), element('input', { id: 'password', type: 'password', autocomplete: 'current-password' })),
      labelled('new-pin', t('auditor.new_pin'), pinInput('new-pin')),
      labelled('new-pin-again', t('auditor.new_pin_again'), pinInput('new-pin-again')));
  }
  const button = element('button', { class: 'btn block', type: 'submit' }, t('auditor.continue'));
  const back = element('a', { href: '#/switch', class: 'small' }, t('auditor.other'));
  form.append(element('h2', {}, person.full_name || person.username), ...fields, error, button, back);
  screen(t('auditor.title'), form);
  form.querySelector('input').focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      if (person.pin) {
        const db = await database();
        if (!(await pinMatches(person.pin, form.querySelector('#pin').value))) {
          // A PIN only guards a shared tablet; after a few wrong ones the hub password is needed again.
          const failures = (person.pin_failures || 0) + 1;
          const locked = failures >= PIN_TRIES;
          Object.assign(person, { pin_failures: failures, pin: locked ? null : person.pin });
          await db.put('auditors', person);
          throw new Error(locked ? t('auditor.pin_locked') : t('auditor.wrong_pin'));
        }
        await db.put('auditors', { ...person, pin_failures: 0 });
      } else {
        const pin = form.querySelector('#new-pin').value;
        if (!/^\d{4,8}$/.test(pin)) throw new Error(t('auditor.pin_rule'));
        if (pin !== form.querySelector('#new-pin-again').value) throw new Error(t('auditor.pin_mismatch'));
        await hub.signOn(device.token, person.username, form.querySelector('#password').value);
        const db = await database();
        await db.put('auditors', { ...person, pin: await pinHash(pin), signed_on_at: new Date().toISOString() });
      }
      await setMeta('auditor', { username: person.username, full_name: person.full_name });
      window.location.hash = '#/';
      await route();
    } catch (failure) {
      if (form.querySelector('#pin') && !person.pin) {
        auditorForm(person, device, failure.message); // locked: the first-time form, with the hub password
        return;
      }
      error.textContent = failure.message;
      error.hidden = false;
      button.disabled = false;
    }
  });
}

function pinInput(id) {
  return element('input', { id, type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: '8',
    pattern: '[0-9]*', class: 'pin-input' });
}

/** A PIN kept as PBKDF2 (SubtleCrypto), never as typed. */
async function pinHash(pin, salt = crypto.getRandomValues(new Uint8Array(16))) {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 200000 }, key, 256);
  return { salt: Array.from(salt), hash: Array.from(new Uint8Array(bits)) };
}

async function pinMatches(stored, pin) {
  const again = await pinHash(pin, new Uint8Array(stored.salt));
  return again.hash.length === stored.hash.length && again.hash.every((byte, index) => byte === stored.hash[index]);
}

// --- facilities -------------------------------------------------------------------------------------------------

async function showHome() {
  const db = await database();
  const prepared = await meta('package');
  const facilities = (await db.getAll('facilities')).sort((a, b) => a.name.localeCompare(b.name));
  const audits = await store.audits();
  const drafts = new Map();
  for (const audit of audits) {
    if (audit.status === 'draft') drafts.set(audit.facility_id, (drafts.get(audit.facility_id) || 0) + 1);
  }
  const search = element('input', { type: 'search', id: 'facility-search', placeholder: t('home.search'),
    'aria-label': t('home.search'), autocomplete: 'off' });
  const list = element('div', { class: 'list', id: 'facility-list' });
  const draw = () => {
    const words = search.value.trim().toLowerCase();
    list.textContent = '';
    for (const facility of facilities) {
      if (words && !`${facility.name} ${facility.official_id || ''} ${facility.address || ''}`.toLowerCase().includes(words)) continue;
      const row = element('a', { class: 'list-item facility-row', href: `#/facility/${facility.id}` });
      const main = element('span', { class: 'row-main' }, element('span', { class: 'row-title' }, facility.name),
        element('span', { class: 'row-sub small muted' }, [t(`kind.${facility.kind}`), facility.official_id].filter(Boolean).join(' · ')));
      row.append(main);
      const count = drafts.get(facility.id);
      if (count) row.append(element('span', { class: 'badge role' }, t('home.drafts', { n: count })));
      list.append(row);
    }
    if (!list.childElementCount) list.append(element('p', { class: 'muted empty' }, t('home.none')));
  };
  search.addEventListener('input', draw);
  draw();
  const waiting = await summary();
  const outbox = waiting.count ? element('a', { class: 'notice warning outbox-line', href: '#/sync' },
    t('home.waiting', { n: waiting.audits })) : null;
  const head = screen(t('home.title'), clockNotice(), readyCard(prepared), outbox, element('div', { class: 'search-bar' }, search), list);
  const auditor = await meta('auditor');
  head.append(element('p', { class: 'who-line small' }, element('strong', {}, auditor.full_name || auditor.username),
    ' · ', element('a', { href: '#/switch' }, t('auditor.switch'))));
}

async function showFacility(id) {
  const db = await database();
  const facility = await db.get('facilities', id);
  if (!facility) return screen(t('facility.gone'), element('a', { href: '#/' }, t('nav.home')));
  const checklists = (await db.getAll('checklists')).filter((c) => c.kinds.includes(facility.kind) || c.kinds.includes('all'));
  const audits = (await store.audits()).filter((a) => a.facility_id === id);
  const start = element('section', { class: 'card' }, element('h2', {}, t('facility.start')));
  for (const checklist of checklists) {
    const button = element('button', { type: 'button', class: 'btn block start-audit', 'data-checklist': checklist.key },
      local(checklist.title));
    button.addEventListener('click', async () => {
      const auditor = await meta('auditor');
      const device = await meta('device');
      const audit = await store.startAudit({ facility, checklistKey: checklist.key, auditor: auditor.username,
        deviceId: device.device_id });
      window.location.hash = `#/audit/${audit.id}`;
    });
    start.append(button);
  }
  if (!checklists.length) start.append(element('p', { class: 'muted' }, t('facility.no_checklist')));
  const history = element('section', { class: 'card' }, element('h2', {}, t('facility.audits')));
  const titles = new Map((await db.getAll('checklists')).map((c) => [c.key, local(c.title)]));
  for (const audit of audits) history.append(auditRow(audit, titles.get(audit.checklist_key) || audit.checklist_key));
  if (!audits.length) history.append(element('p', { class: 'muted' }, t('facility.no_audits')));
  const back = element('p', { class: 'small' }, element('a', { href: '#/' }, `← ${t('nav.home')}`));
  const head = screen(facility.name, start, history);
  head.before(back);
  head.firstChild.append(element('p', { class: 'muted' },
    [t(`kind.${facility.kind}`), facility.official_id, facility.address].filter(Boolean).join(' · ')));
  return undefined;
}

/** The state an audit is in, as the hub's pages name it (survey.audits.messages SYNC_STATES). */
export function stateOfAudit(audit) {
  if (audit.status === 'draft') return 'draft';
  if (audit.review && audit.review.decision) return audit.review.decision;
  return audit.sent_at ? 'sent' : 'waiting';
}

function auditRow(audit, title) {
  const state = stateOfAudit(audit);
  const row = element('a', { class: 'list-item audit-row', href: `#/audit/${audit.id}`, 'data-audit': audit.id });
  row.append(element('span', { class: 'row-main' }, element('span', { class: 'row-title' }, title),
    element('span', { class: 'row-sub small muted' }, `${t('audit.revision', { n: audit.revision })} · ${when(audit.submitted_at || audit.updated_at)}`)),
  element('span', { class: `badge sync-${state} review-${state}`, 'data-sync-state': state }, t(`sync_state.${state}`)));
  return row;
}

// --- an audit ---------------------------------------------------------------------------------------------------

async function showAudit(id) {
  const db = await database();
  const audit = await store.audit(id);
  if (!audit) return screen(t('audit.gone'), element('a', { href: '#/' }, t('nav.home')));
  const facility = await db.get('facilities', audit.facility_id) || { id: audit.facility_id, name: '—', kind: '' };
  const checklist = await db.get('checklists', audit.checklist_key);
  if (!checklist) return screen(t('audit.no_checklist'), notice('error', t('audit.no_checklist_hint')));
  const region = facility.kecamatan_code ? await db.get('regions', facility.kecamatan_code) : null;
  const prepared = await meta('package');
  const main = root();
  main.textContent = '';
  if (audit.status !== 'draft' && audit.review && audit.review.decision === 'returned') main.append(returnedCard(audit));
  const holder = element('div');
  main.append(holder);
  page = new AuditPage(holder, {
    audit, checklist, facility, region, limits: prepared.limits || { accuracy_m: 50, distance_m: 200 },
    onSubmitted: async (submitted) => {
      await drawOutboxBadge();
      window.location.hash = `#/facility/${submitted.facility_id}`;
      backgroundSync('submit');
    },
  });
  await page.render();
  window.scrollTo(0, 0);
  return undefined;
}

function returnedCard(audit) {
  const card = element('section', { class: 'card returned-card', 'data-returned': true });
  const button = element('button', { type: 'button', class: 'btn', 'data-correct': true }, t('audit.correct'));
  card.append(element('h2', {}, t('audit.returned')), element('blockquote', { class: 'review-comment' }, audit.review.comment || ''),
    element('p', { class: 'small muted' }, t('audit.returned_when', { when: when(audit.review.decided_at) })), button);
  button.addEventListener('click', async () => {
    const existing = (await store.audits()).find((a) => a.revision_of === audit.id);
    if (existing) {
      window.location.hash = `#/audit/${existing.id}`;
      return;
    }
    const db = await database();
    const facility = await db.get('facilities', audit.facility_id);
    const auditor = await meta('auditor');
    const device = await meta('device');
    const base = audit.document || { answers: {}, photos: {}, revision: audit.revision };
    const correction = await store.startAudit({ facility, checklistKey: audit.checklist_key, auditor: auditor.username,
      deviceId: device.device_id, revisionOf: audit.id, base: { ...base, revision: audit.revision } });
    await store.updateDraft(correction.id, { correcting: { comment: audit.review.comment } });
    window.location.hash = `#/audit/${correction.id}`;
  });
  return card;
}

// --- sending ----------------------------------------------------------------------------------------------------

/** Push, then bring the package up to date; one at a time. */
async function syncAll(progress = () => {}) {
  if (!syncing) {
    syncing = (async () => {
      try {
        // The package first: it brings reviews home, and the hub stores the checklist versions it hands out,
        // which the audits about to be pushed were filled with. A refused package does not hold back the outbox.
        let prepared = null;
        let refused = null;
        try {
          prepared = await prepare();
        } catch (failure) {
          if (failure.offline) throw failure;
          refused = failure;
        }
        const pushed = await push(progress);
        if (refused) throw refused;
        await setMeta('last_sync', { at: new Date().toISOString(), ok: true, restart: pushed.restart });
        return { pushed, prepared };
      } catch (failure) {
        await setMeta('last_sync', { at: new Date().toISOString(), ok: false, message: failure.message,
          offline: Boolean(failure.offline) });
        throw failure;
      } finally {
        syncing = null;
      }
    })();
  }
  return syncing;
}

async function backgroundSync(why) {
  if (!(await meta('device')) || !(await meta('package'))) return;
  try {
    await syncAll();
  } catch (failure) {
    // Offline is the normal state in the field: the outbox keeps everything and the next attempt sends it.
  }
  if (why !== 'timer' || !page) await drawOutboxBadge().catch(() => {});
  if (window.location.hash === '#/sync') await showSync();
}

/** A warning when the tablet's clock differs from the hub's by more than hub.CLOCK_SKEW_MS at the last reply. */
function clockNotice() {
  const clock = hub.clockSkew();
  if (!clock || Math.abs(clock.skew) <= hub.CLOCK_SKEW_MS) return null;
  const now = new Date().toISOString();
  const hubNow = new Date(Date.now() - clock.skew).toISOString();
  const line = notice('warning', t('clock.skew', { tablet: when(now), hub: when(hubNow) }));
  line.dataset.clockSkew = String(Math.round(clock.skew / 60000));
  return line;
}

async function showSync() {
  const waiting = await summary();
  const last = await meta('last_sync');
  const exported = await meta('last_export');
  const card = element('section', { class: 'card', id: 'outbox' });
  const clock = clockNotice();
  if (clock) card.append(clock);
  card.append(element('p', { class: 'outbox-count', 'data-outbox': waiting.count },
    waiting.count ? t('sync.waiting', { n: waiting.audits, photos: waiting.photos }) : t('sync.nothing')));
  if (last) {
    card.append(last.ok ? element('p', { class: 'small muted' }, t('sync.last_ok', { when: when(last.at) }))
      : notice(last.offline ? 'warning' : 'error', t('sync.last_failed', { when: when(last.at), message: last.message })));
    if (last.restart) card.append(notice('warning', t('sync.restart')));
  }
  const status = element('p', { 'aria-live': 'polite', class: 'sync-status' });
  const button = element('button', { type: 'button', class: 'btn block', 'data-sync-now': true }, t('sync.now'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = t('sync.working');
    try {
      await syncAll((done, total) => { status.textContent = t('sync.progress', { done, total }); });
      await showSync();
    } catch (failure) {
      await showSync();
    }
  });
  card.append(status, button);
  const bundle = element('section', { class: 'card' }, element('h2', {}, t('export.title')),
    element('p', { class: 'small muted' }, t('export.intro')));
  if (exported) bundle.append(element('p', { class: 'small' }, t('export.last', { when: when(exported.at), n: exported.count })));
  const exportButton = element('button', { type: 'button', class: 'btn secondary', 'data-export': true }, t('export.button'));
  const exportError = element('p', { class: 'error-text', role: 'alert', hidden: true });
  exportButton.addEventListener('click', async () => {
    exportError.hidden = true;
    try {
      const file = await exportBundle();
      const link = element('a', { href: URL.createObjectURL(file.blob), download: file.name });
      document.body.append(link);
      link.click();
      link.remove();
      await showSync();
    } catch (failure) {
      exportError.textContent = storageMessage(failure);
      exportError.hidden = false;
    }
  });
  bundle.append(exportButton, exportError);
  const list = element('section', { class: 'card' }, element('h2', {}, t('sync.audits')));
  const db = await database();
  const titles = new Map((await db.getAll('checklists')).map((c) => [c.key, local(c.title)]));
  const facilities = new Map((await db.getAll('facilities')).map((f) => [f.id, f.name]));
  const submitted = (await store.audits()).filter((a) => a.status !== 'draft').slice(0, 50);
  for (const audit of submitted) {
    list.append(auditRow(audit, `${facilities.get(audit.facility_id) || '—'} · ${titles.get(audit.checklist_key) || audit.checklist_key}`));
  }
  if (!submitted.length) list.append(element('p', { class: 'muted' }, t('sync.no_audits')));
  screen(t('sync.title'), card, bundle, list);
}

// --- settings ---------------------------------------------------------------------------------------------------

async function showSettings() {
  const device = await meta('device');
  const prepared = await meta('package');
  const storage = element('section', { class: 'card', id: 'storage' }, element('h2', {}, t('settings.storage')));
  const persisted = navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted() : false;
  storage.append(persisted ? notice('success', t('settings.persisted')) : notice('warning', t('settings.not_persisted')));
  if (navigator.storage && navigator.storage.estimate) {
    const estimate = await navigator.storage.estimate();
    storage.append(element('p', { 'data-usage': estimate.usage }, t('settings.usage', { used: size(estimate.usage || 0),
      quota: size(estimate.quota || 0) })));
  }
  if (!persisted) {
    const ask = element('button', { type: 'button', class: 'btn secondary' }, t('settings.persist'));
    ask.addEventListener('click', async () => {
      await navigator.storage.persist();
      await showSettings();
    });
    storage.append(ask);
  }
  const prepareCard = element('section', { class: 'card' }, element('h2', {}, t('prepare.title')));
  if (prepared) prepareCard.append(readyCard(prepared));
  const again = element('button', { type: 'button', class: 'btn secondary', 'data-prepare': true }, t('prepare.again'));
  const status = element('p', { 'aria-live': 'polite' });
  onPrepare(again, status, showSettings);
  prepareCard.append(again, status);
  const who = element('section', { class: 'card' }, element('h2', {}, t('settings.device')),
    element('p', {}, t('settings.device_line', { name: device.name || '—', hub: device.hub_name })),
    element('p', { class: 'small muted' }, `${t('settings.scope')}: ${await regionNames(device.scope || [])}`),
    element('p', { class: 'small muted' }, element('code', {}, device.device_id)),
    element('a', { class: 'btn secondary', href: '#/switch' }, t('auditor.switch')));
  screen(t('settings.title'), storage, prepareCard, who);
}

/** Kecamatan names of codes, as the package brought them. */
async function regionNames(codes) {
  const db = await database();
  const names = await Promise.all(codes.map(async (code) => ((await db.get('regions', code)) || {}).name || code));
  return names.join(', ');
}

function labelled(id, text, input) {
  const wrap = element('div', { class: 'field' });
  wrap.append(element('label', { for: id }, text), input);
  return wrap;
}

start().catch((failure) => {
  root().textContent = '';
  root().append(notice('error', storageMessage(failure)));
});
