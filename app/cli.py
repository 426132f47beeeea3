"""`flask init`: bring a database to the newest schema, register this device, load the demo."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from app import serving
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
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker process.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Worker processes under gunicorn. Default: two per CPU core, at least 2.")
@click.option("--server", "server_name", type=click.Choice(serving.SERVERS), default="auto", show_default=True,
              help="gunicorn (Linux, macOS: several processes) or waitress (one process; Windows). "
                   "auto: gunicorn where it runs.")
def serve_command(host, port, threads, workers, server_name):
    """Serve the app: gunicorn with several worker processes on Linux and macOS, waitress on Windows."""
    try:
        chosen = serving.chosen_server(server_name)
    except RuntimeError as error:
        raise click.UsageError(str(error)) from error
    app = current_app._get_current_object()

    def announce(where: str) -> None:
        click.echo(f"Pantau KLA ({app.config['ROLE']}) on {where}", err=True)

    if chosen == "waitress":
        if workers not in (None, 1):
            raise click.UsageError("waitress serves from one process: --workers needs gunicorn")
        serving.serve_waitress(app, host, port, threads, announce)
    else:
        serving.serve_gunicorn(app, host, port, workers or serving.default_workers(), threads, announce)
