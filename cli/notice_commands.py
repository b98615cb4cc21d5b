"""Telling the citizen, for the ``sohoa`` CLI: ``sohoa appointment-slip CODE`` (the giấy hẹn PDF) and
``sohoa notices list|retry|send`` (the result notices' outbox, ``dossiers.notices``).

Register with ``cli.notice_commands.register(main)``. Recipients are shown masked.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import echo_json, fail, prepared_services

STATES = ("pending", "sending", "sent", "failed", "cancelled")


@click.command("appointment-slip")
@click.argument("code")
@click.option("--size", type=click.Choice(["A5", "A4"]), default="A5", show_default=True, help="Paper size.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF file.")
def appointment_slip(code: str, size: str, output: Path) -> None:
    """Write the giấy hẹn (receipt and appointment slip) of dossier CODE as a PDF."""
    from dossiers.appointment_slip import appointment_slip_pdf

    try:
        with prepared_services() as services:
            pdf = appointment_slip_pdf(services, code, "A4" if size == "A4" else "A5", actor="operator")
    except Exception as exc:
        fail(exc)
    output.write_bytes(pdf)
    echo_json({"dossier_code": code, "size": size, "file": str(output), "bytes": len(pdf)})


@click.group("notices")
def notices() -> None:
    """Result notices to citizens (e-mail, SMS): the outbox."""


@notices.command("list")
@click.option("--state", type=click.Choice(STATES), default=None, help="Only notices in this state.")
@click.option("--dossier", default=None, help="Only this dossier's notices (its code).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def notices_list(state: str | None, dossier: str | None, as_json: bool) -> None:
    """Notices, newest first (recipients masked)."""
    from dossiers.notices import list_notices

    try:
        with prepared_services() as services, services.catalogue.reading() as s:
            rows = list_notices(s, dossier_code=dossier, state=state)
    except Exception as exc:
        fail(exc)
    for row in rows:
        if as_json:
            echo_json(row)
        else:
            error = f"\t{row['last_error']}" if row["last_error"] else ""
            click.echo(
                f"{row['id']}\t{row['result_code']}\t{row['channel']}\t{row['recipient']}\t{row['state']}"
                f"\t{row['attempts']}{error}"
            )


@notices.command("retry")
@click.argument("notice_id", type=int)
def notices_retry(notice_id: int) -> None:
    """Send a failed or cancelled notice again (its attempts start over); the sender takes it at its next round."""
    from dossiers.notices import retry_notice

    try:
        with prepared_services() as services:
            view = retry_notice(services, notice_id)
    except Exception as exc:
        fail(exc)
    echo_json(view)


@notices.command("send")
def notices_send() -> None:
    """Deliver the notices that are due now (the service does this every notices.poll_interval_s)."""
    from dossiers.notices import deliver_due

    try:
        with prepared_services() as services:
            counts = deliver_due(services)
    except Exception as exc:
        fail(exc)
    echo_json(counts)


def register(main: click.Group) -> None:
    main.add_command(appointment_slip)
    main.add_command(notices)
