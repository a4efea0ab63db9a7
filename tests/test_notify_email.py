"""The SMTP sender against a real aiosmtpd server on a free local port: acceptance,
connection reuse, stable Message-IDs, 4xx transient / 5xx permanent, refused recipients,
authentication. Also home of the SMTP server helper the worker and CLI tests reuse."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from email.message import Message
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bookctl.config import Settings
from bookctl.notify import SendError
from bookctl.notify.email import SmtpSender, build_message, message_id

PASSWORD = "s3cret-smtp-pa55"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Handler:
    """Records what it accepts. `script[address]` lists the DATA replies for successive
    messages to that address (then 250); `rcpt_refuse[address]` refuses at RCPT."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[Message] = []
        self.attempts: list[str] = []  # recipient of every DATA, accepted or not
        self.script: dict[str, list[str]] = {}
        self.rcpt_refuse: dict[str, str] = {}
        self.ehlos = 0
        self.delay = 0.0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.ehlos += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.rcpt_refuse:
            return self.rcpt_refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        to = envelope.rcpt_tos[0]
        with self.lock:
            self.attempts.append(to)
            queue = self.script.get(to)
            reply = queue.pop(0) if queue else "250 Message accepted for delivery"
            if reply.startswith("250"):
                self.accepted.append(
                    email.message_from_bytes(envelope.original_content, policy=default)
                )
        return reply

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.accepted]

    def messages(self) -> list[Message]:
        with self.lock:
            return list(self.accepted)


class SmtpServer:
    def __init__(self, **controller_options: Any) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **controller_options
        )

    def env(self) -> dict[str, str]:
        return {
            "BOOKCTL_SMTP_HOST": "127.0.0.1",
            "BOOKCTL_SMTP_PORT": str(self.port),
            "BOOKCTL_SMTP_TLS": "none",
            "BOOKCTL_SMTP_FROM": "desk@practice.example",
        }

    def settings(self, **extra: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_tls": "none",
            "smtp_from": "desk@practice.example",
        }
        values.update(extra)
        return Settings(**values)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


def _msg(job_id: int, to: str = "bob@example.org") -> Any:
    return build_message(
        job_id=job_id,
        booking_ref="ABCD-EFGH-JKMNP",
        sender="desk@practice.example",
        to=to,
        reply_to=None,
        subject="Booked",
        text="Hello",
        ics=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        cancel=False,
    )


def test_accepted_messages_reuse_one_connection_and_keep_their_message_id(
    smtp_server: SmtpServer,
) -> None:
    sender = SmtpSender(smtp_server.settings())
    try:
        for job_id in (1, 2, 3):
            sender.send(_msg(job_id))
    finally:
        sender.close()
    ids = smtp_server.handler.message_ids()
    assert ids == [message_id(j, "ABCD-EFGH-JKMNP", "desk@practice.example") for j in (1, 2, 3)]
    assert ids[0] == "<job-1.ABCD-EFGH-JKMNP@practice.example>"
    assert smtp_server.handler.ehlos == 1  # one connection for the three jobs
    part = [p for p in smtp_server.handler.messages()[0].walk() if p.get_filename()][0]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"


def test_4xx_is_transient_5xx_is_permanent_and_the_connection_survives(
    smtp_server: SmtpServer,
) -> None:
    h = smtp_server.handler
    h.script["bob@example.org"] = ["451 4.3.0 Try again later", "550 5.1.1 Mailbox unavailable"]
    sender = SmtpSender(smtp_server.settings())
    try:
        with pytest.raises(SendError) as first:
            sender.send(_msg(1))
        assert first.value.transient
        assert "451" in first.value.message
        with pytest.raises(SendError) as second:
            sender.send(_msg(2))
        assert not second.value.transient
        assert "550" in second.value.message and "Mailbox unavailable" in second.value.message
        sender.send(_msg(3))
    finally:
        sender.close()
    assert h.message_ids() == [message_id(3, "ABCD-EFGH-JKMNP", "desk@practice.example")]
    assert h.ehlos == 1


def test_refused_recipients_are_classified_by_their_code(smtp_server: SmtpServer) -> None:
    h = smtp_server.handler
    h.rcpt_refuse["gone@example.org"] = "550 5.1.1 No such user"
    h.rcpt_refuse["full@example.org"] = "452 4.2.2 Mailbox full"
    sender = SmtpSender(smtp_server.settings())
    try:
        with pytest.raises(SendError) as gone:
            sender.send(_msg(1, "gone@example.org"))
        assert not gone.value.transient and "No such user" in gone.value.message
        with pytest.raises(SendError) as full:
            sender.send(_msg(2, "full@example.org"))
        assert full.value.transient
    finally:
        sender.close()
    assert h.accepted == []


def test_connection_refused_is_transient() -> None:
    sender = SmtpSender(
        Settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_tls="none"), timeout=5
    )
    with pytest.raises(SendError) as exc:
        sender.send(_msg(1))
    assert exc.value.transient


def test_starttls_refused_by_a_plain_server_is_permanent(smtp_server: SmtpServer) -> None:
    sender = SmtpSender(smtp_server.settings(smtp_tls="starttls"), timeout=5)
    with pytest.raises(SendError) as exc:
        sender.send(_msg(1))
    assert not exc.value.transient
    assert smtp_server.handler.accepted == []


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"desk",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535


def test_login_when_a_user_is_set_and_no_password_in_errors() -> None:
    server = SmtpServer(authenticator=_authenticator, auth_require_tls=False)
    server.controller.start()
    try:
        good = SmtpSender(server.settings(smtp_user="desk", smtp_password=PASSWORD))
        good.send(_msg(1))
        good.close()
        bad = SmtpSender(server.settings(smtp_user="desk", smtp_password=PASSWORD + "x"))
        with pytest.raises(SendError) as exc:
            bad.send(_msg(2))
        assert not exc.value.transient
        assert PASSWORD not in str(exc.value)
    finally:
        server.controller.stop()
    assert len(server.handler.accepted) == 1


def test_non_ascii_and_long_headers_and_body_arrive_intact(smtp_server: SmtpServer) -> None:
    subject = "Reminder: Dr Zoë Müller-Lüdenscheidt (clinic), Wed 02 Dec 2026 10:00 EST [ABCD-EFGH]"
    long_subject = "Reminder: Provider 00001 (clinic5), Wednesday 02 December 2026 10:00 EST x y"
    text = "Hello Zoë,\n\n.leading dot stays\n  When: 10:00-10:30 (Europe/Zürich)\n"
    sender = SmtpSender(smtp_server.settings())
    try:
        for job_id, subj, ics in ((1, subject, b"BEGIN:VCALENDAR\r\n"), (2, long_subject, None)):
            sender.send(
                build_message(
                    job_id=job_id,
                    booking_ref="ABCD-EFGH-JKMNP",
                    sender="Désk <desk@practice.example>",
                    to="bob@example.org",
                    reply_to="ann@practice.example",
                    subject=subj,
                    text=text,
                    ics=ics,
                    cancel=True,
                )
            )
    finally:
        sender.close()
    first, second = smtp_server.handler.messages()
    assert [str(first["Subject"]), str(second["Subject"])] == [subject, long_subject]
    assert str(first["From"]) == "Désk <desk@practice.example>"
    assert str(first["Reply-To"]) == "ann@practice.example"
    assert first["Message-ID"] == message_id(1, "ABCD-EFGH-JKMNP", "desk@practice.example")
    for msg in (first, second):
        [part] = [p for p in msg.walk() if p.get_content_type() == "text/plain"]
        assert part.get_content().replace("\r\n", "\n") == text
    [ics_part] = [p for p in first.walk() if p.get_filename() == "invite.ics"]
    assert ics_part.get_param("method") == "CANCEL"
    assert ics_part.get_payload(decode=True) == b"BEGIN:VCALENDAR\r\n"
    assert not second.is_multipart()


def test_a_header_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError):
        build_message(
            job_id=1,
            booking_ref="ABCD-EFGH-JKMNP",
            sender="desk@practice.example",
            to="bob@example.org",
            reply_to=None,
            subject="Booked\r\nBcc: eve@example.org",
            text="Hello",
            ics=None,
            cancel=False,
        )
