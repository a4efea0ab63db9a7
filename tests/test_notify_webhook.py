"""The webhook sender against a real local HTTP server: Standard Webhooks signatures checked
with the `standardwebhooks` package (not our code), 2xx accepted, 500/429/408 and timeouts
transient (Retry-After honoured), 410 and redirects permanent. Also home of the receiver
helper the worker tests reuse."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from bookctl.notify import SendError
from bookctl.notify.webhook import post

SECRET = "whsec_" + base64.b64encode(b"a webhook secret of 32 bytes!!!!").decode()


class Receiver:
    """A real HTTP server on a free port. `script` lists (status, headers) answers for
    successive requests (then 200); `delay` stalls each answer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[dict[str, str], bytes, float]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.requests.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                    )
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender timed out and hung up: that is the point of the test

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bookctl"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def verified(self) -> list[dict[str, Any]]:
        """Every request body, after the standardwebhooks package checked its signature."""
        wh = Webhook(SECRET)
        with self.lock:
            return [wh.verify(body, headers) for headers, body, _ in self.requests]

    def env(self) -> dict[str, str]:
        return {"BOOKCTL_WEBHOOK_URL": self.url, "BOOKCTL_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


PAYLOAD = {"type": "appointment.reminder", "appointment": {"booking_ref": "ABCD-EFGH-JKMNP"}}


def test_2xx_is_accepted_and_signed_per_standard_webhooks(receiver: Receiver) -> None:
    post(receiver.url, PAYLOAD, "42", SECRET, timeout=5)
    post(receiver.url, PAYLOAD, "42", SECRET, timeout=5)  # a resend keeps its id
    assert receiver.verified() == [PAYLOAD, PAYLOAD]
    headers = [h for h, _, _ in receiver.requests]
    assert [h["webhook-id"] for h in headers] == ["42", "42"]
    assert all(h["content-type"] == "application/json" for h in headers)
    assert all(abs(int(h["webhook-timestamp"]) - time.time()) < 300 for h in headers)
    assert all(h["webhook-signature"].startswith("v1,") for h in headers)


def test_a_wrong_secret_fails_verification(receiver: Receiver) -> None:
    other = "whsec_" + base64.b64encode(b"another secret, another sender").decode()
    post(receiver.url, PAYLOAD, "7", other, timeout=5)
    with pytest.raises(Exception, match="signature"):
        receiver.verified()


@pytest.mark.parametrize(
    ("status", "headers", "transient", "retry_after"),
    [
        (500, {}, True, None),
        (503, {"Retry-After": "3"}, True, 3.0),
        (429, {"Retry-After": "7"}, True, 7.0),
        (408, {}, True, None),
        (410, {}, False, None),
        (400, {"Retry-After": "7"}, False, None),
        (302, {"Location": "http://127.0.0.1:9/elsewhere"}, False, None),
    ],
)
def test_failures_are_classified(
    receiver: Receiver,
    status: int,
    headers: dict[str, str],
    transient: bool,
    retry_after: float | None,
) -> None:
    receiver.script.append((status, headers))
    with pytest.raises(SendError) as exc:
        post(receiver.url, PAYLOAD, "1", SECRET, timeout=5)
    assert exc.value.transient is transient
    assert exc.value.retry_after == retry_after
    assert str(status) in exc.value.message
    assert len(receiver.requests) == 1  # a redirect is not followed


def test_retry_after_as_an_http_date(receiver: Receiver) -> None:
    from email.utils import formatdate

    receiver.script.append((429, {"Retry-After": formatdate(time.time() + 120, usegmt=True)}))
    with pytest.raises(SendError) as exc:
        post(receiver.url, PAYLOAD, "1", SECRET, timeout=5)
    assert exc.value.transient
    assert exc.value.retry_after is not None and 60 < exc.value.retry_after <= 121


def test_a_timeout_and_a_closed_port_are_transient(receiver: Receiver) -> None:
    receiver.delay = 2.0
    with pytest.raises(SendError) as slow:
        post(receiver.url, PAYLOAD, "1", SECRET, timeout=0.3)
    assert slow.value.transient
    from test_notify_email import free_port

    with pytest.raises(SendError) as closed:
        post(f"http://127.0.0.1:{free_port()}/x", PAYLOAD, "1", SECRET, timeout=2)
    assert closed.value.transient


def test_the_secret_never_appears_in_the_request_or_errors(receiver: Receiver) -> None:
    receiver.script.append((500, {}))
    with pytest.raises(SendError) as exc:
        post(receiver.url, PAYLOAD, "1", SECRET, timeout=5)
    raw = json.dumps(receiver.requests[0][0]) + receiver.requests[0][1].decode()
    assert SECRET not in raw and SECRET[6:] not in raw
    assert SECRET not in str(exc.value)


class KeepAliveReceiver:
    """An HTTP/1.1 server that keeps connections open and counts them; after `drop_after`
    requests it hangs up without saying so (as servers do with idle connections)."""

    def __init__(self, drop_after: int) -> None:
        self.connections = 0
        self.ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                receiver.connections += 1
                super().setup()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.ids.append(self.headers["webhook-id"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if len(receiver.ids) == drop_after:
                    self.close_connection = True  # no "Connection: close" told

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_sender_reuses_its_connection_and_survives_the_server_closing_it() -> None:
    from bookctl.notify.webhook import WebhookSender

    r = KeepAliveReceiver(drop_after=5)
    sender = WebhookSender(r.url, SECRET, timeout=5)
    try:
        for i in range(5):
            sender.post(PAYLOAD, str(i))
        assert r.connections == 1
        time.sleep(0.2)  # the server has hung up by now
        sender.post(PAYLOAD, "5")  # reopened at once, not failed
        sender.post(PAYLOAD, "6")
        assert r.connections == 2
    finally:
        sender.close()
        r.server.shutdown()
        r.server.server_close()
    assert r.ids == ["0", "1", "2", "3", "4", "5", "6"]


def test_a_malformed_url_is_permanent() -> None:
    for url in ("ftp://example.org/x", "http:///nohost", "http://127.0.0.1:99999999/x"):
        with pytest.raises(SendError) as exc:
            post(url, PAYLOAD, "1", SECRET, timeout=1)
        assert not exc.value.transient and "malformed" in exc.value.message
