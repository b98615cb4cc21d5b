"""``sohoa stats``: the figures centres report (``dossiers.statistics``), read from the catalogue directly
like the other admin commands: every centre, or ``--centre``; a table, JSON, CSV or an XLSX file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.common import day_option
from sohoa.settings import get_settings


@click.command("stats")
@click.option("--from", "date_from", help="First day (YYYY-MM-DD, Vietnam time); default: this month's first.")
@click.option("--to", "date_to", help="Last day, inclusive (YYYY-MM-DD); default: today, or the month's last day.")
@click.option(
    "--by", type=click.Choice(["total", "day", "month", "procedure", "centre"]), default="total", show_default=True
)
@click.option("--centre", help="Only this centre's figures (its code).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the report as CSV (UTF-8 with BOM).")
@click.option(
    "--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to this XLSX file."
)
def stats_command(
    date_from: str | None, date_to: str | None, by: str, centre: str | None, as_json: bool, as_csv: bool,
    xlsx: Path | None,
) -> None:  # fmt: skip
    """The figures a centre reports: digitisation at intake and of results, signatures, reuse, review."""
    from dossiers.budgets import vietnam_day
    from dossiers.statistics import GroupBy, Period, centre_of_code, report
    from dossiers.stats_export import to_csv, to_text, to_xlsx
    from sohoa.errors import SohoaError
    from storage.catalogue.db import Catalogue, migrate

    if sum((as_json, as_csv, xlsx is not None)) > 1:
        raise click.UsageError("chọn một trong --json, --csv, --xlsx")
    settings = get_settings()
    migrate(settings.db_url)
    catalogue = Catalogue(settings.db_url)
    try:
        group = GroupBy(by)
        period = Period.of(day_option(date_from, "--from"), day_option(date_to, "--to"), group)
        scope = None
        if centre:
            found = centre_of_code(catalogue, centre)
            if found is None:
                raise click.BadParameter(f"không có trung tâm {centre}", param_hint="--centre")
            scope = (found[0], centre, found[1])
        result = report(catalogue, period, group, scope)
    except SohoaError as exc:
        click.echo(exc.message_vi, err=True)
        sys.exit(2)
    finally:
        catalogue.dispose()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif as_csv:
        sys.stdout.buffer.write(to_csv(result))
        sys.stdout.buffer.flush()
    elif xlsx is not None:
        try:
            xlsx.write_bytes(to_xlsx(result, generated=vietnam_day()))
        except OSError as exc:
            click.echo(f"Không ghi được tệp {xlsx}: {exc.strerror or exc}", err=True)
            sys.exit(2)
        click.echo(f"Đã ghi báo cáo vào {xlsx}")
    else:
        click.echo(to_text(result))
