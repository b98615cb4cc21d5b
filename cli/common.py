"""What several ``sohoa`` command modules share: the prepared services, a refusal's exit, a JSON line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

import click

from sohoa.settings import get_settings

if TYPE_CHECKING:
    from dossiers.services import Services


@contextmanager
def prepared_services() -> Iterator[Services]:
    """The services, prepared (migrated, default centre), and closed again when the command is done."""
    from dossiers.bootstrap import prepare
    from dossiers.services import Services

    services = Services(get_settings())
    try:
        prepare(services)
        yield services
    finally:
        services.close()


def fail(exc: Exception) -> NoReturn:
    """Exit 1 with the error's code and its Vietnamese and English messages on standard error."""
    from sohoa.errors import SohoaError

    if isinstance(exc, SohoaError):
        detail = f" ({exc.detail})" if exc.detail else ""
        message = f"{exc.code}: {exc.message_vi} / {exc.message_en}{detail}"
    else:
        message = str(exc)
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def echo_json(row: dict[str, Any]) -> None:
    click.echo(json.dumps(row, ensure_ascii=False))


def day_option(value: str | None, option: str) -> date | None:
    """A ``--from``/``--to`` day (YYYY-MM-DD); a usage error naming the option otherwise."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter("ngày dạng YYYY-MM-DD", param_hint=option) from None
