"""Agencies that reuse stored documents, and their grants, for the ``sohoa`` CLI:
``sohoa agencies add|list|disable`` and ``sohoa grants add|list|revoke``.

Register with ``cli.agency_commands.register(main)``. Changes are audited with ``operator`` as actor
(``dossiers.agency_admin``). An agency's API key: ``sohoa keys create --role agency --agency-code CODE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.common import echo_json, fail
from sohoa.settings import get_settings

if TYPE_CHECKING:
    from storage.catalogue.db import Catalogue

ACTOR = "operator"


def _catalogue() -> Catalogue:
    from dossiers.bootstrap import prepare
    from dossiers.services import Services

    services = Services(get_settings())
    prepare(services)
    return services.catalogue


@click.group("agencies")
def agencies() -> None:
    """Agencies that reuse citizens' stored documents (by code, QĐ 20/2020)."""


@agencies.command("add")
@click.argument("code")
@click.option("--name", required=True, help='The agency, e.g. "UBND phường Hoàn Kiếm".')
def agencies_add(code: str, name: str) -> None:
    """Register an agency (or rename it; re-enables a disabled one)."""
    from dossiers.agency_admin import add_agency

    try:
        view = add_agency(_catalogue(), code, name, actor=ACTOR)
    except Exception as exc:
        fail(exc)
    echo_json(view)


@agencies.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, with its grants.")
def agencies_list(as_json: bool) -> None:
    """Every agency: code, name, state, API keys, grants in force."""
    from dossiers.agency_admin import list_agencies

    for row in list_agencies(_catalogue()):
        if as_json:
            echo_json(row)
            continue
        state = "disabled" if row["disabled"] else "active"
        in_force = sum(1 for g in row["grants"] if g["state"] == "active")
        click.echo(f"{row['code']}\t{state}\tkeys={row['active_keys']}\tgrants={in_force}\t{row['name']}")


@agencies.command("disable")
@click.argument("code")
def agencies_disable(code: str) -> None:
    """Disable an agency: its grants in force and its API keys are revoked."""
    from dossiers.agency_admin import disable_agency

    try:
        view = disable_agency(_catalogue(), code, actor=ACTOR)
    except Exception as exc:
        fail(exc)
    echo_json(view)


@click.group("grants")
def grants() -> None:
    """Grants: which document types an agency may fetch, for which purpose, until when."""


@grants.command("add")
@click.argument("agency")
@click.option("--types", "types", required=True, help="Document types, comma-separated, e.g. birth_certificate.")
@click.option("--purpose", required=True, help='Why, e.g. "giải quyết thủ tục đăng ký kết hôn".')
@click.option("--days", type=int, default=365, show_default=True, help="Validity from now, in days.")
def grants_add(agency: str, types: str, purpose: str, days: int) -> None:
    """Grant AGENCY (its code) these document types for a purpose."""
    from dossiers.agency_admin import GrantRequest, add_grant

    wanted = GrantRequest(agency, tuple(t for t in types.split(",") if t.strip()), purpose, days)
    try:
        view = add_grant(_catalogue(), wanted, actor=ACTOR)
    except Exception as exc:
        fail(exc)
    echo_json(view)


@grants.command("list")
@click.option("--agency", default=None, help="Only this agency's grants (its code).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def grants_list(agency: str | None, as_json: bool) -> None:
    """Grants in every state (active, pending, expired, revoked), oldest first."""
    from dossiers.agency_admin import list_grants

    try:
        rows = list_grants(_catalogue(), agency)
    except Exception as exc:
        fail(exc)
    for row in rows:
        if as_json:
            echo_json(row)
        else:
            types = ",".join(row["doc_types"])
            click.echo(
                f"{row['id']}\t{row['agency_code']}\t{row['state']}\t{row['expires_at'][:10]}\t{types}\t{row['purpose']}"
            )


@grants.command("revoke")
@click.argument("grant_id", type=int)
def grants_revoke(grant_id: int) -> None:
    """Revoke a grant: the agency can no longer fetch under it."""
    from dossiers.agency_admin import revoke

    try:
        view = revoke(_catalogue(), grant_id, actor=ACTOR)
    except Exception as exc:
        fail(exc)
    echo_json(view)


def register(main: click.Group) -> None:
    main.add_command(agencies)
    main.add_command(grants)
