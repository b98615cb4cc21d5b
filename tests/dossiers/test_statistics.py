"""The figures centres report (``dossiers.statistics``), checked exactly on SQLite and PostgreSQL
against known dossiers (``tests.stats_data``)."""

from __future__ import annotations

from datetime import date

import pytest

from dossiers.services import Services
from dossiers.statistics import GroupBy, Period, Ratio, StatsPeriodInvalid, duration_vi, report
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
