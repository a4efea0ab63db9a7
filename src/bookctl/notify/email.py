"""SMTP: building the message and sending it over a reused connection.

Failures are classified once, here: SMTP 4xx and connection trouble are transient (retried),
SMTP 5xx, a refused TLS certificate and a server without STARTTLS/AUTH are permanent."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bookctl.notify import SendError

if TYPE_CHECKING:
    import smtplib
    from email.message import Message

    from bookctl.config import Settings

TIMEOUT_SECONDS = 20.0
IDLE_CHECK_SECONDS = 10.0  # a connection idle this long is checked (NOOP) before reuse
DEFAULT_FROM = "bookctl@localhost"


def sender_address(settings: Settings) -> str:
    return settings.smtp_from or DEFAULT_FROM


def message_id(job_id: int, booking_ref: str, sender: str) -> str:
    """Stable per job: a retry or a resend after a crash carries the same Message-ID, so
    receivers can drop the duplicate."""
    domain = sender.rpartition("@")[2].strip("<> ") or "localhost"
    return f"<job-{job_id}.{booking_ref}@{domain}>"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready for SMTP: the envelope and the RFC 5322 bytes (CRLF line ends)."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes


ADDRESS_HEADERS = ("From", "To", "Reply-To")


def build_message(
    *,
    job_id: int,
    booking_ref: str,
    sender: str,
    to: str,
    reply_to: str | None,
    subject: str,
    text: str,
    ics: bytes | None,
    cancel: bool,
) -> Outgoing:
    """The email, built by the standard library's email package with its compat32 MIME
    classes (about a tenth of EmailMessage's default-policy cost, which was more than the
    send itself in the reminder burst): a text/plain part (quoted-printable UTF-8) and, with
    `ics`, a base64 text/calendar attachment (invite.ics, with the iTIP method) in a
    multipart/mixed. A header value with a line break is refused (ValueError)."""
    from email import encoders
    from email.charset import QP, Charset
    from email.header import Header
    from email.mime.base import MIMEBase
    from email.mime.multipart import MIMEMultipart
    from email.mime.nonmultipart import MIMENonMultipart
    from email.policy import compat32
    from email.utils import formataddr, formatdate, parseaddr

    utf8 = Charset("utf-8")
    utf8.body_encoding = QP  # readable in a raw mail, unlike the default base64
    body = MIMENonMultipart("text", "plain", charset="utf-8")
    body.set_payload(text, utf8)
    msg: Message[Any, Any] = body  # compat32 headers may be str or Header
    if ics is not None:
        invite = MIMEBase("text", "calendar", method="CANCEL" if cancel else "REQUEST")
        invite.set_param("charset", "utf-8")
        invite.set_payload(ics)
        encoders.encode_base64(invite)
        invite.add_header("Content-Disposition", "attachment", filename="invite.ics")
        msg = MIMEMultipart("mixed", _subparts=[body, invite])
    headers = [("From", sender), ("To", to)]
    if reply_to:
        headers.append(("Reply-To", reply_to))
    headers.append(("Subject", subject))
    for name, value in headers:
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name} header contains a line break")
        if value.isascii():
            msg[name] = value
        elif name in ADDRESS_HEADERS:  # RFC 2047 for the display name only
            msg[name] = formataddr(parseaddr(value), charset="utf-8")
        else:
            msg[name] = Header(value, "utf-8")
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(job_id, booking_ref, sender)
    msg["X-Bookctl-Ref"] = booking_ref
    data = msg.as_bytes(policy=compat32.clone(linesep="\r\n"))
    # the envelope: smtplib reduces "Name <addr>" to <addr> (quoteaddr)
    return Outgoing(sender=sender, recipients=(to,), data=data)


def _code_error(code: int, text: Any, what: str) -> SendError:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return SendError(f"SMTP {code} {what}: {text}".strip(), transient=400 <= code < 500)


class SmtpSender:
    """One SMTP connection, opened on first use and reused across jobs. Not thread-safe:
    each sending thread owns one."""

    def __init__(self, settings: Settings, timeout: float = TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0

    def _connect(self) -> smtplib.SMTP:
        import smtplib
        import ssl

        s = self.settings
        if not s.smtp_host:
            raise SendError("SMTP is not configured (BOOKCTL_SMTP_HOST)", transient=False)
        context = ssl.create_default_context()  # verifies the certificate and host name
        smtp: smtplib.SMTP
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port or 465, timeout=self.timeout, context=context
            )
        else:
            port = s.smtp_port or (587 if s.smtp_tls == "starttls" else 25)
            smtp = smtplib.SMTP(s.smtp_host, port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if s.smtp_tls == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except BaseException:
            _close(smtp)
            raise
        return smtp

    def _connection(self) -> smtplib.SMTP:
        import smtplib

        if self._smtp is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                self._smtp.noop()
            except (smtplib.SMTPException, OSError):
                self.close()  # the server hung up on an idle connection: open a new one
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def send(self, msg: Outgoing) -> None:
        """Send `msg`; returns when the server accepted it (250), else raises SendError."""
        import smtplib
        import ssl

        options: tuple[str, ...] = ()
        if not (msg.sender.isascii() and all(r.isascii() for r in msg.recipients)):
            options = ("SMTPUTF8", "BODY=8BITMIME")  # as send_message does
        try:
            smtp = self._connection()
            refused = smtp.sendmail(msg.sender, list(msg.recipients), msg.data, options)
            self._last_used = time.monotonic()
        except SendError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            raise _refused(exc.recipients) from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SendError(f"SMTP authentication failed ({exc.smtp_code})", False) from None
        except smtplib.SMTPNotSupportedError as exc:
            self.close()
            raise SendError(f"SMTP server lacks a needed extension: {exc}", False) from None
        except smtplib.SMTPServerDisconnected as exc:
            self.close()
            raise SendError(f"SMTP server disconnected: {exc}", transient=True) from None
        except smtplib.SMTPResponseException as exc:
            # sender refused, data refused, connect refused (e.g. 421): smtplib has already
            # sent RSET where the connection survives; a 421 means it will not.
            if exc.smtp_code == 421 or isinstance(exc, smtplib.SMTPConnectError):
                self.close()
            raise _code_error(exc.smtp_code, exc.smtp_error, "refused") from None
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise SendError(f"TLS certificate refused: {exc.verify_message}", False) from None
        except (smtplib.SMTPException, OSError) as exc:  # connection trouble, timeouts
            self.close()
            raise SendError(f"SMTP connection error: {type(exc).__name__}: {exc}", True) from None
        if refused:
            # sendmail returns normally when only SOME recipients were refused
            raise _refused(refused)

    def close(self) -> None:
        if self._smtp is not None:
            _close(self._smtp)
            self._smtp = None


def _refused(recipients: dict[str, tuple[int, bytes]]) -> SendError:
    codes = [code for code, _ in recipients.values()]
    # transient only if every refusal is: a 5xx will not change on retry
    transient = all(400 <= c < 500 for c in codes)
    detail = "; ".join(
        f"{addr}: {code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
        for addr, (code, text) in recipients.items()
    )
    return SendError(f"SMTP recipient refused: {detail}", transient=transient)


def _close(smtp: smtplib.SMTP) -> None:
    import contextlib

    with contextlib.suppress(Exception):
        smtp.quit()
    with contextlib.suppress(Exception):
        smtp.close()
