"""The outbox worker behind `bookctl reminders run`.

One loop: claim a batch of due jobs in ONE `UPDATE ... RETURNING` (with a lease and a fresh
claim token), send them on a few threads, write every outcome back guarded by the token,
sleep until the next job is due (waking at least every second). Any number of workers may
run over one database: a job belongs to whoever holds its token; a write-back that finds
another token (the lease expired and someone else claimed it, or the job was cancelled)
is dropped. A worker killed mid-send leaves 'sending' jobs whose lease runs out, and the
claim query takes those again: nothing is lost; what was in flight may go out twice, with
the same Message-ID / webhook-id so receivers can drop the copy.
"""

from __future__ import annotations

import math
import os
import random
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from bookctl import policy
from bookctl.config import Settings
from bookctl.domain import Appointment, Client, Job, Provider
from bookctl.notify import SendError
from bookctl.store import appointments as appts
from bookctl.store import jobs
from bookctl.store.db import read, write
from bookctl.timeutil import iso_z

MAX_ATTEMPTS = 3
# --once keeps waiting for its own retries only this long: backoff is sized to fit the
# one-minute target; a longer Retry-After is left for the next run.
ONCE_RETRY_WINDOW = 60.0


@dataclass(frozen=True)
class Options:
    batch: int = 20
    lease_seconds: float = 30.0
    concurrency: int = 4
    retry_base: float = 5.0  # first retry after ~base, the second after ~4x base
    once: bool = False


class Clock:
    """Real time; or BOOKCTL_NOW advancing at real speed from start, so that under a fake
    clock retries and leases still come due and lateness stays measured on one clock."""

    def __init__(self, fixed: int | None = None) -> None:
        self.base = fixed
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        if self.base is None:
            return time.time()
        return self.base + (time.monotonic() - self.t0)


@dataclass
class Claimed:
    job: Job
    token: str
    appointment: Appointment | None
    provider: Provider | None
    client: Client | None

    @property
    def ref(self) -> str:
        return self.appointment.booking_ref if self.appointment else "?"


@dataclass
class Outcome:
    status: str  # sent | retry | failed | expired | cancelled | released
    at: int  # acceptance time for 'sent', decision time otherwise
    error: str | None = None
    next_attempt_at: int | None = None


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1


def configured_channels(settings: Settings) -> list[str]:
    """A worker claims only the jobs it can send: a daemon without SMTP settings leaves
    email jobs to one that has them, instead of failing them."""
    out = []
    if settings.smtp_host:
        out.append("email")
    if settings.webhook_url:
        out.append("webhook")
    return out


def stderr_log(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Worker:
    def __init__(
        self,
        conn: Any,
        settings: Settings,
        options: Options,
        clock: Callable[[], float] | None = None,
        log: Callable[[str], None] = stderr_log,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.options = options
        self.clock = clock or Clock()
        self.log = log
        self.channels = configured_channels(settings)
        self.stop_event = threading.Event()
        self.summary = Summary()
        self._retry_at: dict[int, int] = {}  # jobs this worker put back for a retry
        self._local = threading.local()
        self._senders: list[Any] = []
        self._senders_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max(1, options.concurrency), "bookctl-send")

    # ---- the loop ------------------------------------------------------------------------

    def run(self) -> Summary:
        """Until stopped (SIGTERM/SIGINT: in-flight sends finish, then it returns); with
        `once`, until nothing is due and its own retries are done."""
        started = self.clock()
        restore = self._install_signals()
        try:
            while not self.stop_event.is_set():
                claimed = self.step()
                if claimed >= self.options.batch:
                    continue  # more may be due right now
                if self.options.once:
                    if claimed:
                        continue
                    waiting = [
                        t for t in self._retry_at.values() if t <= started + ONCE_RETRY_WINDOW
                    ]
                    if not waiting:
                        break
                    self.stop_event.wait(min(1.0, max(0.05, min(waiting) - self.clock())))
                    continue
                self._sleep()
        finally:
            restore()
            self.close()
        return self.summary

    def _sleep(self) -> None:
        """Until the next job is due, but at least once a second: a booking made by another
        process is seen within a second even though nothing signals us."""
        nxt = jobs.next_due_at(self.conn, self.channels)
        delay = 1.0 if nxt is None else min(1.0, nxt - self.clock())
        if delay > 0:
            self.stop_event.wait(delay)

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def on_signal(signum: int, frame: Any) -> None:
            self.stop_event.set()

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for s, handler in old.items():
                signal.signal(s, handler)

        return restore

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._senders_lock:
            for sender in self._senders:
                sender.close()
            self._senders.clear()

    # ---- one batch ---------------------------------------------------------------------

    def step(self) -> int:
        """Claim one batch, send it, write it back. Returns how many jobs were claimed."""
        token = f"{os.getpid()}-{secrets.token_hex(8)}"
        now = int(self.clock())
        with write(self.conn):
            batch = jobs.claim_due(
                self.conn,
                now=now,
                lease_until=self._lease_until(),
                token=token,
                limit=self.options.batch,
                channels=self.channels,
            )
        # forget retries that came due and were not ours to take (another worker did)
        self._retry_at = {j: t for j, t in self._retry_at.items() if t > now}
        if not batch:
            return 0
        claimed = self._load(batch, token)
        outcomes: dict[int, Outcome] = {}
        futures: dict[Future[Outcome], Claimed] = {}
        for c in claimed:
            decided = self._precheck(c)
            if decided is not None:
                outcomes[c.job.job_id] = decided
            else:
                futures[self._pool.submit(self._attempt, c)] = c
        self._await(futures, outcomes, token)
        self._write_back(claimed, outcomes)
        return len(batch)

    def _lease_until(self) -> int:
        return math.ceil(self.clock() + self.options.lease_seconds)

    def _load(self, batch: list[Job], token: str) -> list[Claimed]:
        """The batch's appointments with their provider and client: one query per batch."""
        with read(self.conn):
            found = jobs.load_context(self.conn, {job.appointment_id for job in batch})
        out = []
        for job in batch:
            a, p, c = found.get(job.appointment_id, (None, None, None))
            out.append(Claimed(job, token, a, p, c))
        return out

    def _precheck(self, c: Claimed) -> Outcome | None:
        """What need not be sent at all; None: send it."""
        now = int(self.clock())
        job, a = c.job, c.appointment
        if a is None or c.provider is None or c.client is None:
            return Outcome("failed", now, "appointment, provider or client no longer exists")
        if job.attempts > MAX_ATTEMPTS:
            # the last attempt's sender died mid-send (its lease ran out)
            return Outcome("failed", now, f"no result after {MAX_ATTEMPTS} attempts")
        if job.kind != "cancellation":
            if not a.active:
                return Outcome("cancelled", now, f"appointment is {a.status}")
            if now >= a.start_at:
                # never remind (or confirm) after the start: too late to be of use
                return Outcome("expired", now, f"appointment started at {iso_z(a.start_at)}")
        return None

    def _await(
        self, futures: dict[Future[Outcome], Claimed], outcomes: dict[int, Outcome], token: str
    ) -> None:
        """Wait for the sends, renewing the lease meanwhile (a slow batch keeps its jobs) and,
        when asked to stop, giving back what has not started (another worker takes it)."""
        pending: set[Future[Outcome]] = set(futures)
        renewed = self.clock()
        tick = max(0.05, min(1.0, self.options.lease_seconds / 3))
        while pending:
            done, pending = wait(pending, timeout=tick, return_when=FIRST_COMPLETED)
            for f in done:
                if not f.cancelled():
                    outcomes[futures[f].job.job_id] = f.result()
            if self.stop_event.is_set():
                for f in list(pending):
                    if f.cancel():
                        pending.discard(f)
                        outcomes[futures[f].job.job_id] = Outcome("released", int(self.clock()))
            if pending and self.clock() - renewed >= tick:
                with write(self.conn):
                    jobs.renew_lease(self.conn, token, self._lease_until(), int(self.clock()))
                renewed = self.clock()

    # ---- sending (on a pool thread; no database here) ------------------------------------

    def _attempt(self, c: Claimed) -> Outcome:
        try:
            self._deliver(c)
            return Outcome("sent", int(self.clock()))  # acceptance time: the 250 / 2xx
        except SendError as exc:
            return self._after_failure(c, exc)
        except Exception as exc:  # a bug must not kill the daemon; the job keeps the reason
            return Outcome("failed", int(self.clock()), f"internal error: {type(exc).__name__}")

    def _deliver(self, c: Claimed) -> None:
        from bookctl.notify import message

        assert c.appointment and c.provider and c.client
        now = int(self.clock())
        notice = message.build(c.job, c.appointment, c.provider, c.client, now)
        if c.job.channel == "webhook":
            if not self.settings.webhook_url:
                raise SendError("webhook is not configured (BOOKCTL_WEBHOOK_URL)", False)
            self._webhook().post(notice.payload, str(c.job.job_id))
            return
        from bookctl.notify import email, ics

        if not c.client.email:
            raise SendError("client has no email address", transient=False)
        sender = email.sender_address(self.settings)
        invite = None
        if notice.with_invitation:
            invite = ics.invitation(
                c.appointment,
                c.provider,
                c.client,
                organizer=c.provider.email or sender,
                description=notice.text,
                cancel=notice.cancel,
                now=now,
            )
        msg = email.build_message(
            job_id=c.job.job_id,
            booking_ref=c.appointment.booking_ref,
            sender=sender,
            to=c.client.email,
            reply_to=c.provider.email,
            subject=notice.subject,
            text=notice.text,
            ics=invite,
            cancel=notice.cancel,
        )
        self._smtp().send(msg)

    def _smtp(self) -> Any:
        sender = getattr(self._local, "smtp", None)
        if sender is None:
            from bookctl.notify.email import SmtpSender

            sender = self._local.smtp = SmtpSender(self.settings)
            with self._senders_lock:
                self._senders.append(sender)
        return sender

    def _webhook(self) -> Any:
        sender = getattr(self._local, "webhook", None)
        if sender is None:
            from bookctl.notify.webhook import WebhookSender

            s = self.settings
            assert s.webhook_url
            sender = WebhookSender(s.webhook_url, s.webhook_secret, s.webhook_timeout)
            self._local.webhook = sender
            with self._senders_lock:
                self._senders.append(sender)
        return sender

    def _after_failure(self, c: Claimed, exc: SendError) -> Outcome:
        now = self.clock()
        attempts = c.job.attempts
        if not exc.transient:
            return Outcome("failed", int(now), exc.message)
        if attempts >= MAX_ATTEMPTS:
            return Outcome("failed", int(now), f"{exc.message} (after {attempts} attempts)")
        if exc.retry_after is not None:
            delay = exc.retry_after  # the server said when; it knows its load
        else:
            # 5 s then 20 s (by default), with jitter so a crowd of retries spreads out
            delay = self.options.retry_base * 4 ** (attempts - 1) * random.uniform(1.0, 1.2)
        at = math.ceil(now + delay)
        a = c.appointment
        if a is not None and c.job.kind != "cancellation" and at >= a.start_at:
            return Outcome(
                "expired", int(now), f"{exc.message}; a retry would come after the start"
            )
        return Outcome("retry", int(now), exc.message, next_attempt_at=at)

    # ---- write-back ----------------------------------------------------------------------

    def _write_back(self, claimed: list[Claimed], outcomes: dict[int, Outcome]) -> None:
        """All outcomes of the batch in one transaction (one fsync, not one per job); each
        guarded by the claim token. A confirmation accepted by its channel confirms the
        appointment in this same transaction."""
        kept: list[tuple[Claimed, Outcome, bool]] = []
        now = int(self.clock())
        with write(self.conn):
            for c in claimed:
                o = outcomes.get(c.job.job_id)
                if o is None:
                    continue
                jid, token = c.job.job_id, c.token
                if o.status == "sent":
                    ok = jobs.mark_sent(self.conn, jid, token, o.at, now)
                    if ok and c.job.kind == "confirmation":
                        self._confirm(c, now)
                elif o.status == "retry":
                    assert o.next_attempt_at is not None
                    ok = jobs.mark_retry(
                        self.conn, jid, token, o.next_attempt_at, o.error or "", now
                    )
                elif o.status == "released":
                    ok = jobs.release(self.conn, jid, token, now)
                else:
                    ok = jobs.mark_final(self.conn, jid, token, o.status, o.error, now)
                kept.append((c, o, ok))
        for c, o, ok in kept:
            self._retry_at.pop(c.job.job_id, None)
            if ok and o.status == "retry" and o.next_attempt_at is not None:
                self._retry_at[c.job.job_id] = o.next_attempt_at
            self.summary.add(o.status if ok else "dropped")
            if o.status != "released":
                self.log(self._line(c, o, ok))

    def _confirm(self, c: Claimed, now: int) -> None:
        a = appts.get_appointment(self.conn, c.job.appointment_id)
        if a is None or a.status != "pending":
            return  # already confirmed, or cancelled meanwhile: nothing to do
        policy.check_transition(a.status, "confirmed")
        # inside BEGIN IMMEDIATE the row cannot move under us, so the version check holds
        if appts.update_appointment(self.conn, a, now, status="confirmed"):
            appts.add_event(
                self.conn,
                a.appointment_id,
                a.booking_ref,
                at=now,
                actor="system",
                action="confirmed",
                from_status="pending",
                to_status="confirmed",
                reason=f"confirmation accepted by the {c.job.channel} channel (job {c.job.job_id})",
            )

    def _line(self, c: Claimed, o: Outcome, ok: bool) -> str:
        """One line per send for the log: no addresses' secrets, no message bodies."""
        j = c.job
        parts = [
            iso_z(o.at) or "",
            f"job={j.job_id}",
            f"kind={j.kind}",
            f"channel={j.channel}",
            f"ref={c.ref}",
            f"attempt={j.attempts}/{MAX_ATTEMPTS}",
            f"status={o.status if ok else 'dropped'}",
        ]
        if o.status == "sent":
            parts.append(f"late={o.at - j.send_at}s")
        if o.next_attempt_at is not None and ok:
            parts.append(f"retry_at={iso_z(o.next_attempt_at)}")
        if not ok:
            parts.append("reason=lease-lost-or-cancelled")
        if o.error:
            parts.append(f"error={o.error!r}")
        return " ".join(parts)
