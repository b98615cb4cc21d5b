"""The signed device cookie that keeps an applicant's own browser out of a result's shared lockout."""

from __future__ import annotations

from api.trusted_devices import MAX_ENTRIES, remember_device, trusted_device

SECRET = b"s" * 32
NOW = 1_800_000_000.0
CODE = "000.00.12.H26-261121-0101-KQ1"
DAY = 86400


def test_a_pass_makes_the_browser_trusted_for_that_result_only() -> None:
    cookie = remember_device(SECRET, None, CODE, 30 * DAY, now=NOW)
    device = trusted_device(SECRET, cookie, CODE, now=NOW)
    assert device is not None
    assert trusted_device(SECRET, cookie, CODE + "2", now=NOW) is None
    assert CODE not in cookie  # the result is named by a keyed tag
    assert trusted_device(SECRET, None, CODE, now=NOW) is None


def test_expired_forged_or_foreign_entries_trust_nothing() -> None:
    cookie = remember_device(SECRET, None, CODE, 30 * DAY, now=NOW)
    assert trusted_device(SECRET, cookie, CODE, now=NOW + 31 * DAY) is None
    assert trusted_device(b"o" * 32, cookie, CODE, now=NOW) is None  # another deployment's secret
    tag, device, expires, mac = cookie.split("~")
    later = f"{tag}~{device}~{int(expires) + 365 * DAY}~{mac}"  # an extended expiry needs a new mac
    assert trusted_device(SECRET, later, CODE, now=NOW + 31 * DAY) is None
    other_device = f"{tag}~{'0' * 16}~{expires}~{mac}"  # a chosen device id (its own window) too
    assert trusted_device(SECRET, other_device, CODE, now=NOW) is None
    for junk in ("", "|||", "x" * 5000, cookie.replace("~", "|"), cookie + "~extra"):
        assert trusted_device(SECRET, junk, CODE, now=NOW) is None


def test_a_renewed_pass_keeps_the_device_id_and_other_results() -> None:
    first = remember_device(SECRET, None, CODE, 30 * DAY, now=NOW)
    both = remember_device(SECRET, first, CODE + "2", 30 * DAY, now=NOW + 1)
    renewed = remember_device(SECRET, both, CODE, 30 * DAY, now=NOW + 20 * DAY)
    device = trusted_device(SECRET, first, CODE, now=NOW)
    assert trusted_device(SECRET, renewed, CODE, now=NOW + 45 * DAY) == device  # same window, later expiry
    assert trusted_device(SECRET, renewed, CODE + "2", now=NOW + 2) is not None
    assert len(renewed.split("|")) == 2  # renewed in place, not added twice


def test_the_cookie_keeps_only_the_newest_results() -> None:
    cookie = None
    for n in range(MAX_ENTRIES + 3):
        cookie = remember_device(SECRET, cookie, f"{CODE}{n}", 30 * DAY, now=NOW + n)
    assert cookie is not None and len(cookie.split("|")) == MAX_ENTRIES
    assert trusted_device(SECRET, cookie, f"{CODE}0", now=NOW + 20) is None
    assert trusted_device(SECRET, cookie, f"{CODE}{MAX_ENTRIES + 2}", now=NOW + 20) is not None
