"""Webhooks: a JSON POST signed per Standard Webhooks (https://www.standardwebhooks.com).

webhook-id is the job id, stable across retries and resends, so a receiver drops duplicates;
webhook-signature is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret
`whsec_<base64>`. 2xx is accepted; 408, 429, 5xx and timeouts are transient (Retry-After
honoured); redirects and every other 4xx are permanent (a redirect is not followed: the
signed POST must reach the configured URL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

from bookctl.notify import SendError

if TYPE_CHECKING:
    import http.client
    import urllib.request

TRANSIENT_STATUSES = frozenset({408, 425, 429})
SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 after the `whsec_` prefix (a bare base64 string works too)."""
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw + "==")  # tolerate unpadded base64, as the reference does
    except ValueError:
        raise SendError("webhook secret is not base64 (expected whsec_...)", False) from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def headers(msg_id: str, body: bytes, secret: str | None, timestamp: int) -> dict[str, str]:
    out = {
        "Content-Type": "application/json",
        "User-Agent": "bookctl",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        out["webhook-signature"] = sign(secret, msg_id, timestamp, body)
    return out


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


IDLE_SECONDS = 4.0  # a kept-alive connection idle this long is reopened (servers drop them)
MAX_BODY = 65536  # of an answer, read to keep the connection; a longer one closes it


def _opener() -> urllib.request.OpenerDirector:
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # the 3xx surfaces as an HTTPError: permanent

    return urllib.request.build_opener(NoRedirect())


def _failure(status: int, retry_after: str | None) -> SendError:
    transient = status in TRANSIENT_STATUSES or status >= 500
    after = parse_retry_after(retry_after, time.time()) if transient else None
    return SendError(f"webhook answered HTTP {status}", transient, after)


class WebhookSender:
    """POSTs to one URL over one kept-alive HTTP/1.1 connection (http.client), opened on
    first use and reused: urllib opened a new connection (and built a new opener) per POST.
    A reused connection the server closed meanwhile is reopened once, at once; a receiver
    drops the duplicate, if any, by webhook-id. When a proxy applies (http_proxy and
    friends), POSTs go through urllib as before. Not thread-safe: each thread owns one."""

    def __init__(self, url: str, secret: str | None, timeout: float) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._last_used = 0.0
        self._opener: urllib.request.OpenerDirector | None = None
        self._target: tuple[str, str, int | None, str] | None = None  # scheme, host, port, path
        self._proxied = False
        self._reused = False
        self._parse()

    def _parse(self) -> None:
        from urllib.parse import urlsplit
        from urllib.request import getproxies, proxy_bypass

        try:
            u = urlsplit(self.url)
            port = u.port
        except ValueError:
            return  # malformed: every post says so
        if u.scheme not in ("http", "https") or not u.hostname:
            return
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self._target = (u.scheme, u.hostname, port, path)
        self._proxied = u.scheme in getproxies() and not proxy_bypass(u.hostname)

    def post(self, payload: dict[str, Any], msg_id: str) -> None:
        """POST the signed payload; returns on 2xx, else raises SendError. The timestamp is
        real time (receivers reject signatures outside a few minutes of their clock), even
        when BOOKCTL_NOW fakes the scheduling clock."""
        if self._target is None:
            raise SendError("webhook URL is malformed (BOOKCTL_WEBHOOK_URL)", False)
        body = encode(payload)
        hdrs = headers(msg_id, body, self.secret, int(time.time()))
        if self._proxied:
            self._post_urllib(body, hdrs)
            return
        import http.client
        import ssl

        try:
            try:
                status, retry_after = self._exchange(body, hdrs)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not self._reused:
                    raise
                self.close()  # the server had closed the idle connection: one fresh try
                status, retry_after = self._exchange(body, hdrs)
        except ssl.SSLCertVerificationError:
            self.close()
            raise SendError("webhook TLS certificate refused", transient=False) from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            raise SendError(f"webhook error: {type(exc).__name__}: {exc}", True) from None
        if not 200 <= status < 300:
            raise _failure(status, retry_after)  # a 3xx is not followed: permanent

    def _exchange(self, body: bytes, hdrs: dict[str, str]) -> tuple[int, str | None]:
        import http.client

        assert self._target is not None
        scheme, host, port, path = self._target
        if self._conn is not None and time.monotonic() - self._last_used > IDLE_SECONDS:
            self.close()
        if self._conn is None:
            if scheme == "https":
                import ssl

                # verifies the certificate and host name, as urllib's default did
                context = ssl.create_default_context()
                self._conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=context
                )
            else:
                self._conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        conn = self._conn
        self._reused = conn.sock is not None
        conn.request("POST", path, body=body, headers=hdrs)
        resp = conn.getresponse()
        retry_after = resp.getheader("Retry-After")
        resp.read(MAX_BODY)
        if not resp.isclosed():  # a longer answer than we read: do not reuse
            self.close()
        self._last_used = time.monotonic()
        return resp.status, retry_after

    def _post_urllib(self, body: bytes, hdrs: dict[str, str]) -> None:
        import http.client
        import ssl
        import urllib.error
        import urllib.request

        if self._opener is None:
            self._opener = _opener()
        try:
            req = urllib.request.Request(self.url, data=body, headers=hdrs)
        except ValueError:
            raise SendError("webhook URL is malformed (BOOKCTL_WEBHOOK_URL)", False) from None
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                status = resp.status
                resp.read(MAX_BODY)
        except urllib.error.HTTPError as exc:
            retry_after = exc.headers.get("Retry-After")
            exc.close()
            raise _failure(exc.code, retry_after) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise SendError("webhook TLS certificate refused", transient=False) from None
            raise SendError(f"webhook connection error: {exc.reason}", transient=True) from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise SendError(f"webhook error: {type(exc).__name__}: {exc}", True) from None
        if not 200 <= status < 300:
            raise SendError(f"webhook answered HTTP {status}", transient=False)

    def close(self) -> None:
        if self._conn is not None:
            import contextlib

            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def post(
    url: str, payload: dict[str, Any], msg_id: str, secret: str | None, timeout: float
) -> None:
    """One POST on its own connection (the worker keeps a WebhookSender per thread)."""
    sender = WebhookSender(url, secret, timeout)
    try:
        sender.post(payload, msg_id)
    finally:
        sender.close()
