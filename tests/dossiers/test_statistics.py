"""The figures centres report (``dossiers.statistics``), checked exactly on SQLite and PostgreSQL
against known dossiers (``tests.stats_data``)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dossiers.services import Services
from dossiers.signer_keys import DEFAULT_CENTRE_CODE
from dossiers.statistics import GroupBy, Period, Ratio, StatsPeriodInvalid, duration_vi, report
from dossiers.workspace import scoped
from storage.catalogue.models import Centre, Component, ComponentState, Document, Dossier
from storage.catalogue.officers import create_centre
from tests.stats_data import CENTRE_NAMES, EXPECTED, EXPECTED_BD_MONTH, PERIOD, as_tuple, seed

JAN_FEB = Period(date.fromisoformat(PERIOD[0]), date.fromisoformat(PERIOD[1]))


@pytest.mark.parametrize("by", ["total", "day", "month", "procedure", "centre"])
def test_every_figure_of_every_grouping(db_services: Services, by: str) -> None:
    seed(db_services.catalogue)
    got = report(db_services.catalogue, JAN_FEB, GroupBy(by)).to_dict()
    assert {"": as_tuple(got["total"])} == EXPECTED["total"]
    if by != "total":
        assert {row["key"]: as_tuple(row) for row in got["rows"]} == EXPECTED[by]
        assert [row["key"] for row in got["rows"]] == sorted(EXPECTED[by])
    else:
        assert got["rows"] == []


def test_ratios_and_labels_of_one_centre(db_services: Services) -> None:
    centres = seed(db_services.catalogue)
    got = report(db_services.catalogue, JAN_FEB, GroupBy.MONTH, (centres["BD"], "BD", CENTRE_NAMES["BD"]))
    assert {row.key: as_tuple(row.to_dict()) for row in got.rows} == EXPECTED_BD_MONTH
    assert [row.label for row in got.rows] == ["Tháng 01/2026", "Tháng 02/2026"]
    total = got.total
    assert total.intake.text_vi() == "5/8 = 62,50 %"
    assert total.results.text_vi() == "2/3 = 66,67 %"
    assert total.signed.text_vi() == "7/12 = 58,33 %"  # 5 components + 2 e-results of 8 + 4
    assert total.reused.text_vi() == "1/8 = 12,50 %"
    assert total.needs_review.text_vi() == "2/4 = 50,00 %"
    assert total.corrected.text_vi() == "2/4 = 50,00 %"
    assert total.median_seconds == 2700.0 and duration_vi(total.median_seconds) == "00:45:00"
    by_centre = report(db_services.catalogue, JAN_FEB, GroupBy.CENTRE).rows
    assert [(r.key, r.label) for r in by_centre] == [
        ("BD", "UBND phường Ba Đình (BD)"),
        ("HK", "UBND phường Hoàn Kiếm (HK)"),
    ]


def test_the_month_edge_follows_vietnam_time(db_services: Services) -> None:
    seed(db_services.catalogue)
    jan = report(db_services.catalogue, Period(date(2026, 1, 31), date(2026, 1, 31))).total
    feb = report(db_services.catalogue, Period(date(2026, 2, 1), date(2026, 2, 1))).total
    assert jan.components_received == 2  # D2, 23:30 on 31 January
    assert feb.components_received == 3  # D3, 00:30 on 1 February (still 31 January in UTC)


def test_an_empty_period_and_the_number_format() -> None:
    assert Ratio(1939, 1940).text_vi() == "1.939/1.940 = 99,95 %"
    assert Ratio(1904, 1904).text_vi() == "1.904/1.904 = 100,00 %"
    assert Ratio(1, 3).percent_vi() == "33,33 %" and Ratio(2, 3).percent_vi() == "66,67 %"
    assert Ratio(0, 0).text_vi() == "0/0 = —" and Ratio(0, 0).rate is None
    assert duration_vi(90061) == "1 ngày 01:01:01" and duration_vi(None) == "—"
    with pytest.raises(StatsPeriodInvalid):
        Period.of(date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(StatsPeriodInvalid):
        Period.of(date(2025, 1, 1), date(2026, 6, 1), GroupBy.DAY)
    assert Period.of(date(2026, 2, 10), None) == Period(date(2026, 2, 10), date(2026, 2, 28))


def test_nothing_received(db_services: Services) -> None:
    seed(db_services.catalogue)
    got = report(db_services.catalogue, Period(date(2025, 1, 1), date(2025, 1, 31)), GroupBy.DAY)
    assert got.rows == [] and as_tuple(got.total.to_dict()) == (0,) * 11 + (None,)


def _add_component(services: Services, dossier_suffix: str, *, signature_level: str, after: timedelta) -> None:
    """One more digitised component with its own document in the seeded dossier ``…-<suffix>``."""
    with services.catalogue.session() as s:
        dossier = s.scalars(select(Dossier).where(Dossier.code.endswith(f"-{dossier_suffix}"))).one()
        comp = Component(dossier_id=dossier.id, ref="extra", position=9, name="Giấy tờ", state=ComponentState.DONE)
        s.add(comp)
        s.flush()
        sha = hashlib.sha256(f"{dossier.code}/extra".encode()).hexdigest()
        doc = Document(
            component_id=comp.id,
            owner_id=dossier.applicant_id,
            doc_type="birth_certificate",
            type_confidence=0.9,
            needs_review=False,
            page_count=1,
            sha256=sha,
            size=1,
            object_key=f"sha256/{sha[:2]}/{sha}.pdf",
            signed_by="",
            signed_at=dossier.created_at + after,
            signature_level=signature_level,
        )
        s.add(doc)


def test_a_document_stored_unsigned_does_not_move_the_median(db_services: Services) -> None:
    seed(db_services.catalogue)
    _add_component(db_services, "D4", signature_level="", after=timedelta(days=10))  # stored unsigned
    got = report(db_services.catalogue, JAN_FEB, GroupBy.CENTRE)
    assert got.total.components_signed == 8  # as before: not a signed copy
    assert got.total.median_seconds == 900.0
    assert {r.key: r.median_seconds for r in got.rows} == {"BD": 2700.0, "HK": 300.0}


def test_a_dossier_without_a_centre_counts_for_the_default_centre(db_services: Services) -> None:
    """The same rule as the officers' workspace: own centre, else the station's, else the default one."""
    seed(db_services.catalogue)
    with db_services.catalogue.reading() as s:
        default = s.scalar(select(Centre.id).where(Centre.code == DEFAULT_CENTRE_CODE))
    if default is None:
        default = create_centre(db_services.catalogue, DEFAULT_CENTRE_CODE, "Trung tâm mặc định")
    with db_services.catalogue.session() as s:
        dossier = Dossier(
            code="000.00.12.H26-999-D9", procedure_code="1.000001", applicant_id="001203004567",
            batch_sha256="9" * 64, created_at=datetime(2026, 1, 5, 3, tzinfo=UTC),
        )  # fmt: skip
        s.add(dossier)
        s.flush()
        s.add(Component(dossier_id=dossier.id, ref="c0", position=0, name="Giấy tờ", state=ComponentState.PENDING))
    rows = {r.key: r.components_received for r in report(db_services.catalogue, JAN_FEB, GroupBy.CENTRE).rows}
    assert rows == {"BD": 8, "HK": 3, DEFAULT_CENTRE_CODE: 1}
    with db_services.catalogue.reading() as s:
        assert s.scalars(scoped(select(Dossier.code), default)).all() == ["000.00.12.H26-999-D9"]
    mine = report(db_services.catalogue, JAN_FEB, GroupBy.TOTAL, (default, DEFAULT_CENTRE_CODE, "Mặc định"))
    assert mine.total.components_received == 1


@pytest.mark.parametrize("name", ["=1+1", "@SUM(A1)", "+84 912", "-2+3", "\tTab", "\r=1"])
def test_a_centre_name_that_looks_like_a_formula_is_exported_as_text(db_services: Services, name: str) -> None:
    """A centre admin names their centre as they like: the CSV and XLSX exports show it, never run it."""
    from openpyxl import load_workbook

    from dossiers.stats_export import to_csv, to_xlsx

    centres = seed(db_services.catalogue)
    with db_services.catalogue.session() as s:
        s.get_one(Centre, centres["BD"]).name = name
    by_centre = report(db_services.catalogue, JAN_FEB, GroupBy.CENTRE)
    assert by_centre.rows[0].label == f"{name} (BD)"

    rows = list(csv.reader(io.StringIO(to_csv(by_centre).decode("utf-8-sig"))))
    labels = [row[0] for row in rows[5:]]
    assert labels == [f"'{name} (BD)", "UBND phường Hoàn Kiếm (HK)", "Tổng cộng"]

    sheet = load_workbook(io.BytesIO(to_xlsx(by_centre))).active
    assert sheet is not None
    cell = sheet.cell(row=6, column=1)
    assert (cell.value, cell.data_type) == (f"{name} (BD)", "s")
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)

    one = report(db_services.catalogue, JAN_FEB, GroupBy.MONTH, (centres["BD"], "BD", name))
    heading = load_workbook(io.BytesIO(to_xlsx(one))).active
    assert heading is not None
    assert (heading.cell(row=2, column=1).value, heading.cell(row=2, column=1).data_type) == (
        f"Đơn vị: {name} (BD)",
        "s",
    )
