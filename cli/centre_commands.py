"""Centres and signing keys for the ``sohoa`` CLI: ``sohoa centres add|list|disable|set-key`` and
``sohoa keys officer USERNAME`` (an officer's own signing key).

Register with ``cli.centre_commands.register(main, keys)``. A key is tried before it is registered:
a wrong file, passphrase, PIN, label or unreachable service is refused at once, not at the first copy.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from sohoa.settings import get_settings

if TYPE_CHECKING:
    from dossiers.services import Services
    from storage.catalogue.models import KeyKind

POLICIES = ("confirm_all", "auto_confident")


def _services() -> Services:
    from dossiers.bootstrap import prepare
    from dossiers.services import Services

    services = Services(get_settings())
    prepare(services)
    return services


def _fail(exc: Exception) -> NoReturn:
    from sohoa.errors import SohoaError

    message = f"{exc.code}: {exc.detail or exc.message_en}" if isinstance(exc, SohoaError) else str(exc)
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _key_options(func: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option("--p12", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PKCS#12 file."),
        click.option(
            "--passphrase-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="File holding the PKCS#12 passphrase (mode 0600).",
        ),
        click.option("--hsm-key", default=None, help="Key label in the HSM token."),
        click.option(
            "--hsm-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Its certificate."
        ),
        click.option(
            "--hsm-chain",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="CA certificates up to the root (repeat).",
        ),
        click.option("--hsm-token", default=None, help="Token label (default: signing.hsm_token_label)."),
        click.option(
            "--hsm-module",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="PKCS#11 module (default: signing.hsm_module).",
        ),
        click.option(
            "--pin-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="File holding the token's PIN (default: signing.hsm_pin_file).",
        ),
        click.option("--remote", "remote_url", default=None, help="URL of a remote-signing service."),
        click.option(
            "--token-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Bearer token for the remote-signing service (mode 0600).",
        ),
        click.option("--dev", is_flag=True, help="A development certificate (development PKI only)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _key_ref(options: dict[str, Any]) -> tuple[KeyKind, dict[str, Any]]:
    from dossiers.centres import key_ref_for
    from storage.catalogue.models import KeyKind

    chosen = [
        kind
        for kind, given in (
            (KeyKind.P12, options["p12"]),
            (KeyKind.HSM, options["hsm_key"]),
            (KeyKind.REMOTE, options["remote_url"]),
            (KeyKind.DEV, options["dev"]),
        )
        if given
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --p12, --hsm-key, --remote, --dev")
    kind = chosen[0]
    ref = key_ref_for(
        kind,
        p12=options["p12"],
        passphrase_file=options["passphrase_file"],
        hsm_key=options["hsm_key"],
        hsm_cert=options["hsm_cert"],
        hsm_token=options["hsm_token"],
        hsm_chain=tuple(options["hsm_chain"]),
        hsm_module=options["hsm_module"],
        pin_file=options["pin_file"],
        remote_url=options["remote_url"],
        token_file=options["token_file"],
    )
    return kind, ref


@click.group("centres")
def centres() -> None:
    """Centres of this deployment: each signs its results under its own name, key and seal."""


@centres.command("add")
@click.argument("code")
@click.option("--name", required=True, help='The issuing agency, e.g. "UBND phường Ba Đình".')
@click.option("--parent", "parent_name", default="", help='Its superior body, e.g. "UBND quận Ba Đình".')
@click.option("--place", default="", help="The place on its results' date line.")
@click.option("--symbol", default="", help="Its results' ký hiệu, e.g. UBND.")
@click.option("--seal", "seal_png", type=click.Path(exists=True, dir_okay=False), default=None, help="Seal PNG.")
@click.option("--policy", type=click.Choice(POLICIES), default="confirm_all", show_default=True)
def centres_add(
    code: str, name: str, parent_name: str, place: str, symbol: str, seal_png: str | None, policy: str
) -> None:
    """Add a centre (development key until `sohoa centres set-key`)."""
    from dossiers.centres import add_centre

    try:
        view = add_centre(
            _services(),
            code,
            name,
            parent_name=parent_name,
            place=place,
            symbol=symbol,
            seal_png=seal_png,
            signing_policy=policy,
        )
    except Exception as exc:
        _fail(exc)
    click.echo(json.dumps(view, ensure_ascii=False))


@centres.command("list")
def centres_list() -> None:
    from dossiers.centres import list_centres

    for row in list_centres(_services()):
        click.echo(json.dumps(row, ensure_ascii=False))


@centres.command("disable")
@click.argument("code")
def centres_disable(code: str) -> None:
    """Disable a centre: its officers can no longer act."""
    from dossiers.centres import disable_centre

    try:
        changed = disable_centre(_services(), code)
    except Exception as exc:
        _fail(exc)
    click.echo("disabled" if changed else "already disabled")


@centres.command("set-key")
@click.argument("code")
@_key_options
def centres_set_key(code: str, **options: Any) -> None:
    """Register the centre's own signing key (its e-results, and copies signed without an officer)."""
    from dossiers.centres import set_centre_key

    kind, ref = _key_ref(options)
    try:
        subject = set_centre_key(_services(), code, kind, ref)
    except Exception as exc:
        _fail(exc)
    click.echo(f"centre {code} signs with a {kind} key: {subject}")


@click.command("officer")
@click.argument("username")
@_key_options
def officer_key(username: str, **options: Any) -> None:
    """Register an officer's own signing key: the copies they confirm are signed with it."""
    from dossiers.centres import set_officer_key

    kind, ref = _key_ref(options)
    try:
        subject = set_officer_key(_services(), username, kind, ref)
    except Exception as exc:
        _fail(exc)
    click.echo(f"officer {username} signs with a {kind} key: {subject}")


def register(main: click.Group, keys: click.Group) -> None:
    main.add_command(centres)
    keys.add_command(officer_key)
