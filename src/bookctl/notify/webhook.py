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


def _opener() -> urllib.request.OpenerDirector:
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # the 3xx surfaces as an HTTPError: permanent

    return urllib.request.build_opener(NoRedirect())


def post(
    url: str, payload: dict[str, Any], msg_id: str, secret: str | None, timeout: float
) -> None:
    """POST the signed payload; returns on 2xx, else raises SendError. The timestamp is real
    time (receivers reject signatures outside a few minutes of their clock), even when
    BOOKCTL_NOW fakes the scheduling clock."""
    import http.client
    import ssl
    import urllib.error
    import urllib.request

    body = encode(payload)
    ts = int(time.time())
    try:
        req = urllib.request.Request(url, data=body, headers=headers(msg_id, body, secret, ts))
    except ValueError:
        raise SendError("webhook URL is malformed (BOOKCTL_WEBHOOK_URL)", False) from None
    try:
        with _opener().open(req, timeout=timeout) as resp:
            status = resp.status
            resp.read(65536)
    except urllib.error.HTTPError as exc:
        status = exc.code
        retry_after = parse_retry_after(exc.headers.get("Retry-After"), time.time())
        exc.close()
        transient = status in TRANSIENT_STATUSES or status >= 500
        raise SendError(
            f"webhook answered HTTP {status}", transient, retry_after if transient else None
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            raise SendError("webhook TLS certificate refused", transient=False) from None
        raise SendError(f"webhook connection error: {exc.reason}", transient=True) from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise SendError(f"webhook error: {type(exc).__name__}: {exc}", True) from None
    if not 200 <= status < 300:
        raise SendError(f"webhook answered HTTP {status}", transient=False)
