"""Rendered item cards, kept per process: the checklist page's cards are most of its render time.

A card's HTML is a function of what the item macro reads (templates/audits/_macros.html `_item_card`), so the
cache key is exactly that: the item and its address, the answer as shown and its version, relevance, problem,
stale notice, the filled-in label and hint, the choices on offer, note, photos and their times, whether the
reader may edit, the language and the URL prefix. The audit's id is the one input that differs between audits:
a card is rendered with a stand-in id and the stand-in is replaced by the real id on the way out, so one
unanswered card serves every audit of that checklist version. Whatever the macro starts to read must join the
key (tests/test_card_cache.py renders pages with and without the cache and compares them).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from types import SimpleNamespace

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from markupsafe import Markup

from app.i18n import local_text

EXTENSION = "pantau.cards"
# Unguessable per process, so no answer, note or label can contain it and be rewritten on the way out.
STAND_IN = SimpleNamespace(id=uuid.uuid4())
_STAND_IN_TEXT = str(STAND_IN.id)
# A card with a long text answer or note is kept out, so the cache stays near its size times a usual card (~3 KB).
LARGEST = 16_384


class CardCache:
    """A bounded least-recently-used map from a card's key to its HTML, safe across a worker's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cards: OrderedDict[tuple, tuple[object, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, item: object) -> str | None:
        """The card's HTML, or None; the item must be the very object it was rendered from (ids are reused)."""
        with self._lock:
            found = self._cards.get(key)
            if found is None or found[0] is not item:
                return None
            self._cards.move_to_end(key)
            return found[1]

    def put(self, key: tuple, item: object, html: str) -> None:
        """Keep a card, forgetting the least recently used beyond the size."""
        with self._lock:
            self._cards[key] = (item, html)
            self._cards.move_to_end(key)
            while len(self._cards) > self.size:
                self._cards.popitem(last=False)

    def __len__(self) -> int:
        return len(self._cards)


def init_app(app) -> None:
    """One cache per app (its settings, time zone and URL map shape the HTML); CARD_CACHE_SIZE 0 turns it off."""
    size = app.config["CARD_CACHE_SIZE"]
    app.extensions[EXTENSION] = CardCache(size) if size > 0 else None
    app.jinja_env.globals["cached_card"] = cached_card


def cached_card(render, item, c, problem=None, oob=False, notice=None, address=None, photo_times=None) -> Markup:
    """The card `render` (the item macro) makes for these arguments, from the cache when it was made before.

    `photo_times` is the page's (None when the page has none: the macro then shows no photo times).
    """
    address = address or item.id
    cache = current_app.extensions.get(EXTENSION)
    if cache is None or current_app.jinja_env.auto_reload:  # a developer editing the macro sees the edit
        return render(item, c, problem=problem, oob=oob, notice=notice, address=address)
    key = card_key(item, c, problem, oob, notice, address, photo_times)
    html = cache.get(key, item)
    if html is None:
        html = str(render(item, dict(c, audit=STAND_IN), problem=problem, oob=oob, notice=notice, address=address))
        if len(html) <= LARGEST:
            cache.put(key, item, html)
    return Markup(html.replace(_STAND_IN_TEXT, str(c["audit"].id)))


def card_key(item, c, problem, oob, notice, address: str, photo_times) -> tuple:
    """Everything of the page the item macro reads for this card, except the audit's id."""
    state = c.get("state")
    shas = tuple(c["photos"].get(address, ()))
    times = None if photo_times is None else tuple(photo_times.get(sha) for sha in shas)
    return (id(item), address, repr(c["answers"].get(address)), (c.get("versions") or {}).get(address, 0),
            address in c["relevant"], problem, bool(oob), notice, bool(c.get("editable")),
            _filled(state, item.label, address), _filled(state, item.hint, address),
            _offered(state, address),
            c["notes"].get(address), shas, times, bool(state), str(get_locale() or ""),
            request.script_root if has_request_context() else "")


def _offered(state, address: str) -> tuple | None:
    """The choices a filter leaves on offer; None when the card offers its item's own (the item is in the key)."""
    offered = state.choices.get(address) if state else None
    return None if offered is None else tuple(offered)


def _filled(state, text, address: str) -> str | None:
    """A label or hint as the card shows it when it names other answers (${...}); None when it is fixed."""
    if not state or not text:
        return None
    shown = local_text(text)
    return state.text(shown, address) if "${" in shown else None
