"""Packages announce changes to the ones above them by blinker signals (docs/architecture.md): each must have
its listener once the app is built, or a submitted audit would never enter the change log."""

from __future__ import annotations


def test_every_announcement_has_its_listener(app):
    """A change survey or accounts announce is logged by sync; boundaries imported relocate facilities."""
    from app.auth import signals as auth_signals
    from geo import signals as geo_signals
    from survey import signals as survey_signals

    for module in (survey_signals, auth_signals, geo_signals):
        for name in dir(module):
            signal = getattr(module, name)
            if hasattr(signal, "receivers") and not name.startswith("_"):
                assert signal.receivers, f"{module.__name__}.{name} has no receiver: nothing would record it"
