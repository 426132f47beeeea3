"""`flask users ...`: manage users from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.auth.queries import list_users
from app.auth.scope import ROLES
from app.auth.service import create_user
from app.cli_support import cli_errors, write_transaction
from app.extensions import db

users = AppGroup("users", help="Create and list users.")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--kecamatan", "kecamatan", multiple=True, metavar="CODE",
              help="Kemendagri code of a kecamatan the user works in (repeatable), e.g. 36.73.01.")
@click.option("--full-name", default="", help="The user's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(username, role, kecamatan, full_name, password_stdin):
    """Create user USERNAME with a role and, for auditors, their kecamatan."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password / Kata sandi", hide_input=True, confirmation_prompt=True)
    with cli_errors(), write_transaction():
        user = create_user(db.session, username=username, role=role, password=password,
                           full_name=full_name, kecamatan_codes=list(kecamatan))
    click.echo(f"created {user.username} ({user.role}) {' '.join(kecamatan)}".rstrip())


@users.command("list")
def list_():
    """List users: username, role, kecamatan, active."""
    for user in list_users(db.session):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{','.join(user.kecamatan_codes) or '-'}\t{state}")
