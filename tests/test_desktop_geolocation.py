"""Qt WebEngine's geolocation requests in the desktop window: granted with a fix, denied fast without one."""

from __future__ import annotations

import time

import pytest

from tests import xdisplay
from tests.support import require


@pytest.fixture(scope="module")
def qt():
    require(xdisplay.qt_webengine_installed(), "pywebview and Qt WebEngine are not installed "
            "(pip install -r requirements-gui.txt)")
    from qtpy.QtCore import QCoreApplication

    from app.desktop import qt_geolocation

    application = QCoreApplication.instance() or QCoreApplication([])
    return application, qt_geolocation


class FakePermission:
    """What Qt WebEngine hands the program: a type, and grant/deny."""

    def __init__(self, kind):
        self.kind, self.answers = kind, []

    def permissionType(self):
        return self.kind

    def grant(self):
        self.answers.append("granted")

    def deny(self):
        self.answers.append("denied")


def fake_source(behaviour: str):
    """A position source that gets a fix, fails, or never answers."""
    from qtpy.QtCore import QObject, QTimer, Signal

    class Source(QObject):
        positionUpdated = Signal(object)
        errorOccurred = Signal(object)

        def sourceName(self):
            return "fake"

        def requestUpdate(self, timeout_ms):
            self.asked = timeout_ms
            if behaviour == "fix":
                QTimer.singleShot(10, lambda: self.positionUpdated.emit("position"))
            elif behaviour == "error":
                QTimer.singleShot(10, lambda: self.errorOccurred.emit("UpdateTimeoutError"))

    return Source


def ask(qt, monkeypatch, behaviour: str | None, kind_name: str = "Geolocation", probe_ms: int = 50) -> list[str]:
    application, module = qt
    source_class = fake_source(behaviour) if behaviour else None

    class Factory:
        @staticmethod
        def createDefaultSource(parent):
            return source_class() if source_class else None

    monkeypatch.setattr(module, "QGeoPositionInfoSource", Factory)
    monkeypatch.setattr(module, "PROBE_MS", probe_ms)
    permission = FakePermission(getattr(module.QWebEnginePermission.PermissionType, kind_name))
    module._on_permission(permission)
    deadline = time.monotonic() + 5
    while not permission.answers and time.monotonic() < deadline:
        application.processEvents()
        time.sleep(0.01)
    for _ in range(130):  # let the fallback timer (PROBE_MS + 1 s) fire: it must not answer twice
        application.processEvents()
        time.sleep(0.01)
    return permission.answers


@pytest.mark.parametrize("behaviour, kind, expected", [
    ("fix", "Geolocation", ["granted"]),            # a GPS or GeoClue fix: the page gets the real position
    ("error", "Geolocation", ["denied"]),           # no fix in time: the page opens the map and typed coordinates
    (None, "Geolocation", ["denied"]),              # no position plugin at all
    ("silent", "Geolocation", ["denied"]),          # a source that never answers does not hold the page
    ("fix", "MediaVideoCapture", ["denied"]),       # the app never needs the camera stream or microphone
])
def test_geolocation_requests_are_answered_once(qt, monkeypatch, behaviour, kind, expected):
    assert ask(qt, monkeypatch, behaviour, kind) == expected
