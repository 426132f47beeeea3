/**
 * The audit page offline: the checklist markup the hub rendered with the desktop page's own macros
 * (fieldapp/markup.py), driven by the JavaScript engine (static/js/engine/, held to the conformance vectors).
 * Every answer is stored in IndexedDB the moment it is given and shown as saved only once it is stored; relevance,
 * calculations, choices on offer, filled-in labels, repeat entries and progress follow each save.
 */

import { checklistFromDict, coerceAnswer } from '/static/js/engine/checklist.js';
import { compute } from '/static/js/engine/form.js';
import { progress, scoreAudit } from '/static/js/engine/scoring.js';

import { sha256Hex } from './clock.js';
import { locale, local, t, when } from './texts.js';
import * as store from './store.js';
import { preparePhoto, PhotoError } from './photos.js';
import { decide, positionWarnings, watchBest } from './position.js';

const TYPED_DELAY_MS = 400;
const channel = 'BroadcastChannel' in window ? new BroadcastChannel('pantau-field') : null;

/** Today's date and the time now with the tablet's offset, as the engine takes them. */
function clockNow() {
  const date = new Date();
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const today = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const now = `${today}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    + `${offset >= 0 ? '+' : '-'}${pad(offset / 60)}:${pad(offset % 60)}`;
  return { today, now };
}

/** The model of a stored checklist, built once per page. */
export function modelOf(checklist) {
  return checklistFromDict(checklist.data, checklist.key);
}

/** The form state of a draft's answers (defaults apply to what was never touched). */
export function stateOf(model, sheet, draft = true) {
  return compute(model, sheet.answers, { ...clockNow(), locale: locale(), touched: draft ? sheet.touched : null });
}

/** One open audit page. */
export class AuditPage {
  constructor(root, { audit, checklist, facility, region, limits, onSubmitted, onLeave }) {
    Object.assign(this, { root, audit, checklist, facility, region, limits, onSubmitted, onLeave });
    this.model = modelOf(checklist);
    this.timers = new Map();
    this.sources = new WeakMap(); // label text nodes -> their text with ${...}
    this.urls = [];
  }

  /** Read the answers and draw the whole page. */
  async render() {
    this.sheet = await store.sheet(this.audit.id);
    this.state = stateOf(this.model, this.sheet, this.audit.status === 'draft');
    const editable = this.audit.status === 'draft';
    this.root.innerHTML = '';
    this.root.append(this.header(), this.positionPanel(editable));
    const nav = element('nav', { class: 'section-nav', 'aria-label': t('audit.sections') });
    nav.append(element('p', { id: 'overall-progress', class: 'overall' }));
    const body = element('div', { class: 'audit-body' });
    body.innerHTML = this.checklist.markup[locale()] || this.checklist.markup.id;
    const chips = body.querySelector('.chips');
    if (chips) nav.append(chips);
    this.root.append(nav, body, this.submitBar(editable));
    this.body = body;
    this.ensureInstances();
    this.fill(body);
    this.apply();
    if (editable) this.bind(body);
    else this.lock(body);
    if (channel) {
      this.onMessage = (event) => this.fromOtherTab(event.data);
      channel.addEventListener('message', this.onMessage);
    }
  }

  /** Stop listening (the page is left). */
  close() {
    this.flush();
    if (this.map) this.map.remove();
    if (this.onHide) {
      document.removeEventListener('visibilitychange', this.onHide);
      window.removeEventListener('pagehide', this.onHide);
    }
    if (channel && this.onMessage) channel.removeEventListener('message', this.onMessage);
    if (this.stopGps) this.stopGps();
    this.urls.forEach((url) => URL.revokeObjectURL(url));
  }

  header() {
    const head = element('div');
    const back = element('p', { class: 'small' });
    back.append(element('a', { href: `#/facility/${this.facility.id}` }, `← ${this.facility.name}`));
    const header = element('header', { class: 'audit-head' });
    const titles = element('div');
    titles.append(element('h1', {}, local(this.checklist.title)),
      element('p', { class: 'muted' }, `${this.facility.name} · ${t('audit.version', { v: this.checklist.shown_version })}`
        + (this.audit.revision > 1 ? ` · ${t('audit.revision', { n: this.audit.revision })}` : '')));
    const draft = this.audit.status === 'draft';
    header.append(titles, element('span', { class: `badge ${draft ? 'role' : 'ok'}`, 'data-status': this.audit.status },
      t(draft ? 'status.draft' : 'status.submitted')));
    head.append(back, header);
    if (this.audit.correcting) {
      const card = element('section', { class: 'card returned-card', 'data-returned-comment': '' });
      card.append(element('h2', {}, t('audit.correcting', { n: this.audit.revision - 1 })),
        element('blockquote', { class: 'review-comment' }, this.audit.correcting.comment || ''),
        element('p', { class: 'small muted' }, t('audit.correcting_hint')));
      head.append(card);
    }
    if (!draft) {
      const card = element('section', { class: `card result-card result-${this.audit.result || 'none'}` });
      const line = element('p', { class: 'result-line' });
      line.append(element('strong', {}, this.audit.result ? t(`result.${this.audit.result}`) : t('result.none')));
      if (this.audit.score !== null && this.audit.score !== undefined) {
        line.append(element('span', { class: 'score' }, `${Math.round(this.audit.score * 100)}%`));
      }
      card.append(line, element('p', { class: 'small muted' }, t('audit.submitted_at', { when: when(this.audit.submitted_at) })));
      head.append(card);
    }
    return head;
  }

  /** The audit's position: GPS with live accuracy, or typed by hand. */
  positionPanel(editable) {
    const panel = element('section', { id: 'position', class: 'card position', 'aria-labelledby': 'position-title' });
    panel.append(element('h2', { id: 'position-title' }, t('position.title')));
    const line = element('p', { class: 'pos-line', 'data-position-line': '' });
    const warnings = element('div', { 'data-position-warnings': '' });
    panel.append(line, warnings);
    this.positionLine = line;
    this.positionWarnings = warnings;
    this.showPosition();
    if (!editable) return panel;
    const take = element('button', { type: 'button', class: 'btn', 'data-take-gps': '' }, t('position.take'));
    const live = element('p', { class: 'small muted gps-status', 'data-gps-status': '', 'aria-live': 'polite' });
    take.addEventListener('click', () => this.takeGps(take, live));
    const manual = element('details', { class: 'manual', 'data-manual': '' });
    manual.append(element('summary', {}, t('position.manual')),
      element('p', { class: 'small muted' }, t('position.manual_hint')));
    const map = element('div', { class: 'map', 'data-map': '', role: 'application', 'aria-label': t('position.map') });
    const grid = element('div', { class: 'grid grid-2' });
    const lat = field('manual-lat', t('position.lat'), '-6.1201');
    const lon = field('manual-lon', t('position.lon'), '106.1503');
    grid.append(lat.wrap, lon.wrap);
    const error = element('p', { class: 'error-text', role: 'alert', hidden: '' });
    const save = element('button', { type: 'button', class: 'btn secondary' }, t('position.save'));
    save.addEventListener('click', () => this.typedPosition(lat.input.value, lon.input.value, error));
    const legend = element('p', { class: 'map-legend small' },
      element('span', { class: 'key' }, element('span', { class: 'dot registered', 'aria-hidden': 'true' }), t('position.registered')),
      ' ', element('span', { class: 'key' }, element('span', { class: 'dot chosen', 'aria-hidden': 'true' }), t('position.chosen')));
    manual.append(map, legend, grid, error, element('div', { class: 'actions' }, save));
    manual.addEventListener('toggle', () => {
      if (manual.open && !this.map) this.drawMap(map, lat.input, lon.input);
    });
    panel.append(take, live, manual);
    return panel;
  }

  showPosition() {
    const audit = this.audit;
    this.positionLine.textContent = '';
    if (audit.lat === null || audit.lat === undefined) {
      this.positionLine.append(element('span', { class: 'muted', 'data-no-position': '' }, t('position.none')));
    } else {
      this.positionLine.append(element('strong', {}, `${audit.lat.toFixed(6)}, ${audit.lon.toFixed(6)}`));
      if (audit.accuracy_m !== null && audit.accuracy_m !== undefined) {
        const poor = audit.accuracy_m > this.limits.accuracy_m;
        this.positionLine.append(' ', element('span', { class: `badge ${poor ? 'warn' : 'ok'}` }, `± ${Math.round(audit.accuracy_m)} m`));
      }
      this.positionLine.append(element('span', { class: 'small muted' },
        ` · ${t(`source.${audit.position_source}`)} · ${when(audit.position_at)}`));
    }
    this.positionWarnings.textContent = '';
    for (const code of audit.position_warnings || []) {
      this.positionWarnings.append(element('p', { class: 'notice warning', 'data-warning': code },
        t(`warning.${code}`, { m: Math.round(code === 'gps.poor_accuracy' ? this.limits.accuracy_m : this.limits.distance_m) })));
    }
  }

  /** Watch the GPS for a while, show each reading's accuracy live, keep the best. */
  takeGps(button, live) {
    if (this.stopGps) this.stopGps();
    button.disabled = true;
    live.textContent = t('position.searching');
    this.stopGps = watchBest({
      target: this.limits.accuracy_m,
      onReading: (reading) => { live.textContent = t('position.live', { m: Math.round(reading.accuracy) }); },
      onDone: async (best, problem) => {
        button.disabled = false;
        this.stopGps = null;
        if (!best) {
          live.textContent = t(problem || 'position.failed');
          return;
        }
        if (await this.keepPosition(best.lat, best.lon, best.accuracy, 'gps', best.at, live)) {
          live.textContent = t('position.kept', { m: Math.round(best.accuracy) });
        }
      },
    });
  }

  /**
   * The kecamatan's outline and the facility's registered point, offline (no tiles unless the hub has a basemap):
   * a tap fills in the coordinates, saved as set on the map.
   */
  async drawMap(holder, latInput, lonInput) {
    let L;
    try {
      L = await leaflet();
    } catch (failure) {
      holder.replaceWith(element('p', { class: 'small muted' }, t('position.no_map')));
      return;
    }
    this.map = L.map(holder, { attributionControl: false });
    const facility = this.facility;
    const placed = facility.lat !== null && facility.lat !== undefined;
    const outline = this.region && this.region.geometry;
    // A view first: Leaflet draws nothing on a map that has none.
    const points = [...(outline ? outlinePoints(outline) : []), ...(placed ? [[facility.lat, facility.lon]] : [])];
    if (points.length) this.map.fitBounds(L.latLngBounds(points), { maxZoom: 17, padding: [16, 16] });
    else this.map.setView([-2.5, 118], 4); // Indonesia, when nothing of the kecamatan is on the tablet
    if (outline) {
      L.geoJSON(outline, { interactive: false, style: { color: '#00539b', weight: 2, fillOpacity: 0.06 } }).addTo(this.map);
    }
    if (placed) {
      L.circleMarker([facility.lat, facility.lon], { radius: 8, color: '#8a4b00', fillColor: '#ffbf00', fillOpacity: 1,
        interactive: false })
        .addTo(this.map);
    }
    let chosen = null;
    this.map.on('click', (event) => {
      const { lat, lng } = event.latlng;
      latInput.value = lat.toFixed(6);
      lonInput.value = lng.toFixed(6);
      this.mapPoint = `${latInput.value},${lonInput.value}`;
      if (chosen) chosen.setLatLng(event.latlng);
      else chosen = L.circleMarker(event.latlng, { radius: 9, color: '#003a70', fillColor: '#00539b', fillOpacity: 1 }).addTo(this.map);
    });
  }

  async typedPosition(latText, lonText, error) {
    const lat = Number(String(latText).trim().replace(',', '.'));
    const lon = Number(String(lonText).trim().replace(',', '.'));
    error.hidden = true;
    if (!String(latText).trim() || !String(lonText).trim() || !Number.isFinite(lat) || !Number.isFinite(lon)
        || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      error.textContent = t('position.bad');
      error.hidden = false;
      return;
    }
    const source = this.mapPoint === `${String(latText).trim()},${String(lonText).trim()}` ? 'map' : 'manual';
    await this.keepPosition(lat, lon, null, source, new Date().toISOString(), error);
  }

  /**
   * Keep a position as the desktop does (survey.audits.service.record_position): refused beyond the limit of the
   * kecamatan, confirmed first when set by hand outside it; `slot` says why. Resolves to whether it was kept.
   */
  async keepPosition(lat, lon, accuracy, source, at, slot = null, confirmed = false) {
    const { verdict, km } = decide(lat, lon, source, this.facility, this.region, this.limits);
    if (verdict === 'refuse' || (verdict === 'confirm' && !confirmed)) {
      const name = (this.region && this.region.name) || this.facility.kecamatan_code || '';
      if (slot) {
        slot.textContent = t(verdict === 'refuse' ? 'position.far_outside' : 'position.confirm_outside', { km, name });
        if (verdict === 'confirm') {
          const yes = element('button', { type: 'button', class: 'btn', 'data-confirm-outside': '' }, t('position.confirm'));
          yes.addEventListener('click', () => this.keepPosition(lat, lon, accuracy, source, at, slot, true));
          slot.append(' ', yes);
        }
        slot.hidden = false;
      }
      return false;
    }
    if (slot && slot.classList.contains('error-text')) slot.hidden = true;
    const warnings = positionWarnings(lat, lon, accuracy, source, this.facility, this.region, this.limits);
    const reading = { id: crypto.randomUUID(), lat, lon, accuracy_m: accuracy, source, taken_at: at, warnings };
    this.audit = await store.updateDraft(this.audit.id, {
      lat, lon, accuracy_m: accuracy, position_source: source, position_at: at, position_warnings: warnings,
      readings: [...(this.audit.readings || []), reading].slice(-500),
    });
    this.showPosition();
    return true;
  }

  submitBar(editable) {
    const bar = element('div', { class: 'submit-bar' });
    if (!editable) return bar;
    const problems = element('div', { 'data-submit-problems': '', role: 'alert' });
    const button = element('button', { type: 'button', class: 'btn block', 'data-submit': '' }, t('audit.submit'));
    button.addEventListener('click', () => this.submit(button, problems));
    bar.append(problems, button);
    return bar;
  }

  // --- the markup --------------------------------------------------------------------------------------------

  /** Bring each repeat's entries in the page to the number the answers say. */
  ensureInstances() {
    let changed = true;
    while (changed) { // nested repeats appear with their parent's entry
      changed = false;
      for (const template of this.body.querySelectorAll('template[data-instance-template]')) {
        const address = template.dataset.instanceTemplate;
        const section = template.closest('section.repeat');
        if (!section) continue;
        const shown = [...section.querySelectorAll(':scope > fieldset.instance')];
        const wanted = this.state.counts.get(address) || 0;
        for (let number = shown.length + 1; number <= wanted; number += 1) {
          template.before(instanceFrom(template, address, number));
          changed = true;
        }
        for (const extra of shown.slice(wanted)) {
          extra.remove();
          changed = true;
        }
        const empty = section.querySelector(':scope > [data-no-entry]');
        if (empty) empty.hidden = wanted > 0;
        const badge = section.querySelector(':scope > .repeat-head [data-instances]');
        if (badge) badge.textContent = String(wanted);
      }
    }
  }

  /** Put stored answers, notes and photos into the inputs under `root`. */
  fill(root) {
    for (const form of root.querySelectorAll('form[data-answer-form]')) {
      // A default or a calculation shows in its input as the desktop page shows it, until the auditor answers.
      setInputs(form, this.sheet.answers[form.dataset.item] ?? this.state.values.get(form.dataset.item));
      const base = form.querySelector('[data-base-version]');
      if (base) base.value = String(this.sheet.versions[form.dataset.item] || 0);
    }
    for (const form of root.querySelectorAll('form[data-note-form]')) {
      const note = this.sheet.notes[form.dataset.item];
      const area = form.querySelector('textarea');
      if (area && document.activeElement !== area) area.value = note || '';
      if (note) form.closest('details')?.setAttribute('open', '');
    }
    for (const slot of root.querySelectorAll('form.photo-form')) this.drawPhotos(slot);
  }

  /** Show, hide and fill what the form state says: relevance, computed values, labels, choices, progress. */
  apply() {
    const { state } = this;
    for (const card of this.body.querySelectorAll('[id^="item-"]')) {
      const address = card.id.slice(5);
      card.hidden = card.classList.contains('item-hidden') || !state.relevant.has(address);
      if (card.hidden) continue;
      const computed = card.querySelector('[data-computed]');
      if (computed) computed.textContent = shownValue(state.values.get(address));
      const problem = state.problems.get(address);
      card.classList.toggle('has-problem', Boolean(problem));
      card.classList.toggle('answered', state.visible.has(address) && !problem);
      const offer = state.choices.get(address);
      if (offer) this.offer(card, new Set(offer.map((choice) => choice.value)));
      this.feedback(address, card);
    }
    for (const box of this.body.querySelectorAll('[id^="group-"], [id^="repeat-"]')) {
      const address = box.id.slice(box.id.indexOf('-') + 1);
      if (box.tagName === 'H3') continue;
      box.hidden = !state.relevant.has(address);
    }
    for (const instance of this.body.querySelectorAll('fieldset.instance[data-instance]')) {
      instance.hidden = !state.relevant.has(instance.dataset.instance);
    }
    this.labels();
    this.progress();
  }

  /** Show only the choices on offer (choice_filter); say so when none is. */
  offer(card, values) {
    const fieldset = card.querySelector('fieldset.choices');
    if (!fieldset) return;
    let shown = 0;
    for (const input of fieldset.querySelectorAll('input[type=radio], input[type=checkbox]')) {
      if (input.value === 'OK') return;
      input.closest('label').hidden = !values.has(input.value);
      if (values.has(input.value)) shown += 1;
    }
    let none = fieldset.querySelector(':scope > [data-no-choice]');
    if (!none) {
      none = element('p', { class: 'small muted', 'data-no-choice': '' }, t('choices.none'));
      fieldset.append(none);
    }
    none.hidden = shown > 0;
  }

  /** Labels, hints and legends with ${name} references, as seen from their item. */
  labels() {
    const nodes = this.body.querySelectorAll('.item-label, .note-text, .hint, .subgroup-title, legend');
    for (const node of nodes) {
      const text = node.firstChild;
      if (!text || text.nodeType !== Node.TEXT_NODE) continue;
      if (!this.sources.has(text)) {
        if (!text.data.includes('${')) continue;
        this.sources.set(text, text.data);
      }
      const holder = node.closest('[id^="item-"], fieldset.instance, [id^="group-"], [id^="repeat-"]');
      let address = '';
      if (holder && holder.id.startsWith('item-')) address = holder.id.slice(5);
      else if (holder && holder.dataset.instance) address = `${holder.dataset.instance}/x`;
      else if (holder) address = holder.id.slice(holder.id.indexOf('-') + 1);
      text.data = this.state.text(this.sources.get(text), address);
    }
  }

  progress() {
    const counts = progress(this.state);
    let answered = 0;
    let total = 0;
    for (const [sectionId, [done, all]] of counts) {
      answered += done;
      total += all;
      const count = this.body.querySelector(`#count-${CSS.escape(sectionId)}`);
      if (count) count.textContent = `${done}/${all}`;
      const chip = this.root.querySelector(`#chip-${CSS.escape(sectionId)}`);
      if (chip) {
        chip.querySelector('.count').textContent = `${done}/${all}`;
        chip.classList.toggle('done', all > 0 && done === all);
      }
      const section = this.body.querySelector(`#section-${CSS.escape(sectionId)}`);
      const empty = section && section.querySelector(':scope > .section-empty');
      if (empty) empty.hidden = all > 0;
    }
    this.root.querySelector('#overall-progress').textContent = t('audit.answered', { a: answered, t: total });
  }

  /** An item's feedback line: its problem, or *saved* with the time, only for what IndexedDB holds. */
  feedback(address, card, pending = false) {
    const line = card.querySelector(`:scope > .feedback`);
    if (!line) return;
    const problem = this.state.problems.get(address);
    line.textContent = '';
    line.classList.toggle('has-problem', Boolean(problem));
    if (pending) {
      line.dataset.state = 'saving';
      line.append(element('span', { class: 'muted' }, t('answer.saving')));
    } else if (problem) {
      line.dataset.state = 'problem';
      const entry = this.model.item(address.slice(address.lastIndexOf('/') + 1));
      const message = problem === 'answer.constraint' && entry && entry.constraintMessage
        ? local(entry.constraintMessage) : t(`problem.${problem}`, { min: entry?.min ?? '', max: entry?.max ?? '' });
      line.append(element('span', { class: 'error-text', id: `err-${address}` }, message),
        element('span', { class: 'kept-text' }, t('answer.kept')));
    } else if (this.saved && this.saved.has(address)) {
      line.dataset.state = 'saved';
      line.append(element('span', { class: 'saved' }, t('answer.saved', { time: clockTime(this.saved.get(address)) })));
    } else {
      line.dataset.state = 'idle';
    }
  }

  // --- answering ---------------------------------------------------------------------------------------------

  bind(body) {
    this.saved = new Map();
    this.onHide = (event) => { if (event.type === 'pagehide' || document.visibilityState === 'hidden') this.flush(); };
    document.addEventListener('visibilitychange', this.onHide);
    window.addEventListener('pagehide', this.onHide);
    body.addEventListener('submit', (event) => event.preventDefault());
    body.addEventListener('change', (event) => this.changed(event.target, true));
    body.addEventListener('input', (event) => this.changed(event.target, false));
    body.addEventListener('click', (event) => this.clicked(event));
  }

  lock(body) {
    for (const input of body.querySelectorAll('input, textarea, button')) input.disabled = true;
    for (const form of body.querySelectorAll('form.photo-form')) form.hidden = true;
  }

  changed(target, committed) {
    const answer = target.closest('form[data-answer-form]');
    const note = target.closest('form[data-note-form]');
    if (target.matches('[data-photo-input]')) {
      if (committed) this.addFiles(target);
      return;
    }
    const form = answer || note;
    if (!form) return;
    const typed = form.hasAttribute('data-typed');
    if (!committed && !typed) return;
    const key = `${note ? 'note' : 'answer'}:${form.dataset.item}`;
    clearTimeout(this.timers.get(key)?.timer);
    this.timers.delete(key);
    const save = () => {
      this.timers.delete(key);
      return note ? this.saveNote(form) : this.saveAnswer(form);
    };
    if (committed || !typed) save();
    else this.timers.set(key, { timer: setTimeout(save, TYPED_DELAY_MS), save });
  }

  /** Save what is being typed now, not after the pause: the app is being hidden or closed. */
  flush() {
    for (const { timer, save } of [...this.timers.values()]) {
      clearTimeout(timer);
      save();
    }
  }

  /** Store the answer a form holds; shown as saved only once stored. */
  async saveAnswer(form, raw = undefined) {
    const address = form.dataset.item;
    const entry = this.model.item(address.slice(address.lastIndexOf('/') + 1));
    const value = coerceAnswer(entry, raw === undefined ? readInputs(form, entry) : raw);
    const card = form.closest('[id^="item-"]');
    this.feedback(address, card, true);
    const base = Number(form.querySelector('[data-base-version]')?.value || 0);
    try {
      const outcome = await store.saveAnswer(this.audit.id, address, { value }, base);
      if (outcome.stale) {
        await this.refresh();
        const line = card.querySelector(':scope > .feedback');
        line.dataset.state = 'stale';
        line.prepend(element('span', { class: 'stale-text', role: 'alert' }, t('answer.stale')));
        return;
      }
      form.querySelector('[data-base-version]').value = String(outcome.row.version);
      this.saved.set(address, outcome.row.saved_at);
      if (channel) channel.postMessage({ type: 'answer', audit: this.audit.id, address });
      await this.refresh(address);
    } catch (error) {
      this.refused(card, error);
    }
  }

  async saveNote(form) {
    const address = form.dataset.item;
    const area = form.querySelector('textarea');
    const line = form.querySelector('.feedback');
    try {
      await store.saveAnswer(this.audit.id, address, { note: area.value.trim() ? area.value : null });
      if (line) line.textContent = t('answer.saved', { time: clockTime(new Date().toISOString()) });
    } catch (error) {
      if (line) line.textContent = storageMessage(error);
    }
  }

  refused(card, error) {
    const line = card && card.querySelector(':scope > .feedback');
    if (!line) return;
    line.dataset.state = 'failed';
    line.textContent = '';
    line.append(element('span', { class: 'error-text', role: 'alert' }, storageMessage(error)));
  }

  /** Read the answers again and bring the page up to them (after a save here or in another tab). */
  async refresh(keepTyping = null) {
    this.sheet = await store.sheet(this.audit.id);
    this.state = stateOf(this.model, this.sheet, true);
    const before = new Set(this.body.querySelectorAll('fieldset.instance'));
    this.ensureInstances();
    for (const instance of this.body.querySelectorAll('fieldset.instance')) {
      if (!before.has(instance)) this.fill(instance);
    }
    // Computed values and defaults shown in inputs follow; what the auditor is typing is left alone.
    for (const form of this.body.querySelectorAll('form[data-answer-form]')) {
      const address = form.dataset.item;
      if (address === keepTyping || form.contains(document.activeElement)) continue;
      setInputs(form, this.sheet.answers[address] ?? this.state.values.get(address));
      const base = form.querySelector('[data-base-version]');
      if (base) base.value = String(this.sheet.versions[address] || 0);
    }
    this.apply();
  }

  async fromOtherTab(message) {
    if (!message || message.audit !== this.audit.id) return;
    if (message.type === 'submitted') {
      this.audit = await store.audit(this.audit.id);
      await this.render();
      return;
    }
    await this.refresh();
  }

  clicked(event) {
    const gps = event.target.closest('[data-gps-answer]');
    if (gps) {
      this.gpsAnswer(gps);
      return;
    }
    const add = event.target.closest('.repeat-add');
    if (add) {
      event.preventDefault();
      this.addInstance(add.closest('section.repeat'));
      return;
    }
    const remove = event.target.closest('.instance-remove');
    if (remove) {
      event.preventDefault();
      this.removeInstance(remove);
      return;
    }
    const removePhoto = event.target.closest('[data-remove-photo]');
    if (removePhoto) {
      event.preventDefault();
      this.dropPhoto(removePhoto);
    }
  }

  async addInstance(section) {
    const address = section.id.slice('repeat-'.length);
    const count = (this.state.counts.get(address) || 0) + 1;
    try {
      await store.saveAnswer(this.audit.id, address, { value: count });
      await this.refresh();
      section.querySelector(':scope > fieldset.instance:last-of-type')?.scrollIntoView({ block: 'start' });
    } catch (error) {
      const slot = section.querySelector(':scope > [data-error-slot]');
      if (slot) {
        slot.hidden = false;
        slot.textContent = storageMessage(error);
      }
    }
  }

  async removeInstance(button) {
    const repeat = button.dataset.removeEntry;
    const fieldset = button.closest('fieldset.instance');
    const number = Number(fieldset.querySelector('[data-instance-number]').textContent);
    if (!window.confirm(t('repeat.remove_confirm', { n: number }))) return;
    await store.removeInstance(this.audit.id, repeat, number);
    await this.render();
  }

  gpsAnswer(button) {
    const form = button.closest('form[data-answer-form]');
    const text = form.querySelector('[data-gps-text]');
    button.disabled = true;
    text.textContent = t('position.searching');
    watchBest({
      target: this.limits.accuracy_m,
      onReading: (reading) => { text.textContent = t('position.live', { m: Math.round(reading.accuracy) }); },
      onDone: async (best, problem) => {
        button.disabled = false;
        if (!best) {
          text.textContent = t(problem || 'position.failed');
          return;
        }
        await this.saveAnswer(form, `${best.lat} ${best.lon} ${best.accuracy}`);
      },
    });
  }

  // --- photos ------------------------------------------------------------------------------------------------

  async addFiles(input) {
    const form = input.closest('form.photo-form');
    const address = form.closest('[id^="item-"]').id.slice(5);
    const entry = this.model.item(address.slice(address.lastIndexOf('/') + 1));
    const status = form.querySelector('[data-upload-status]');
    const slot = form.querySelector('[data-error-slot]');
    slot.hidden = true;
    for (const file of [...input.files]) {
      status.textContent = t('photo.saving');
      try {
        const prepared = entry.type === 'file' ? await prepareFile(file) : await preparePhoto(file,
          { keepOriginal: Boolean(entry.appearance && /\boriginal\b/.test(entry.appearance)) });
        await store.addPhoto(this.audit.id, address, prepared);
      } catch (error) {
        slot.hidden = false;
        slot.className = 'error-text';
        slot.textContent = error instanceof PhotoError ? t(`photo.${error.code.split('.')[1]}`) : storageMessage(error);
      }
    }
    status.textContent = '';
    input.value = '';
    await this.refresh();
    this.drawPhotos(form);
  }

  async dropPhoto(button) {
    if (!window.confirm(t('photo.remove_confirm'))) return;
    const form = button.closest('.evidence-body, article').querySelector('form.photo-form');
    await store.removePhoto(this.audit.id, button.dataset.address, button.dataset.removePhoto);
    await this.refresh();
    this.drawPhotos(form);
  }

  /** The item's photos as thumbnails from their Blobs, before its upload form. */
  async drawPhotos(form) {
    const card = form.closest('[id^="item-"]');
    if (!card) return;
    const address = card.id.slice(5);
    const shas = (this.sheet.photos || {})[address] || [];
    let list = form.previousElementSibling;
    if (!list || !list.matches('ul.photos, ul.files')) {
      list = element('ul', { class: 'photos' });
      form.before(list);
    }
    list.textContent = '';
    list.hidden = !shas.length;
    const label = card.querySelector('.item-label')?.textContent || '';
    for (const [index, sha] of shas.entries()) {
      const record = await store.photo(sha);
      const item = element('li');
      if (record && record.type && record.type.startsWith('image/')) {
        const url = URL.createObjectURL(record.blob);
        this.urls.push(url);
        item.append(element('img', { src: url, width: '120', height: '90', alt: t('photo.alt', { n: index + 1, item: label }),
          title: `SHA-256 ${sha}` }));
      } else {
        item.append(element('span', { class: 'small' }, t('photo.file', { n: index + 1 })));
      }
      if (this.audit.status === 'draft') {
        item.append(element('button', { type: 'button', class: 'photo-remove', 'data-remove-photo': sha,
          'data-address': address, 'aria-label': t('photo.remove', { n: index + 1 }) }, '×'));
      }
      list.append(item);
    }
  }

  // --- submitting --------------------------------------------------------------------------------------------

  /** Check, then freeze the audit with its score and put it in the outbox. */
  async submit(button, box) {
    box.textContent = '';
    const stored = await store.audit(this.audit.id);
    if (!stored || stored.status !== 'draft') { // submitted meanwhile in another tab: say so, make nothing
      box.append(element('p', { class: 'notice error' }, t('audit.not_draft')));
      return;
    }
    this.audit = stored;
    await this.refresh();
    const result = scoreAudit(this.state);
    box.textContent = '';
    const open = [...result.missingRequired.map((address) => [address, 'answer.required']),
      ...result.invalid.map(([address, code]) => [address, code])];
    if (!open.length && (this.audit.lat === null || this.audit.lat === undefined)) {
      // As the desktop app: an audit is not submitted without the place it was made.
      const notice = element('p', { class: 'notice error', 'data-problem': 'audit.no_position' },
        element('a', { href: '#position' }, t('audit.no_position')));
      box.append(notice);
      this.root.querySelector('#position')?.scrollIntoView({ block: 'start' });
      return;
    }
    if (open.length) {
      const notice = element('div', { class: 'notice error' });
      notice.append(element('p', {}, element('strong', {}, t('audit.incomplete', { n: open.length }))));
      const list = element('ul');
      for (const [address] of open.slice(0, 20)) {
        const label = this.body.querySelector(`#label-${CSS.escape(address)}`)?.textContent || address;
        list.append(element('li', {}, element('a', { href: `#item-${address}`, 'data-jump': address }, label)));
      }
      notice.append(list);
      box.append(notice);
      box.querySelectorAll('[data-jump]').forEach((link) => link.addEventListener('click', (event) => {
        event.preventDefault();
        this.body.querySelector(`#item-${CSS.escape(link.dataset.jump)}`)?.scrollIntoView({ block: 'center' });
      }));
      return;
    }
    if (!window.confirm(t('audit.submit_confirm'))) return;
    button.disabled = true;
    try {
      await this.keepComputed();
      const { audit } = await store.submit(this.audit.id, { score: result.score, result: result.result });
      if (channel) channel.postMessage({ type: 'submitted', audit: audit.id });
      this.audit = audit;
      if (this.onSubmitted) this.onSubmitted(audit);
    } catch (error) {
      button.disabled = false;
      box.append(element('p', { class: 'notice error' }, storageMessage(error)));
    }
  }

  /** Calculations and untouched defaults are stored with the audit, as the desktop app does at submit. */
  async keepComputed() {
    for (const [address, entry] of this.state.nodes) {
      if (!this.state.relevant.has(address)) continue;
      const computed = entry.calculation !== null || ['calculate', 'hidden'].includes(entry.type);
      if ((computed || this.state.defaults.has(address)) && this.state.values.has(address)) {
        const value = this.state.values.get(address);
        if (this.sheet.answers[address] !== value) {
          await store.saveAnswer(this.audit.id, address, { value: value === '' ? null : value });
        }
      }
    }
  }
}

/** [lat, lon] of every vertex of a GeoJSON Polygon or MultiPolygon. */
function outlinePoints(geometry) {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates]
    : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  return polygons.flat(2).map(([lon, lat]) => [lat, lon]);
}

let leafletLoading = null;

/** Leaflet (from npm, kept offline by the service worker), loaded the first time a map is opened. */
function leaflet() {
  if (!leafletLoading) {
    leafletLoading = new Promise((resolve, reject) => {
      const style = element('link', { rel: 'stylesheet', href: '/static/vendor/leaflet/leaflet.css' });
      const script = element('script', { src: '/static/vendor/leaflet/leaflet.js' });
      script.addEventListener('load', () => resolve(window.L));
      script.addEventListener('error', () => {
        leafletLoading = null;
        reject(new Error('leaflet'));
      });
      document.head.append(style, script);
    });
  }
  return leafletLoading;
}

/** A copy of a repeat's entry template as entry `number`: every address inside it renumbered. */
function instanceFrom(template, repeatAddress, number) {
  const escaped = repeatAddress.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const pattern = new RegExp(`(?<![A-Za-z0-9_.])${escaped}\\[1\\](?=[/"'\\s<]|$)`, 'g');
  const html = template.innerHTML.replace(pattern, `${repeatAddress}[${number}]`);
  const holder = document.createElement('template');
  holder.innerHTML = html;
  const fieldset = holder.content.querySelector('fieldset.instance');
  const shown = fieldset.querySelector(':scope > legend [data-instance-number]');
  if (shown) shown.textContent = String(number);
  const remove = fieldset.querySelector(':scope > .instance-remove');
  if (remove) remove.textContent = t('repeat.remove', { n: number });
  return fieldset;
}

/** What a form's inputs hold, as the desktop form would post it. */
function readInputs(form, entry) {
  if (entry.type === 'select_multiple') {
    return [...form.querySelectorAll('input[type=checkbox]:checked')].map((input) => input.value);
  }
  if (entry.type === 'acknowledge') return form.querySelector('input[type=checkbox]:checked') ? 'OK' : '';
  const checked = form.querySelector('input[type=radio]:checked');
  if (checked) return checked.value;
  const field = form.querySelector('[name=value]:not([type=radio]):not([type=checkbox])');
  return field ? field.value : '';
}

/** Show a value in a form's inputs. */
function setInputs(form, value) {
  for (const input of form.querySelectorAll('input[type=radio], input[type=checkbox]')) {
    input.checked = Array.isArray(value) ? value.includes(input.value) : value !== null && value !== undefined
      && String(value) === input.value;
  }
  const field = form.querySelector('textarea[name=value], input[name=value]:not([type=radio]):not([type=checkbox]):not([type=hidden])');
  if (field) field.value = value === null || value === undefined ? '' : String(value);
  const gps = form.querySelector('[data-gps-value]');
  if (gps) {
    const text = form.querySelector('[data-gps-text]');
    if (value && typeof value === 'object' && 'lat' in value) {
      gps.value = `${value.lat} ${value.lon} ${value.accuracy}`;
      text.textContent = `${value.lat.toFixed(6)}, ${value.lon.toFixed(6)} ± ${Math.round(value.accuracy)} m`;
    }
  }
}

function shownValue(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

function clockTime(iso) {
  return new Date(iso).toLocaleTimeString(locale() === 'en' ? 'en-GB' : 'id-ID', { hour: '2-digit', minute: '2-digit',
    second: '2-digit' });
}

/** Words for a failed IndexedDB write: a full disk says so; never "saved". */
export function storageMessage(error) {
  if (error && (error.name === 'QuotaExceededError' || /quota/i.test(String(error.message)))) return t('storage.full');
  if (error && error.code === 'audit.not_draft') return t('audit.not_draft');
  return t('storage.failed', { error: String(error && error.message ? error.message : error).slice(0, 120) });
}

/** A recording or document for a file item, kept as chosen. */
async function prepareFile(file) {
  if (!file || !file.size) throw new PhotoError('photo.empty');
  const bytes = await file.arrayBuffer();
  return { sha256: await sha256Hex(bytes), blob: new Blob([bytes], { type: file.type || 'application/octet-stream' }),
    type: file.type || 'application/octet-stream', name: file.name, size: bytes.byteLength,
    taken_at: new Date(file.lastModified || Date.now()).toISOString() };
}

/** A DOM element with attributes and children. */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A labelled text input. */
function field(id, labelText, placeholder) {
  const wrap = element('div', { class: 'field' });
  const input = element('input', { id, inputmode: 'decimal', placeholder, autocomplete: 'off' });
  wrap.append(element('label', { for: id }, labelText), input);
  return { wrap, input };
}
