"""Geolocation in Qt WebEngine: granted when Qt Positioning gives a fix, denied at once when it cannot.

Qt WebEngine asks the embedding program for every geolocation request; unanswered, the page's
`getCurrentPosition` never calls back and the audit page waits forever. pywebview's own handler
fails on PySide6 >= 6.8 (it passes an int policy), so it is replaced here. Each request first asks
Qt Positioning (GeoClue on Linux) for one reading: with a fix the page gets the real position;
with no source or no fix the page hears "denied" within PROBE_MS and opens the map-tap and typed
coordinates panel itself (static/js/audit.js), so an auditor is never stuck.
"""

from __future__ import annotations

import logging

from qtpy.QtCore import QTimer
from qtpy.QtPositioning import QGeoPositionInfoSource
from qtpy.QtWebEngineCore import QWebEnginePermission, QWebEngineProfile

PROBE_MS = 5000
log = logging.getLogger(__name__)
_kept: list = []  # Qt objects that must live until their signal arrives


def install(page) -> None:
    """Answer the page's permission requests: geolocation after a probe, everything else denied."""
    try:
        page.featurePermissionRequested.disconnect()
    except (RuntimeError, TypeError):  # nothing connected
        pass
    # Ask again on every request, so a GPS that gets a fix later is used then.
    page.profile().setPersistentPermissionsPolicy(QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime)
    page.permissionRequested.connect(_on_permission)


def _on_permission(permission) -> None:
    if permission.permissionType() != QWebEnginePermission.PermissionType.Geolocation:
        permission.deny()
        return
    source = QGeoPositionInfoSource.createDefaultSource(None)
    if source is None:
        log.info("desktop: no position source; geolocation denied, the page offers the map and typed coordinates")
        permission.deny()
        return
    request = (source, permission)
    _kept.append(request)

    def answer(granted: bool, why: str) -> None:
        if not any(kept is request for kept in _kept):
            return  # already answered
        _kept[:] = [kept for kept in _kept if kept is not request]
        log.info("desktop: geolocation %s (%s)", "granted" if granted else "denied", why)
        permission.grant() if granted else permission.deny()
        source.deleteLater()

    source.positionUpdated.connect(lambda info: answer(True, source.sourceName()))
    source.errorOccurred.connect(lambda error: answer(False, f"{source.sourceName()}: {error}"))
    # A source that never reports back must not hold the page: deny a little after the probe's limit.
    QTimer.singleShot(PROBE_MS + 1000, lambda: answer(False, "no answer from the position source"))
    source.requestUpdate(PROBE_MS)
