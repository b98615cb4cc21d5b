"""Cross-site request forgery: the portal's forms (/tra-cuu, /kiem-tra) answer only posts from its own pages.

A hostile page could otherwise make every visitor's browser post wrong lookups: each would count
against the visitor's address, and behind one NAT a single page view burns the tries of everyone
there (and, before the lookup guard, locked the result for all). Two checks, either of which
stops a forged post in the browsers that support it:

* **Fetch metadata and Origin.** A browser says where a request comes from: ``Sec-Fetch-Site``
  (all current browsers) must be ``same-origin`` or ``none`` (typed by the user); without it,
  ``Origin`` (every browser since 2019 on a POST) must name this service, by its Host or its
  public address. ``Origin: null`` proves nothing: the portal's own pages send it, since their
  ``Referrer-Policy: no-referrer`` hides their origin from form posts as well.
* **A double-submit token.** Each form carries a hidden field ``csrf``: an HMAC, under the portal's
  secret, of a random browser id kept in an HttpOnly, SameSite=Lax cookie (``__Host-`` prefixed
  over HTTPS, so that a sibling subdomain cannot plant one). A cross-site post carries no Lax
  cookie, and a hostile page can neither read the cookie nor compute the field. Browsers that
  send neither header above are still stopped by this.

The token is required of browsers only: a request that carries a browser's ``User-Agent``
(``Mozilla/…``, which every browser sends and a form cannot change) or any of the headers above.
A script that sends none of them is not a browser a hostile page can drive (``fetch`` adds
``Origin``, and changing ``User-Agent`` across sites needs a CORS preflight this service never
grants), and it could fetch a token as easily as send one, so asking it for one protects no one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

log = logging.getLogger(__name__)
COOKIE = "sohoa_csrf"
FIELD = "csrf"
REFUSED = (
    "Biểu mẫu không được gửi từ trang của Cổng tra cứu (có thể một trang web khác đã gửi thay bạn), "
    "nên yêu cầu đã bị từ chối. Vui lòng nhập lại thông tin trên trang này và gửi lại."
)
_NONCE = re.compile(r"[0-9a-f]{32}")
_BROWSER_HEADERS = ("origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")


def _cookie_name(request: Request) -> str:
    return f"__Host-{COOKIE}" if request.url.scheme == "https" else COOKIE


def _token(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, f"csrf\n{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _nonce(request: Request) -> str | None:
    value = request.cookies.get(_cookie_name(request))
    return value if value and _NONCE.fullmatch(value) else None


def form_token(request: Request) -> str:
    """The ``csrf`` field of a form on this page; a new browser id is made when the browser has none.

    ``remember`` (called by ``api.pages.page``) then sets that id as the cookie.
    """
    nonce = _nonce(request) or getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        nonce = secrets.token_hex(16)
        request.state.csrf_nonce = nonce
    return _token(request.app.state.portal_secret, nonce)


def remember(request: Request, response: Response) -> None:
    """Set the browser id cookie when this page made one for its form."""
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        return
    https = request.url.scheme == "https"
    response.set_cookie(_cookie_name(request), nonce, path="/", httponly=True, samesite="lax", secure=https)


def _own_hosts(request: Request) -> set[str]:
    hosts = {request.headers.get("host", "").lower()}
    base = request.app.state.services.settings.api.public_base_url
    if base:
        hosts.add(urlsplit(base).netloc.lower())
    return hosts - {""}


def _is_browser(request: Request) -> bool:
    agent = request.headers.get("user-agent", "")
    return agent.startswith("Mozilla/") or any(name in request.headers for name in _BROWSER_HEADERS)


def cross_site(request: Request) -> str | None:
    """Why the browser says this request comes from another site (None: it does not say so).

    ``Sec-Fetch-Site``, when sent, decides. ``Origin: null`` says nothing either way: the portal's
    own pages send it (their ``no-referrer`` policy hides the origin of their form posts too),
    and so do sandboxed frames; the token decides then.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return None if site in ("same-origin", "none") else f"Sec-Fetch-Site: {site}"
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc.lower() not in _own_hosts(request):
        return f"Origin: {origin[:100]}"
    return None


def refusal(request: Request, token: str | None) -> str | None:
    """Why a portal form post must be refused as forged (None: accept it)."""
    reason = cross_site(request)
    if reason is not None or not _is_browser(request):
        return reason
    nonce = _nonce(request)
    if nonce is None:
        return "no csrf cookie"
    if not token or not hmac.compare_digest(token.encode(), _token(request.app.state.portal_secret, nonce).encode()):
        return "csrf token missing or wrong"
    return None
