"""`flask init`: bring a database to the newest schema, register this device, load the demo."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from app.cli_support import write_transaction
from app.extensions import db
from survey import demo
from sync.service import ensure_self_device


def init_app(app: Flask) -> None:
    """Register the core commands."""
    app.cli.add_command(init_command)
    app.cli.add_command(serve_command)


def initialise(seed_demo: bool | None = None) -> dict[str, int]:
    """Migrate in place, make this device's id, and seed the demo once if demo mode is on."""
    upgrade()
    seed_demo = current_app.config["DEMO"] if seed_demo is None else seed_demo
    added: dict[str, int] = {}
    with write_transaction() as session:
        ensure_self_device(session, current_app.config["ROLE"])
        if seed_demo and not demo.is_seeded(session):
            added = demo.seed(session)
    return added


@click.command("init")
@click.option("--demo/--no-demo", "seed_demo", default=None, help="Load the demo (default: the DEMO setting).")
def init_command(seed_demo):
    """Upgrade the database in place (nothing is lost) and prepare this installation."""
    added = initialise(seed_demo)
    click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")
    if added:
        click.echo("demo loaded: " + ", ".join(f"{v} {k}" for k, v in added.items()))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for a hub on the office network).")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on (0 picks a free one).")
@click.option("--threads", default=4, show_default=True, type=int, help="Worker threads.")
def serve_command(host, port, threads):
    """Serve the app with waitress (a production server; no debug console)."""
    from waitress import serve

    click.echo(f"Pantau KLA ({current_app.config['ROLE']}) on http://{host}:{port}", err=True)
    serve(current_app._get_current_object(), host=host, port=port, threads=threads, ident="pantau-kla")
