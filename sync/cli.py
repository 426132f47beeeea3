"""`flask sync ...`: enroll, push, pull, bundles, and the hub's device register."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import faults
from app.auth.service import kecamatan_list
from app.cli_support import cli_errors, write_transaction
from app.node import Device
from survey import registry
from sync import publish, run, service

sync = AppGroup("sync", help="Sync this device with a hub, over HTTP or with bundle files.")


def _max_photo() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"]


@sync.command("register")
@click.argument("name")
@click.option("--kecamatan", "scope", multiple=True, metavar="CODE", help="Kecamatan the device works in (repeatable).")
@click.option("--role", type=click.Choice(["field", "hub"]), default="field", show_default=True)
def register(name, scope, role):
    """On a hub: register a device and print its one-time enrollment code."""
    with cli_errors(), write_transaction() as session:
        kecamatan_list(session, list(scope))  # unknown codes are refused by name
        device, code = service.register_device(session, name, list(scope), role)
    click.echo(f"code {code} (valid 24 hours) for {name}")


@sync.command("enroll")
@click.option("--hub", "url", required=True, help="The hub's address, e.g. http://192.168.1.10:8080")
@click.option("--code", required=True, help="The one-time code shown on the hub.")
def enroll(url, code):
    """On a device: enroll with a hub using its one-time code."""
    with cli_errors():
        answer = run.enroll(url, code)
    click.echo(f"enrolled with {answer['hub_name']} ({answer['hub_id']})")


def _report(summary: run.Summary) -> None:
    click.echo(f"pushed {summary.pushed} changes, {summary.photos} photos; pulled {summary.pulled}, "
               f"applied {summary.applied}; conflicts {summary.conflicts}")
    if summary.recovered:
        click.echo(f"taken back from the hub after a restore: {summary.recovered} of this node's own changes")
    for note in summary.notes:
        click.echo(note)


@sync.command("push")
@click.option("--hub", "url", help="The hub's address (default: the one enrolled with).")
def push(url):
    """Send this device's changes to the hub."""
    with cli_errors():
        _report(run.push(url))


@sync.command("pull")
@click.option("--hub", "url", help="The hub's address (default: the one enrolled with).")
def pull(url):
    """Fetch the hub's changes for this device."""
    with cli_errors():
        _report(run.pull(url))


@sync.command("now")
@click.option("--hub", "url", help="The hub's address (default: the one enrolled with).")
def now(url):
    """Push, then pull."""
    with cli_errors():
        _report(run.now(url))


@sync.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Bundle file to write.")
def export(out):
    """On a device: write every change the hub has not acknowledged into one signed bundle."""
    with cli_errors(), write_transaction() as session:
        manifest = service.export_bundle(session, out, run.photo_store())
    count = max(0, manifest["last_seq"] - manifest["first_seq"] + 1) if manifest["last_seq"] else 0
    click.echo(f"wrote {out}: changes {manifest['first_seq']}–{manifest['last_seq']} ({count}), "
               f"{sum(1 for m in manifest['members'] if m.startswith('photos/'))} photos")


@sync.command("import")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--return-out", type=click.Path(dir_okay=False, path_type=Path),
              help="On a hub: where to write the return bundle (default: next to the input, .return.zip).")
def import_(bundle_file, return_out):
    """Apply a bundle: a device's bundle on a hub (writes a return bundle), a return bundle on a device."""
    data = bundle_file.read_bytes()
    with cli_errors(), write_transaction() as session:
        if service.peer(session) is not None and current_app.config["ROLE"] == "field":
            result = service.import_return_bundle(session, data, run.photo_store(), _max_photo())
            message = f"applied {result.applied} of {result.received} changes ({result.duplicates} already here)"
        else:
            target = return_out or bundle_file.with_name(bundle_file.stem + ".return.zip")
            ack, _ = service.import_push_bundle(session, data, run.photo_store(), _max_photo(), target)
            message = (f"applied {ack.applied}, already here {ack.duplicates}, waiting {ack.waiting}, "
                       f"conflicts {ack.conflicts}; acknowledged up to {ack.acked_seq}; return bundle {target}")
        faults.point("before commit")
    click.echo(message)


@sync.command("devices")
def devices():
    """On a hub: list devices, their scope and when they were last seen."""
    with write_transaction() as session:
        for device in session.query(Device).order_by(Device.name):
            state = "revoked" if device.revoked_at else ("enrolled" if device.token_hash else
                                                         ("this hub" if device.is_self else "waiting for code"))
            click.echo(f"{device.id}\t{device.name}\t{state}\t{','.join(device.scope or []) or '-'}\t"
                       f"{device.last_seen_at.isoformat() if device.last_seen_at else '-'}")


@sync.command("revoke")
@click.argument("device_id")
def revoke(device_id):
    """On a hub: stop a device from syncing (lost or retired tablet)."""
    import uuid

    with cli_errors(), write_transaction() as session:
        try:
            device = session.get(Device, uuid.UUID(device_id))
        except ValueError:
            device = None
        if device is None or device.is_self:
            raise click.ClickException(f"no such device: {device_id}")
        service.revoke(session, device)
    click.echo(f"revoked {device_id}")


@sync.command("publish")
def publish_command():
    """On a hub: put regions, users, checklists and facilities made outside sync into the change log."""
    with write_transaction() as session:
        counts = publish.publish_state(session, demo=bool(current_app.config.get("DEMO")),
                                       checklists=registry.installed().values())
    click.echo("published " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def register_cli(app) -> None:
    app.cli.add_command(sync)
