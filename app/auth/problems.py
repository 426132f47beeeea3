"""Error codes raised by accounts, sign-in and roles (app.auth): one entry per code, see app.problems."""

from __future__ import annotations

from app.problems import N_, Conflict, Forbidden, NotFound, Problem, Problems

AUTH_PROBLEMS = Problems(
    Problem("auth.forbidden", N_("Your role does not allow this."), Forbidden),
    Problem("user.bad_role", N_("Unknown role %(role)s.")),
    Problem("user.bad_username", N_("A username has 3 to 40 letters, digits, dots, dashes or underscores.")),
    Problem("user.exists", N_("The username %(username)s is already taken."), Conflict),
    Problem("user.not_found", N_("This user does not exist."), NotFound),
    Problem("user.weak_password", N_("A password has at least 8 characters.")),
)
