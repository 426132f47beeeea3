"""Failures with stable codes. Pure: domain code raises these without importing Flask."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for translation; it is translated when shown, in the user's language."""
    return message


class AppError(Exception):
    """A failure the user can understand: a stable code, an HTTP status and a message id.

    `message` is an English msgid, translated when rendered; `params` fill its %(name)s fields.
    """

    status = 422

    def __init__(self, code: str, message: str, status: int | None = None, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.message = message
        self.params = params
        self.field = field  # the form field the message belongs beside, when there is one
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message % self.params if self.params else self.message}"


class NotFound(AppError):
    """A record that does not exist or that the user may not see."""

    status = 404


class Forbidden(AppError):
    """The user's role does not allow this."""

    status = 403


class Conflict(AppError):
    """The change conflicts with what is stored."""

    status = 409
