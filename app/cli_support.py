"""Helpers for CLI commands: one transaction each, and problems printed in both languages."""

from __future__ import annotations

import contextlib

import click
from flask_babel import force_locale, gettext

from app.db import reset_write_intent, set_write_intent
from app.extensions import db
from app.problems import AppError


@contextlib.contextmanager
def write_transaction():
    """Run the block in one write transaction (BEGIN IMMEDIATE on SQLite); commit or roll back."""
    token = set_write_intent(True)
    try:
        db.session.rollback()  # end any read transaction so the write lock is taken at BEGIN
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        reset_write_intent(token)


@contextlib.contextmanager
def cli_errors():
    """Turn an AppError into a message in Indonesian and English and exit status 1."""
    try:
        yield
    except AppError as error:
        raise click.ClickException(bilingual(error)) from None


def bilingual(error: AppError) -> str:
    """The error's message in Indonesian, then English, with its code."""
    texts = []
    for locale in ("id", "en"):
        with force_locale(locale):
            texts.append(gettext(error.message, **error.params))
    return f"[{error.code}] {texts[0]} / {texts[1]}"
