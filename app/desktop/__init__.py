"""The desktop app: the field app in its own window (`python -m app.desktop`, `pantau-kla`, `make desktop`).

One launch per data folder (`single.py`); the app under waitress on 127.0.0.1 in a background thread
(`server.py`); a pywebview window on it (`window.py`). Closing the window stops the server after the
running requests and checkpoints SQLite, then releases the lock. `--serve-only` serves without a
window and prints the URL (headless machines, tests of the packaged build).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

APP_NAME = "PantauKLA"
log = logging.getLogger("app.desktop")

ALREADY_OPEN = ("Pantau KLA sudah terbuka; jendelanya dibawa ke depan. / "
                "Pantau KLA is already open; its window was brought forward.")
NO_DISPLAY = ("[desktop.no_display] Tidak ada layar grafis (DISPLAY/WAYLAND_DISPLAY); jalankan dengan --serve-only. / "
              "No graphical display (DISPLAY/WAYLAND_DISPLAY); run with --serve-only.")
NOT_ANSWERING = ("[desktop.not_answering] Pantau KLA sudah berjalan untuk folder data ini tetapi tidak menjawab; "
                 "tunggu sebentar lalu coba lagi. / Pantau KLA is already running on this data folder but does "
                 "not answer; wait a moment and try again. ({detail})")


def data_folder() -> Path:
    """The instance folder: PANTAU_INSTANCE_PATH when set, else the user's data folder."""
    configured = os.environ.get("PANTAU_INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pantau-kla", description="Pantau KLA in its own window.")
    parser.add_argument("--serve-only", action="store_true",
                        help="serve on 127.0.0.1 without a window and print the URL; stop with Ctrl+C or SIGTERM")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app, or bring forward the one already running on this data folder."""
    args = parse_args(argv)
    if not args.serve_only and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(NO_DISPLAY, file=sys.stderr)  # Qt would abort the whole process without a word
        return 2
    folder = data_folder()
    folder.mkdir(parents=True, exist_ok=True)
    _setup_logging(folder)
    if os.name == "posix" and os.geteuid() == 0:
        # Chromium (inside Qt WebEngine) refuses to start its sandbox as root, e.g. in a container.
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

    from app.desktop.single import HandshakeFailed, SingleInstance, claim_or_reach

    guard = SingleInstance(folder)
    try:
        running_url = claim_or_reach(guard)
    except HandshakeFailed as error:
        print(NOT_ANSWERING.format(detail=error), file=sys.stderr)
        return 1
    if running_url is not None:
        print(ALREADY_OPEN, running_url, flush=True)
        return 0
    try:
        return _run(guard, folder, args.serve_only)
    finally:
        guard.release()


def _run(guard, folder: Path, serve_only: bool) -> int:
    """Migrate, serve, show the window (or wait), then shut down in order."""
    from app import create_app
    from app.cli import initialise
    from app.desktop.server import LocalServer

    app = create_app({"INSTANCE_PATH": str(folder), "ROLE": "field"})
    with app.app_context():
        initialise()  # what `flask init` does: migrate in place, register the device, demo if asked
    _setup_logging(folder)  # again: Alembic's logging config replaced the root handlers
    server = LocalServer(app).start()
    log.info("desktop: serving %s from %s", server.url, folder)
    try:
        if serve_only:
            _serve_only(guard, server.url)
        else:
            _windowed(guard, folder, server.url)
    finally:
        guard.close()
        result = server.stop()
        log.info("desktop: stopped; checkpoint %s", result)
    return 0


def _serve_only(guard, url: str) -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    guard.listen(url, on_show=lambda: None)
    print(f"Pantau KLA: {url}", flush=True)
    while not stop.wait(0.5):
        pass


def _windowed(guard, folder: Path, url: str) -> None:
    from app.desktop.window import bring_forward, run_window

    # Answer later launches only once the window exists, so "show" always has something to raise.
    run_window(url, storage_path=str(folder / "webview"),
               on_first_shown=lambda window: guard.listen(url, on_show=lambda: bring_forward(window)))


def _setup_logging(folder: Path) -> None:
    from logging.handlers import RotatingFileHandler

    log_file = RotatingFileHandler(folder / "desktop.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handlers: list[logging.Handler] = [log_file]
    if sys.stderr is not None:  # a windowed Windows build has no console
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers, force=True)
