"""Bearer-token authentication and security headers, as plain ASGI middleware.

Why the page also takes ``?token=`` once: a browser cannot send an ``Authorization`` header
on a plain navigation. ``/?token=<NEPHOS_API_TOKEN>`` is checked, answered with a redirect
to the same URL without the token, and sets an HttpOnly cookie holding an HMAC of the
token (never the token itself); later page loads, including the meta refresh, use the
cookie. The JSON API accepts only the header. All comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nephos_pipeline.api.page import PAGE_CSP, render_message

PUBLIC_PATHS = frozenset({"/health", "/openapi.json"})
PAGE_PATH = "/"
COOKIE = "nephos_session"
COOKIE_MAX_AGE = 12 * 3600
BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def error_json(status: int, code: str, message: str, parameter: str | None = None) -> JSONResponse:
    """The one error shape: {"error": {"code", "message", "parameter"?}}."""
    body: dict[str, str] = {"code": code, "message": message}
    if parameter is not None:
        body["parameter"] = parameter
    return JSONResponse({"error": body}, status_code=status)


def _equal(given: str | bytes, expected: str) -> bool:
    """Constant-time comparison of UTF-8 bytes (header values arrive as raw bytes)."""
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(given, expected.encode("utf-8"))


class BearerAuth:
    """Require ``Authorization: Bearer <token>`` everywhere except PUBLIC_PATHS."""

    def __init__(self, app: ASGIApp, token: str | None, disabled: bool = False) -> None:
        if not disabled and not token:
            raise ValueError("an API token is required unless authentication is explicitly disabled")
        self.app = app
        self.token = token or ""
        self.disabled = disabled
        self.session = hmac.new(self.token.encode(), b"nephos insights page session", hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.disabled or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._page_check(request) if scope["path"] == PAGE_PATH else self._api_check(request)
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal(scope, receive, send)

    def _bearer(self, request: Request) -> str | None:
        """None when the header is valid, otherwise why it is not."""
        header = request.headers.get("authorization")
        if header is None:
            return "missing bearer token: send 'Authorization: Bearer <NEPHOS_API_TOKEN>'"
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return "malformed Authorization header: expected 'Bearer <token>'"
        # Starlette decodes header bytes as latin-1; re-encoding recovers the bytes sent.
        if not _equal(value.strip().encode("latin-1"), self.token):
            return "invalid bearer token"
        return None

    def _api_check(self, request: Request) -> Response | None:
        reason = self._bearer(request)
        if reason is None:
            return None
        response = error_json(401, "unauthorized", reason)
        response.headers["WWW-Authenticate"] = 'Bearer realm="nephos"'
        return response

    def _page_check(self, request: Request) -> Response | None:
        if request.headers.get("authorization") is not None:
            reason = self._bearer(request)
            return None if reason is None else self._page_refusal(reason)
        token = request.query_params.get("token")
        if token is not None:
            if not _equal(token, self.token):
                return self._page_refusal("The token in the link is not valid.")
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = PAGE_PATH + ("?" + urlencode(rest) if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(
                COOKIE, self.session, max_age=COOKIE_MAX_AGE, path="/", httponly=True,
                samesite="lax", secure=request.url.scheme == "https",
            )
            return redirect
        if _equal(request.cookies.get(COOKIE, ""), self.session):
            return None
        return self._page_refusal("Sign in by opening /?token=<NEPHOS_API_TOKEN> once.")

    @staticmethod
    def _page_refusal(message: str) -> Response:
        html = render_message("Sign-in required", message, refresh=3600)
        return HTMLResponse(
            html, status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="nephos"', "Content-Security-Policy": PAGE_CSP},
        )


class SecurityHeaders:
    """Add nosniff, no-referrer, no-store, DENY framing and a default CSP to every response."""

    def __init__(self, app: ASGIApp, extra: Iterable[tuple[str, str]] = ()) -> None:
        self.app = app
        self.defaults = {**BASE_HEADERS, **dict(extra)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
