"""All htmx request and response header handling in one place."""

from __future__ import annotations

from flask import Response, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True when the request was made by htmx (and is not a history restore, which wants a full page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_page(template: str, block: str = "content", **context) -> str:
    """Render the whole page, or only its named block for an htmx request."""
    if is_htmx() and request.headers.get("HX-Target") != "body":
        return render_block(template, block, **context)
    from flask import render_template

    return render_template(template, **context)


def add_vary(response: Response) -> Response:
    """Caches must key pages on HX-Request: the same URL serves a fragment or a full page."""
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, event: str) -> Response:
    """Ask the page to fire a client event after this response is swapped in."""
    existing = response.headers.get("HX-Trigger")
    response.headers["HX-Trigger"] = f"{existing}, {event}" if existing else event
    return response
