"""Warehouse commands for the ``sohoa`` CLI: ``scrub``, ``audit verify`` and ``lifecycle sweep``.

Register with ``cli.storage_commands.register(main)``. ``scrub`` and ``audit verify`` exit 1 when
they find a problem, so they can run from cron or CI; ``--json`` prints one JSON object.
"""

from __future__ import annotations

import json
import sys
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


@click.command("scrub")
@click.option("--repair/--no-repair", default=False, help="Finalise interrupted uploads, restore, remove stale temps.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def scrub_command(repair: bool, as_json: bool) -> None:
    """Re-hash stored objects against the catalogue; report missing or tampered ones."""
    from storage.objectstore import open_object_store
    from storage.warehouse.scrub import scrub

    catalogue = _catalogue()
    try:
        report = scrub(catalogue, open_object_store(get_settings()), repair=repair)
    finally:
        catalogue.dispose()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(f"Đã kiểm tra {report.checked} đối tượng: {report.ok} nguyên vẹn, {report.expired} hết hạn lưu giữ.")
        for label, items in (
            ("Thiếu", report.missing),
            ("Bị thay đổi", report.tampered),
            ("Đã khôi phục", report.repaired),
            ("Tải lên dở dang", report.pending),
            ("Đã hoàn tất", report.finalised),
            ("Đã hủy", report.dropped),
            ("Tệp tạm cũ", report.stale_temp),
        ):
            for item in items:
                click.echo(f"  {label}: {item}")
    sys.exit(0 if report.clean else 1)


@click.group("audit")
def audit_group() -> None:
    """Access audit log of the warehouse."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def audit_verify(as_json: bool) -> None:
    """Check the hash chain of the audit log: detects edited or removed entries."""
    from storage.warehouse.audit import verify

    catalogue = _catalogue()
    try:
        report = verify(catalogue)
    finally:
        catalogue.dispose()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    elif report.ok:
        click.echo(f"Nhật ký truy cập nguyên vẹn: {report.entries} bản ghi.")
    else:
        click.echo(f"Nhật ký truy cập bị can thiệp ({report.entries} bản ghi):")
        for problem in report.problems:
            click.echo(f"  {problem}")
    sys.exit(0 if report.ok else 1)


@click.group("lifecycle")
def lifecycle_group() -> None:
    """Retention of raw scans."""


@lifecycle_group.command("sweep")
@click.option(
    "--days", type=click.IntRange(min=1), default=None, help="Expiry in days (default: the configured raw expiry)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def lifecycle_sweep(days: int | None, as_json: bool) -> None:
    """Delete raw scans older than their expiry (for the local store: S3 buckets expire them by rule)."""
    from storage.catalogue.db import Catalogue
    from storage.objectstore import open_object_store
    from storage.warehouse import Warehouse
    from storage.warehouse.lifecycle import sweep_expired

    settings = get_settings()
    warehouse = Warehouse(Catalogue(settings.db_url), open_object_store(settings))
    expiry = days or warehouse.store.policy.raw_expiry_days
    removed = sweep_expired(warehouse, days=expiry)
    if as_json:
        click.echo(json.dumps({"expiry_days": expiry, "removed": removed}, ensure_ascii=False))
    else:
        click.echo(f"Đã xóa {len(removed)} bản quét gốc quá {expiry} ngày lưu giữ.")


def register(group: click.Group) -> None:
    group.add_command(scrub_command)
    group.add_command(audit_group)
    group.add_command(lifecycle_group)
