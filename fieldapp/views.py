"""The app shell at `/app/`: the page, its service worker and its manifest (docs/field-app.md).

The service worker keeps exactly the files listed in ASSETS, in a cache named after their content: a new version of
any of them is a new worker, which fills a new cache and deletes the old one. Data never goes into Cache Storage:
drafts, photos and the outbox live in IndexedDB, which an update does not touch.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for

from fieldapp.texts import app_texts

bp = Blueprint("fieldapp", __name__, url_prefix="/app")

# The files the app needs offline, under static/ (and the vendor copies `make setup` puts there from npm).
STATIC_ASSETS = (
    "css/app.css", "app/app.css", "img/icons.svg", "img/favicon.svg",
    "app/main.js", "app/capture.js", "app/clock.js", "app/db.js", "app/hub.js", "app/outbox.js", "app/photos.js",
    "app/position.js", "app/prepare.js", "app/store.js", "app/texts.js",
    "js/engine/checklist.js", "js/engine/expressions.js", "js/engine/form.js", "js/engine/scoring.js",
    "vendor/idb/index.js", "vendor/fflate/browser.js", "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css",
)
PAGES = ("/app/", "/app/manifest.webmanifest", "/app/icon-192.png", "/app/icon-512.png")
BRAND = (0, 83, 155)  # the theme colour of the hub's pages (#00539b)


@bp.get("/")
def shell():
    """The one page of the installed app; everything after it comes from IndexedDB and the sync API."""
    modules = [name for name in STATIC_ASSETS if name.startswith(("app/", "js/", "vendor/idb", "vendor/fflate"))
               and name.endswith(".js") and name != "app/main.js"]
    return render_template("fieldapp/shell.html", texts=app_texts(), modules=modules)


@bp.get("/sw.js")
def service_worker():
    """The service worker, versioned by the content of what it keeps; never cached by the browser itself."""
    assets = [*PAGES, *(url_for("static", filename=name) for name in STATIC_ASSETS)]
    body = render_template("fieldapp/sw.js", version=app_version(), assets=json.dumps(assets))
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """What the home screen shows: name, icons, colours; opens full screen at the app's start."""
    data = {
        "name": "Pantau KLA", "short_name": "Pantau KLA", "lang": "id", "start_url": "/app/", "scope": "/app/",
        "display": "standalone", "orientation": "any", "background_color": "#ffffff", "theme_color": "#00539b",
        "description": "Audit Kabupaten/Kota Layak Anak di lapangan, tanpa sinyal.",
        "icons": [{"src": f"/app/icon-{px}.png", "sizes": f"{px}x{px}", "type": "image/png", "purpose": "any maskable"}
                  for px in (192, 512)],
    }
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/manifest+json")


@bp.get("/icon-<int:px>.png")
def icon(px: int):
    """The home-screen icon, drawn here (no image file to keep in step with the brand)."""
    if px not in (192, 512):
        return Response(status=404)
    response = Response(_icon_png(px), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def app_version() -> str:
    """A digest of everything the worker keeps: the shell's template and texts and each static file."""
    digest = hashlib.sha256(str(current_app.config.get("FIELD_APP_RELEASE") or "").encode())
    templates = Path(current_app.root_path).parent / "templates" / "fieldapp"
    for path in sorted(templates.iterdir()):
        digest.update(path.read_bytes())
    digest.update(json.dumps(app_texts(), sort_keys=True).encode())
    static = Path(current_app.static_folder)
    for name in STATIC_ASSETS:
        digest.update(name.encode())
        digest.update(_file_digest(static / name))
    return digest.hexdigest()[:16]


def _file_digest(path: Path) -> bytes:
    """A file's SHA-256, remembered while its size and time stay the same."""
    stat = path.stat()
    return _digest_of(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _digest_of(path: str, size: int, mtime_ns: int) -> bytes:
    return hashlib.sha256(Path(path).read_bytes()).digest()


@lru_cache(maxsize=2)
def _icon_png(px: int) -> bytes:
    """A white check mark on the brand's blue, inside the safe zone of a maskable icon."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (px, px), BRAND)
    draw = ImageDraw.Draw(image)
    unit = px / 100
    draw.rounded_rectangle((24 * unit, 24 * unit, 76 * unit, 76 * unit), radius=10 * unit, outline="white",
                           width=round(5 * unit))
    draw.line([(35 * unit, 51 * unit), (46 * unit, 62 * unit), (66 * unit, 39 * unit)], fill="white",
              width=round(7 * unit), joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def init_app(app) -> None:
    app.register_blueprint(bp)
