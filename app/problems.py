"""Failures with stable codes. Pure: domain code raises these without importing Flask."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Problem:
    """One registered failure: its key, English msgid, the class raised and its HTTP status.

    The key is the public code (`facility.bad_npsn`), or `code/variant` where one code is raised with
    several messages: clients branch on the code, so a variant keeps it and only the text differs.
    """

    key: str
    message: str
    error: type[AppError] = AppError
    status: int | None = None  # None: the class's own status

    @property
    def code(self) -> str:
        """The stable code the client sees."""
        return self.key.partition("/")[0]


class Problems:
    """One package's failures by key; calling it returns the exception to raise.

    `raise SURVEY_PROBLEMS("facility.bad_npsn", field="official_id")`: the registered class, code,
    status and msgid, with `field` and the %(name)s params given. An unknown key is a KeyError at once.
    """

    def __init__(self, *problems: Problem):
        self._problems: dict[str, Problem] = {}
        for problem in problems:
            if problem.key in self._problems:
                raise ValueError(f"problem {problem.key} registered twice")
            self._problems[problem.key] = problem

    def __call__(self, key: str, /, field: str | None = None, **params) -> AppError:
        """The exception to raise for `key`, beside `field`, with its %(name)s params."""
        problem = self._problems[key]
        status = problem.status or problem.error.status
        return problem.error(problem.code, problem.message, status=status, field=field, **params)

    def __iter__(self) -> Iterator[Problem]:
        """Every entry, in the order registered."""
        return iter(self._problems.values())

    def texts(self, key: str, translate: Callable[[str], str]) -> tuple[str, str]:
        """The Indonesian text (`translate` of the msgid, e.g. the catalog's) and the English msgid."""
        message = self._problems[key].message
        return translate(message), message


KERNEL_PROBLEMS = Problems(
    Problem("db.bad_value", N_("A value does not fit what the database stores.")),
    Problem("db.busy", N_("The database is busy. Please try again in a moment."), status=503),
    Problem("db.conflict", N_("This conflicts with a record that already exists."), Conflict),
    Problem("request.csrf", N_("Your session form expired. Reload the page and try again."), status=400),
)
