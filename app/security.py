"""Response headers: a Content-Security-Policy with no inline script and nothing from other hosts; the TLS proxy's
forwarding headers, when one is configured."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from app.htmx import add_vary

# 'self' only: the app must work with the network off, so nothing may come from another host.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def init_app(app: Flask) -> None:
    """Add the security headers to every response; behind a TLS proxy, believe only its forwarding headers."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        # Exactly as many hops as configured: a client cannot forge its address or scheme past the proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return add_vary(response)
