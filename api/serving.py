"""How uvicorn serves the app, in one place for every way it is started (one process, several, the bench).

* Forwarding headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from the
  proxies named in ``api.trusted_proxies``; with none named, uvicorn's proxy support is off.
  uvicorn's own default trusts them from 127.0.0.1, so behind a local proxy that passes a
  client's header on unchanged, a client could pick its address for every request and so
  escape each per-client limit.
* Slow clients meet deadlines (``api.slow_clients``), connections and tasks per process are
  bounded (``limit_concurrency``: beyond it uvicorn answers 503), idle keep-alive connections
  are closed after ``keep_alive_timeout_s``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from api.slow_clients import head_guard_protocol
from sohoa.settings import Settings


def forwarded_allow_ips(trusted_proxies: tuple[str, ...]) -> list[str]:
    """The networks uvicorn trusts, each IPv4 one also as the IPv4-mapped IPv6 network a dual-stack socket reports."""
    allowed: list[str] = []
    for text in trusted_proxies:
        network = ipaddress.ip_network(text, strict=False)
        allowed.append(str(network))
        if isinstance(network, ipaddress.IPv4Network):
            mapped = ipaddress.IPv6Address(f"::ffff:{network.network_address}")
            allowed.append(f"{mapped}/{96 + network.prefixlen}")
    return allowed


def uvicorn_options(settings: Settings, *, log_level: str = "info", access_log: bool = True) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run``/``uvicorn.Config`` for this service (host and port included)."""
    api = settings.api
    return {
        "host": api.host,
        "port": api.port,
        "log_level": log_level,
        "access_log": access_log,
        "proxy_headers": bool(api.trusted_proxies),
        "forwarded_allow_ips": forwarded_allow_ips(api.trusted_proxies),
        "http": head_guard_protocol(api.header_timeout_s, api.max_header_bytes),
        "timeout_keep_alive": api.keep_alive_timeout_s,
        "limit_concurrency": api.limit_concurrency,
        "server_header": False,  # no "server: uvicorn": nothing to tell a scanner which version to try
    }
