// Pantau KLA field app: the service worker (fieldapp/views.py renders it). It keeps the app's own files, in a cache
// named after their content, and nothing else: drafts, photos and the outbox live in IndexedDB, which no update of
// this worker touches. API requests always go to the network.
const VERSION = '{{ version }}';
const CACHE = `pantau-app-${VERSION}`;
const ASSETS = {{ assets|safe }};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(ASSETS.map((url) => new Request(url, { cache: 'reload' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  // Old versions' caches go only once this one holds every file (install succeeded): never an app without files.
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith('pantau-app-') && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (event.request.mode === 'navigate' && url.pathname.startsWith('/app/')) {
    event.respondWith(caches.match('/app/', { cacheName: CACHE }).then((page) => page || fetch(event.request)));
    return;
  }
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((hit) => hit || fetch(event.request)));
  }
});
