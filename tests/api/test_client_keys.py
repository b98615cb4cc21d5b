"""Who a per-client limit counts: an IPv4 address, an IPv6 client's /64, never a raw address in a tag."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.citizen import IPV6_CLIENT_PREFIX, client_key, client_tag, is_loopback
from storage.catalogue.warehouse_models import AuditEntry
from tests.api.conftest import Api

CODE = "000.00.12.H26-261121-0101"


def test_an_ipv4_client_is_its_address() -> None:
    assert client_key("203.0.113.5") == "203.0.113.5"
    assert client_key("203.0.113.6") != client_key("203.0.113.5")


def test_an_ipv6_client_is_its_64() -> None:
    assert IPV6_CLIENT_PREFIX == 64
    key = client_key("2001:db8:1:2::10")
    assert key == "2001:db8:1:2::/64"
    for same in ("2001:db8:1:2::1", "2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:0db8:0001:0002:abcd:0:0:1"):
        assert client_key(same) == key, same
    for other in ("2001:db8:1:3::10", "2001:db8:1:1:ffff:ffff:ffff:ffff", "2001:db9:1:2::10"):
        assert client_key(other) != key, other


def test_an_ipv4_mapped_address_is_the_ipv4_client() -> None:
    assert client_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert client_key("::ffff:cb00:7105") == "203.0.113.5"
    assert client_key("::ffff:127.0.0.1") == client_key("127.0.0.1")


def test_metrics_scrapers_on_this_machine_are_loopback_whatever_the_socket_family() -> None:
    for local in ("127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"):
        assert is_loopback(local), local
    for remote in ("203.0.113.5", "::ffff:203.0.113.5", "2001:db8::1", "::", "testclient", "-", ""):
        assert not is_loopback(remote), remote


def test_loopback() -> None:
    assert client_key("127.0.0.1") == "127.0.0.1"
    assert client_key("::1") == "::/64"
    assert client_key("::1") != client_key("127.0.0.1")


def test_a_scoped_link_local_address_is_its_64() -> None:
    assert client_key("fe80::1%eth0") == client_key("fe80::2") == "fe80::/64"


@pytest.mark.parametrize("host", ["testclient", "-", "", "/run/sohoa/api.sock", "[::1]", "1.2.3", "01.2.3.4", "::1/64"])
def test_anything_else_is_kept_as_given(host: str) -> None:
    assert client_key(host) == host


def test_tags_are_keyed_truncated_and_follow_the_key() -> None:
    secret = b"s" * 32
    tag = client_tag(secret, "2001:db8:1:2::10")
    assert len(tag) == 12 and "2001" not in tag
    assert client_tag(secret, "2001:db8:1:2::ffff") == tag
    assert client_tag(secret, "2001:db8:1:3::10") != tag
    assert client_tag(b"t" * 32, "2001:db8:1:2::10") != tag  # keyed: not a plain hash of the network
    assert client_tag(secret, "::ffff:203.0.113.5") == client_tag(secret, "203.0.113.5")


def _lookup(app, host: str, n: int) -> int:  # type: ignore[no-untyped-def]
    client = TestClient(app, client=(host, 50000))
    form = {"ma_ket_qua": f"{CODE}-KQ{n}", "so_dinh_danh": "123456", "ngay_sinh": "01/01/2000"}
    return client.post("/tra-cuu", data=form, follow_redirects=False).status_code


def test_clients_of_one_ipv6_64_share_the_lookup_limit(make_api: Callable[..., Api]) -> None:
    api = make_api(lookup_max_failures_per_ip=2, lookup_max_failures_per_code=100)
    app = api.client.app
    assert _lookup(app, "2001:db8:1:2::10", 1) == 403
    assert _lookup(app, "2001:db8:1:2:a:b:c:d", 2) == 403
    assert _lookup(app, "2001:db8:1:2:ffff::1", 3) == 429  # a fresh address of the same /64: no fresh limit
    assert _lookup(app, "2001:db8:1:2::10", 4) == 429
    assert _lookup(app, "2001:db8:1:3::10", 5) == 403  # the neighbouring /64 is another client
    assert _lookup(app, "203.0.113.5", 6) == 403
    assert _lookup(app, "::ffff:203.0.113.5", 7) == 403
    assert _lookup(app, "203.0.113.5", 8) == 429  # mapped and plain IPv4 are one client
    with api.services.catalogue.session() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "lookup").order_by(AuditEntry.seq)).all()
    clients = [e.detail["client"] for e in refused]
    assert len(clients) == 5 and len(set(clients[:2])) == 1 and len(set(clients)) == 3
    assert not any(":" in c or "." in c for c in clients)  # tags, not addresses


def test_clients_of_one_ipv6_64_share_the_verification_bucket(make_api: Callable[..., Api]) -> None:
    api = make_api(verify_burst_per_ip=1, verify_per_minute_per_ip=1)

    def verify(host: str) -> int:
        client = TestClient(api.client.app, client=(host, 50000))
        return client.post("/api/v1/verify", content=b"not a pdf").status_code

    assert verify("2001:db8:1:2::10") == 200
    assert verify("2001:db8:1:2::11") == 429
    assert verify("2001:db8:1:3::10") == 200
