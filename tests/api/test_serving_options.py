"""How uvicorn is told to serve (api.serving) and the public address the service names (api.base_url).

The behaviour itself is tested over real sockets in tests/e2e/test_front_door.py; these pin the
defaults and the validation that a deployment relies on.
"""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from api.serving import uvicorn_options
from api.slow_clients import HeadGuardProtocol
from sohoa.settings import ApiSettings, Settings


def test_no_forwarding_header_is_trusted_by_default() -> None:
    options = uvicorn_options(Settings())
    assert options["proxy_headers"] is False and options["forwarded_allow_ips"] == []
    assert options["http"].func is HeadGuardProtocol
    assert options["limit_concurrency"] and options["timeout_keep_alive"]
    assert pickle.loads(pickle.dumps(options))["http"].keywords == options["http"].keywords  # spawned processes


def test_trusted_proxies_are_networks_also_as_a_dual_stack_socket_reports_them() -> None:
    api = ApiSettings(trusted_proxies=("10.1.2.3", " 192.168.0.0/16", "2001:db8::/32"))
    assert api.trusted_proxies == ("10.1.2.3/32", "192.168.0.0/16", "2001:db8::/32")
    options = uvicorn_options(Settings(api=api))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == [
        "10.1.2.3/32",
        "::ffff:a01:203/128",
        "192.168.0.0/16",
        "::ffff:c0a8:0/112",
        "2001:db8::/32",
    ]


@pytest.mark.parametrize("proxy", ["*", "proxy.example", "10.0.0.0/33", ""])
def test_a_trusted_proxy_must_be_an_address_or_a_network(proxy: str) -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        ApiSettings(trusted_proxies=(proxy,))


def test_the_public_address_follows_the_port_unless_it_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHOA_API__PORT", "8123")
    monkeypatch.delenv("SOHOA_API__PUBLIC_BASE_URL", raising=False)
    assert Settings().api.base_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("SOHOA_API__HOST", "::")
    assert Settings().api.base_url == "http://127.0.0.1:8123"  # a wildcard bind: this host's loopback
    monkeypatch.setenv("SOHOA_API__HOST", "::1")
    assert Settings().api.base_url == "http://[::1]:8123"
    monkeypatch.setenv("SOHOA_API__PUBLIC_BASE_URL", "https://dichvucong.example.gov.vn/sohoa/")
    assert Settings().api.base_url == "https://dichvucong.example.gov.vn/sohoa"
    monkeypatch.setenv("SOHOA_API__PUBLIC_BASE_URL", "dichvucong.example.gov.vn")
    with pytest.raises(ValidationError, match="base URL"):
        Settings()
