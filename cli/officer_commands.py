"""``sohoa officers …``: officers' accounts (add, list, disable, unlock, reset TOTP, personal API key).

Register with ``cli.officer_commands.register(main)``. Errors exit 1 with a message on stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from sohoa.settings import get_settings

if TYPE_CHECKING:
    from storage.catalogue.db import Catalogue

ROLES = ("receiving_officer", "result_officer", "centre_admin")


@contextmanager
def _catalogue() -> Iterator[Catalogue]:
    from storage.catalogue.db import Catalogue, migrate
    from storage.errors import AccountError

    settings = get_settings()
    migrate(settings.db_url)
    catalogue = Catalogue(settings.db_url)
    try:
        yield catalogue
    except AccountError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(1)
    finally:
        catalogue.dispose()


@click.group("officers")
def officers_group() -> None:
    """Officers' accounts: sign-in at /can-bo/dang-nhap (password + TOTP, or the centre's OpenID Connect)."""


@officers_group.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name (shown on pages and signature blocks).")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--centre", "centre_code", required=True, help="Code of the officer's centre.")
@click.option("--title", default="", help="Chức vụ, e.g. 'Phó Chủ tịch'.")
@click.option("--password-stdin", is_flag=True, help="Read the initial password from standard input.")
def officers_add(username: str, full_name: str, role: str, centre_code: str, title: str, password_stdin: bool) -> None:
    """Create an account; without --password-stdin a one-time initial password is printed."""
    from storage.accounts.admin import add_officer
    from storage.catalogue.models import OfficerRole

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _catalogue() as catalogue:
        officer_id, made = add_officer(
            catalogue, username, full_name, OfficerRole(role), centre_code, title=title, password=password
        )
    click.echo(json.dumps({"id": officer_id, "username": username}, ensure_ascii=False))
    if made:
        click.echo(f"initial password (shown once; the officer signs in and changes it): {made}")


@officers_group.command("list")
def officers_list() -> None:
    """One JSON object per officer."""
    from storage.accounts.admin import list_officers

    with _catalogue() as catalogue:
        for row in list_officers(catalogue):
            click.echo(json.dumps(row, ensure_ascii=False))


def _simple(name: str, help_text: str, done: str) -> Callable[[Callable[[Catalogue, str], None]], None]:
    def wrap(action: Callable[[Catalogue, str], None]) -> None:
        @officers_group.command(name, help=help_text)
        @click.argument("username")
        def command(username: str) -> None:
            with _catalogue() as catalogue:
                action(catalogue, username)
            click.echo(done)

    return wrap


def _disable(catalogue: Catalogue, username: str) -> None:
    from storage.accounts.admin import disable

    disable(catalogue, username)


def _reset_totp(catalogue: Catalogue, username: str) -> None:
    from storage.accounts.admin import reset_totp

    reset_totp(catalogue, username)


def _unlock(catalogue: Catalogue, username: str) -> None:
    from storage.accounts.admin import unlock

    unlock(catalogue, username)


_simple("disable", "Disable an account: it can no longer sign in, its sessions end.", "disabled")(_disable)
_simple("reset-totp", "Forget the TOTP secret: the officer sets it up again at the next sign-in.", "totp reset")(
    _reset_totp
)
_simple("unlock", "Lift a lockout after too many failed sign-ins.", "unlocked")(_unlock)


@officers_group.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def officers_reset_password(username: str, password_stdin: bool) -> None:
    """Replace a forgotten password (sessions end, lockout lifted, TOTP kept); without --password-stdin
    a one-time password is made up and printed."""
    from storage.accounts.admin import reset_password

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _catalogue() as catalogue:
        made = reset_password(catalogue, username, password=password)
    click.echo("password reset")
    if made:
        click.echo(f"new password (shown once; hand it to the officer, who changes it): {made}")


@officers_group.command("key")
@click.argument("username")
def officers_key(username: str) -> None:
    """Create a personal API key acting as this officer (printed once; revoke with `sohoa keys revoke`)."""
    from storage.accounts.admin import officer_id_of
    from storage.catalogue.clients import create_client
    from storage.catalogue.models import ClientRole
    from storage.catalogue.officers import load_officer

    with _catalogue() as catalogue:
        officer = load_officer(catalogue, officer_id_of(catalogue, username))
        if officer is None:
            click.echo(f"error: officer {username!r} or their centre is disabled", err=True)
            sys.exit(1)
        key = create_client(catalogue, f"{officer.full_name} ({username})", ClientRole.OFFICER, officer_id=officer.id)
    click.echo(key)


def register(group: click.Group) -> None:
    group.add_command(officers_group)
