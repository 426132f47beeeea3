/**
 * The app's words in both languages, rendered into the shell by the hub from its catalog (fieldapp/texts.py), so they
 * are cached with the shell and work offline. Indonesian first; the choice is kept on the tablet.
 */

const KEY = 'pantau-locale';
let table = null;

function texts() {
  if (!table) {
    const node = document.getElementById('app-texts');
    table = node ? JSON.parse(node.textContent) : { id: {}, en: {} };
  }
  return table;
}

/** The app's language: 'id' or 'en'. */
export function locale() {
  const chosen = localStorage.getItem(KEY);
  return chosen === 'en' || chosen === 'id' ? chosen : 'id';
}

export function setLocale(value) {
  localStorage.setItem(KEY, value === 'en' ? 'en' : 'id');
  document.documentElement.lang = locale();
}

/** A text by key with its %(name)s parameters filled in. */
export function t(key, params = {}) {
  const words = texts()[locale()][key] ?? texts().id[key] ?? key;
  return words.replace(/%\((\w+)\)[sd]/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** A bilingual checklist text ({id, en}) in the app's language. */
export function local(text) {
  if (!text) return '';
  if (typeof text === 'string') return text;
  return text[locale()] || text.id || text.en || '';
}

/** A date-time as the hub's pages show it (Babel's medium format, in the tablet's time zone). */
export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return date.toLocaleString(locale() === 'en' ? 'en-GB' : 'id-ID', { day: 'numeric', month: 'short', year: 'numeric',
    hour: '2-digit', minute: '2-digit' });
}

/** A byte count in kB or MB. */
export function size(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
