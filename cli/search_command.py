"""``sohoa search``: the catalogue's search from the command line, read directly like the other
admin commands and audited as ``operator`` with the stated purpose (every centre, or ``--centre``)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from sohoa.settings import get_settings

if TYPE_CHECKING:
    from storage.catalogue.db import Catalogue


def _catalogue() -> Catalogue:
    from storage.catalogue.db import Catalogue, migrate

    settings = get_settings()
    migrate(settings.db_url)
    return Catalogue(settings.db_url)


def _day(value: str | None) -> datetime | None:
    return datetime.strptime(value, "%Y-%m-%d") if value else None


@click.command("search")
@click.argument("query", default="")
@click.option("--owner", help="Số định danh (12 digits): documents owned by or naming the person.")
@click.option("--type", "doc_types", multiple=True, help="Document type (repeatable), e.g. birth_certificate.")
@click.option("--from", "date_from", help="Created on or after (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Created on or before (YYYY-MM-DD).")
@click.option("--dossier", help="Dossier code.")
@click.option("--centre", help="Only this centre's documents (its code).")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 10))
@click.option("--purpose", default="tra cứu của quản trị viên", show_default=True, help="Recorded in the audit log.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
def search_command(
    query: str,
    owner: str | None,
    doc_types: tuple[str, ...],
    date_from: str | None,
    date_to: str | None,
    dossier: str | None,
    centre: str | None,
    page: int,
    purpose: str,
    as_json: bool,
) -> None:
    """Search digitised documents by words (diacritics optional), owner, type, dates and dossier."""
    from sqlalchemy import select

    from dossiers.catalogue_search import Criteria, centre_search, operator_search
    from sohoa.errors import SohoaError
    from sohoa.identifiers import OWNER_ID
    from storage.catalogue.models import Centre

    if owner and not OWNER_ID.fullmatch(owner):
        raise click.BadParameter("số định danh gồm 12 chữ số", param_hint="--owner")
    try:
        start, end = _day(date_from), _day(date_to)
    except ValueError as exc:
        raise click.BadParameter("YYYY-MM-DD") from exc
    criteria = Criteria(
        query.strip(), owner, doc_types, dossier, start.date() if start else None, end.date() if end else None, page
    )
    catalogue = _catalogue()
    try:
        if centre:
            with catalogue.reading() as s:
                centre_id = s.scalar(select(Centre.id).where(Centre.code == centre))
            if centre_id is None:
                raise click.BadParameter(f"không có trung tâm {centre}", param_hint="--centre")
            results = centre_search(catalogue, centre_id, criteria, actor="operator")
        else:
            results = operator_search(catalogue, criteria, purpose=purpose)
    except SohoaError as exc:
        click.echo(exc.message_vi, err=True)
        sys.exit(2)
    finally:
        catalogue.dispose()
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, default=str))
        return
    if not results.hits:
        click.echo("Không tìm thấy giấy tờ nào phù hợp.")
    for hit in results.hits:
        text = "".join(f"[{s['text']}]" if s["mark"] else s["text"] for s in hit["snippet"])
        click.echo(f"{hit['dossier_code']}  {hit['doc_type']}  {hit['owner_id']}  {hit['created_at'][:10]}")
        click.echo(f"    {text}")
    if results.has_more:
        click.echo(f"(còn nữa: --page {results.page + 1})")
