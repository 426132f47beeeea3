"""The pywebview window: Qt WebEngine on Linux, the system WebView (WebView2, WKWebView) elsewhere."""

from __future__ import annotations

import logging
import signal
import sys
import threading

log = logging.getLogger(__name__)
TITLE = "Pantau KLA"


def gui_backend() -> str | None:
    """Qt on Linux (requirements-gui.txt); None lets pywebview take the platform's own WebView."""
    return "qt" if sys.platform.startswith("linux") else None


def run_window(url: str, storage_path: str, on_first_shown=None) -> None:
    """Open the window on `url` and block until the user closes it."""
    import webview

    if gui_backend() == "qt":
        _name_qt_application()
    window = webview.create_window(TITLE, url, width=1200, height=860, min_size=(360, 600),
                                   background_color="#f6f8fb", text_select=True)
    window.events.before_show += _on_before_show
    window.events.loaded += lambda: log.info("desktop: window loaded %s", window.get_current_url())
    if on_first_shown:
        shown = []

        def first_shown():
            if not shown:  # `shown` fires again each time the window is shown after hiding
                shown.append(True)
                on_first_shown(window)

        window.events.shown += first_shown
    # Saving a bundle or a backup file is a download: without this the window ignores it without a word.
    webview.settings["ALLOW_DOWNLOADS"] = True
    # private_mode: no cookies or cache kept between launches; the app's data lives in the database only.
    webview.start(gui=gui_backend(), private_mode=True, storage_path=storage_path)


def _name_qt_application() -> None:
    """Name the app before pywebview makes the QApplication: the window class and GeoClue's desktop id."""
    from qtpy.QtGui import QGuiApplication

    QGuiApplication.setApplicationName(TITLE)
    QGuiApplication.setDesktopFileName("pantau-kla")


def bring_forward(window) -> None:
    """Show, un-minimise and raise the window (pywebview marshals these to the GUI thread)."""
    window.show()
    window.restore()


def _on_before_show(window) -> None:
    """In the GUI thread, once the web view exists: SIGTERM handling, and Qt WebEngine's geolocation policy."""
    # SIGTERM (a logout, `kill`) closes the window the ordinary way, so the server is stopped cleanly.
    # Only the main thread may set a signal handler (WinForms calls this from its own STA thread).
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: window.destroy())
    if type(window.native).__module__ != "webview.platforms.qt":
        return  # WebView2 and WKWebView ask the user about geolocation themselves
    from app.desktop.qt_geolocation import install

    install(window.native.webview.page())
