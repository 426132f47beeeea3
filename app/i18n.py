"""Bahasa Indonesia first, English second: locale choice, safe template gettext, Indonesian date and number formats."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request, session, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from flask_login import current_user
from jinja2.filters import do_int
from markupsafe import Markup, escape

from app.extensions import babel

LOCALES = {"id": "Bahasa Indonesia", "en": "English"}
# A lone surrogate cannot be encoded as UTF-8 (the response would fail), NUL is no character of HTML.
UNWRITABLE = re.compile(r"[\x00\ud800-\udfff]")


def select_locale() -> str:
    """The signed-in user's choice, else this browser's choice, else the configured default. An API client (the
    installed field app) names its language in `X-Locale`: refusals then come in the words its auditor reads."""
    asked = request.headers.get("X-Locale") if has_request_context() and request.path.startswith("/api/") else None
    if asked in LOCALES:
        return asked
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return current_app.config["DEFAULT_LOCALE"]


@lru_cache(maxsize=4)
def known_msgids(folder: str) -> frozenset[str]:
    """The msgids of our own catalog: text the app wrote, the only text a template may treat as markup.

    Read from the compiled catalog, which every install has (the desktop package ships only the .mo);
    the .po where it is not compiled yet; none at all means every message is shown as plain text.
    """
    compiled, source = Path(folder) / "messages.mo", Path(folder) / "messages.po"
    if compiled.exists():
        with open(compiled, "rb") as handle:
            messages = read_mo(handle)
    elif source.exists():
        with open(source, "rb") as handle:
            messages = read_po(handle)
    else:
        return frozenset()
    return frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in messages if m.id)


def _format(translated: str, params: dict) -> Markup:
    """Our translated text as markup with the params escaped into it; a bad placeholder never raises."""
    try:
        return Markup(translated) % params
    except (KeyError, ValueError, TypeError, IndexError):
        return Markup(escape(translated))


def make_template_gettext(known: frozenset[str]):
    """Template `_`/`gettext`/`ngettext` that never mark text from outside the catalog as markup.

    Jinja's newstyle gettext wraps whatever msgid it is given in Markup, so a value from a device
    passed to `_()` would render as HTML, and a `%` in it raised. Here only a msgid the catalog knows
    is markup; anything else is shown as escaped plain text, never formatted.
    """

    def gettext(msgid, **params) -> Markup:
        text = "" if msgid is None else str(msgid)
        if text not in known:
            return Markup(escape(text))
        if params:
            return _format(get_translations().ugettext(text), params)
        # A page of cards asks for the same words hundreds of times: once per request and language is enough.
        memo = _request_memo("gettext")
        key = (str(get_locale()), text)
        if memo is None or key not in memo:
            translated = _format(get_translations().ugettext(text), params)
            if memo is None:
                return translated
            memo[key] = translated
        return memo[key]

    def ngettext(singular, plural, num, **params) -> Markup:
        params.setdefault("num", num)
        singular, plural = str(singular), str(plural)
        if singular not in known:
            return Markup(escape(singular if num == 1 else plural))
        return _format(get_translations().ungettext(singular, plural, num), params)

    return gettext, ngettext


def _request_memo(name: str) -> dict | None:
    """A dict that lives as long as the request (None outside one)."""
    if not has_request_context():
        return None
    memo = getattr(g, f"_memo_{name}", None)
    if memo is None:
        memo = {}
        setattr(g, f"_memo_{name}", memo)
    return memo


def local_text(text) -> str:
    """A bilingual text (survey.checklist.Text) in the reader's language; '' for none."""
    if not text:
        return ""
    return text.get(str(get_locale() or ""))


def svg_icon(name: str, label: str | None = None) -> Markup:
    """An icon of static/img/icons.svg; decorative unless it has a label."""
    memo = _request_memo("icons")
    href = memo.get("href") if memo is not None else None
    if href is None:
        href = url_for("static", filename="img/icons.svg")
        if memo is not None:
            memo["href"] = href
    if label:
        return Markup('<svg aria-hidden="false" role="img" aria-label="%s" focusable="false"><use href="%s#%s"></use></svg>'
                      ) % (label, href, name)
    return Markup('<svg aria-hidden="true"  focusable="false"><use href="%s#%s"></use></svg>') % (href, name)


def make_label(gettext):
    """Template `label(table, value, **params)`: a known value's translated label, any other value as plain text."""

    def label(table, value, **params) -> Markup:
        if isinstance(value, str) and value in table:
            return gettext(table[value], **params)
        return Markup(escape("" if value is None else str(value)))

    return label


# How people here write a date and a time; Babel's own "en" is American (12/6/26, 7:24 AM), its "id"
# short form has a two-digit year. Times are in the configured zone (BABEL_DEFAULT_TIMEZONE), 24-hour.
DATE_PATTERNS = {
    "id": {"date": "dd/MM/yyyy", "datetime": "dd/MM/yyyy HH.mm", "time": "HH.mm", "seconds": "HH.mm.ss"},
    "en": {"date": "d MMM y", "datetime": "d MMM y, HH:mm", "time": "HH:mm", "seconds": "HH:mm:ss"},
}
_NAMED_FORMATS = ("short", "medium", "seconds")  # "seconds": a time of day to the second (a save's time)
# A citation of the project's own research notes ("kla-reference.md §3", "kla-reference §1-§3"): for
# maintainers, not for the people using the app.
_DEVELOPER_CITATION = re.compile(r"\s*(?:menurut\s+)?kla-reference(?:\.md)?\s*§\s*\d+(?:\s*[-–,]\s*§\s*\d+(?:\s+[A-Z]{2,5})?)*"
                                 r"|\s*\(\s*§\s*\d+(?:\s+[A-Z]{2,5})?\s*\)")


def date_pattern(kind: str, fmt: str) -> str:
    """The Babel pattern for a `date`/`datetime`/`time` filter: ours for short and medium, else `fmt` as given."""
    if fmt not in _NAMED_FORMATS:
        return fmt
    patterns = DATE_PATTERNS.get(str(get_locale() or ""), DATE_PATTERNS["en"])
    return patterns["seconds" if fmt == "seconds" else kind]


def source_text(value) -> str:
    """A source line for users: the text with citations of the project's research notes taken out."""
    text = _DEVELOPER_CITATION.sub("", "" if value is None else str(value))
    text = re.sub(r"\(\s*[,;]?\s*\)", "", text)  # "(kla-reference §1)" leaves "()"
    text = re.sub(r"\(\s*[,;]\s*", "(", text)
    text = re.sub(r"\s*([;,])(\s*[;,])*", r"\1", text)
    text = re.sub(r":\s*[;,]\s*", ": ", text)
    return re.sub(r"\s+", " ", text).strip(" ;,:")


def writable(value):
    """Jinja's `finalize`: every printed text with lone surrogates and NUL replaced by U+FFFD, markup kept as markup.

    JSON answers from devices can hold "\\ud800" (json.loads gives a lone surrogate), which would make
    the page fail when the response is encoded.
    """
    if isinstance(value, str) and UNWRITABLE.search(value):
        cleaned = UNWRITABLE.sub("\ufffd", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


def whole(value, default: int = 0, base: int = 10) -> int:
    """Jinja's `int` filter, but Infinity (a device's accuracy or score) gives the default instead of failing the page."""
    try:
        return do_int(value, default, base)
    except (OverflowError, ValueError):
        return default


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and give templates the formatting helpers."""
    babel.init_app(app, locale_selector=select_locale)
    catalog = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]) / "id" / "LC_MESSAGES"
    gettext, ngettext = make_template_gettext(known_msgids(str(catalog)))
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext, label=make_label(gettext),
                                 local_text=local_text, svg_icon=svg_icon)
    app.jinja_env.finalize = writable
    app.jinja_env.filters["int"] = whole
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, date_pattern("date", fmt)) if value else "–"
    app.jinja_env.filters["datetime"] = (lambda value, fmt="medium":
                                         format_datetime(value, date_pattern("datetime", fmt)) if value else "–")
    app.jinja_env.filters["source_text"] = source_text
    # Coordinates keep the decimal point in every language: a comma would merge "lat, lon".
    app.jinja_env.filters["coord"] = lambda value: f"{value:.6f}" if value is not None else "–"
    app.jinja_env.filters["number"] = lambda value, fmt=None: format_decimal(value, fmt) if value is not None else "–"

    @app.context_processor
    def _locale_context():
        return {"current_locale": str(get_locale() or app.config["DEFAULT_LOCALE"]), "locales": LOCALES,
                "current_path": request.full_path.rstrip("?")}
