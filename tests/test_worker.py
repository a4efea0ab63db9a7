"""The outbox worker end to end, against a real aiosmtpd server and a real HTTP receiver:
confirmation content (local time, reference, how to cancel, .ics), retries and failures,
cancel / reschedule / expiry, the claim-token guards, and real `bookctl reminders run`
processes side by side, killed with SIGKILL and stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from icalendar import Calendar
from test_notify_email import SmtpServer, smtp_server  # noqa: F401 (fixture)
from test_notify_webhook import Receiver, receiver  # noqa: F401 (fixture)

from bookctl.notify.email import message_id
from bookctl.store import connect, jobs, write

T0 = "2026-11-30T12:00:00Z"  # Monday 07:00 in New York
BOOKCTL = str(Path(sys.executable).with_name("bookctl"))
SENDER = "desk@practice.example"


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.json if result.stdout.strip() else None


@pytest.fixture
def smtp(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:  # noqa: F811
    for k, v in smtp_server.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("BOOKCTL_RETRY_BASE_SECONDS", "0")
    return smtp_server


def practice(cli: Run, email: str | None = "bob@example.org", reminders: str | None = None) -> None:
    extra = ["--reminders", reminders] if reminders else []
    ok(cli("provider", "add", "Dr Ann", "--timezone", "America/New_York", *extra, "--json"))
    ok(cli("availability", "set", "1", "--rule", "mon-fri 09:00-12:00/30", "--json"))
    ok(cli("client", "add", "Bob", *(["--email", email] if email else []), "--json"))


def book(cli: Run, start: str, now: str = T0, *extra: str) -> dict[str, Any]:
    return ok(cli("book", "1", start, "--client", "1", *extra, "--json", now=now))  # type: ignore[no-any-return]


def run_once(cli: Run, now: str) -> Any:
    return ok(cli("reminders", "run", "--once", now=now))


def job_list(cli: Run, *args: str) -> list[dict[str, Any]]:
    return ok(cli("reminders", "list", *args, "--json"))  # type: ignore[no-any-return]


def invite(msg: Any) -> Calendar:
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def body(msg: Any) -> str:
    return str(next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content())


def test_confirmation_email_local_time_reference_ics_then_confirmed(
    cli: Run, smtp: SmtpServer
) -> None:
    practice(cli)
    a = book(cli, "2026-12-02T10:00")
    ref = a["booking_ref"]
    assert a["status"] == "pending"
    run_once(cli, T0)
    [msg] = smtp.handler.messages()
    text = body(msg)
    assert "Wednesday 02 December 2026, 10:00-10:30 EST (America/New_York)" in text
    assert ref in text and f"bookctl cancel {ref}" in text and "Dr Ann" in text
    assert "15:00" not in text and "UTC" not in text  # never UTC to a client
    assert msg["To"] == "bob@example.org" and ref in msg["Subject"]
    [job] = job_list(cli, "--status", "sent")
    assert msg["Message-ID"] == message_id(job["job_id"], ref, SENDER)
    cal = invite(msg)
    assert str(cal["METHOD"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"{ref}@bookctl"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART").isoformat() == "2026-12-02T10:00:00-05:00"
    shown = ok(cli("show", ref, "--json", now=T0))
    assert shown["status"] == "confirmed"
    history = ok(cli("history", ref, "--json", now=T0))
    assert [(e["action"], e["actor"]) for e in history][-1] == ("confirmed", "system")
    assert job["kind"] == "confirmation" and job["attempts"] == 1
    assert job["sent_at"] is not None


def test_reminders_go_out_at_their_times_in_local_time(cli: Run, smtp: SmtpServer) -> None:
    practice(cli)
    ref = book(cli, "2026-12-02T10:00")["booking_ref"]
    run_once(cli, T0)
    run_once(cli, "2026-12-01T14:59:00Z")  # the 24 h reminder is not due yet
    assert len(smtp.handler.messages()) == 1
    run_once(cli, "2026-12-01T15:00:20Z")
    run_once(cli, "2026-12-02T14:00:05Z")
    msgs = smtp.handler.messages()
    assert len(msgs) == 3 and len(set(smtp.handler.message_ids())) == 3
    assert "in 24 hours" in body(msgs[1]) and "in 1 hour." in body(msgs[2])
    for m in msgs[1:]:
        assert "10:00-10:30 EST (America/New_York)" in body(m) and ref in body(m)
        assert not [p for p in m.walk() if p.get_content_type() == "text/calendar"]
    reminders = job_list(cli, "--kind", "reminder")
    assert [r["status"] for r in reminders] == ["sent", "sent"]
    stats = ok(cli("reminders", "stats", "--json"))
    assert stats["sent"] == 2 and stats["pending"] == 0


def test_451_is_retried_then_sent_550_fails_with_the_reason(cli: Run, smtp: SmtpServer) -> None:
    practice(cli)
    ok(cli("client", "add", "Eve", "--email", "eve@example.org", "--json"))
    smtp.handler.script["bob@example.org"] = ["451 4.3.0 Greylisted, try again"]
    smtp.handler.script["eve@example.org"] = ["550 5.1.1 Mailbox unavailable"]
    bob = book(cli, "2026-12-02T10:00")
    eve = ok(cli("book", "1", "2026-12-02T11:00", "--client", "2", "--json", now=T0))
    result = run_once(cli, T0)
    assert result is None
    by_ref = {j["booking_ref"]: j for j in job_list(cli, "--kind", "confirmation")}
    assert by_ref[bob["booking_ref"]]["status"] == "sent"
    assert by_ref[bob["booking_ref"]]["attempts"] == 2
    assert by_ref[eve["booking_ref"]]["status"] == "failed"
    assert by_ref[eve["booking_ref"]]["attempts"] == 1
    assert by_ref[eve["booking_ref"]]["last_error"] == "SMTP 550 refused: 5.1.1 Mailbox unavailable"
    assert ok(cli("show", bob["booking_ref"], "--json", now=T0))["status"] == "confirmed"
    assert ok(cli("show", eve["booking_ref"], "--json", now=T0))["status"] == "pending"
    assert smtp.handler.attempts.count("bob@example.org") == 2


def test_three_transient_failures_in_all_then_failed(cli: Run, smtp: SmtpServer) -> None:
    practice(cli)
    smtp.handler.script["bob@example.org"] = ["421 4.7.0 busy"] + ["451 4.3.0 later"] * 5
    book(cli, "2026-12-02T10:00")
    run_once(cli, T0)
    [job] = job_list(cli, "--kind", "confirmation")
    assert (job["status"], job["attempts"]) == ("failed", 3)
    assert "after 3 attempts" in job["last_error"]
    assert smtp.handler.accepted == []


def test_cancel_before_a_reminder_fires_it_never_goes_out(cli: Run, smtp: SmtpServer) -> None:
    practice(cli)
    ref = book(cli, "2026-12-02T10:00")["booking_ref"]
    run_once(cli, T0)
    ok(cli("cancel", ref, "--json", now="2026-11-30T13:00:00Z"))
    run_once(cli, "2026-12-01T15:00:10Z")
    run_once(cli, "2026-12-02T14:00:10Z")
    msgs = smtp.handler.messages()
    assert [m["Subject"].split(":")[0] for m in msgs] == ["Booked", "Cancelled"]
    cal = invite(msgs[1])
    assert str(cal["METHOD"]) == "CANCEL"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"{ref}@bookctl" and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) > 0
    assert [r["status"] for r in job_list(cli, "--kind", "reminder")] == ["cancelled"] * 2


def test_reschedule_recomputes_reminders_and_updates_the_invitation(
    cli: Run, smtp: SmtpServer
) -> None:
    practice(cli)
    ref = book(cli, "2026-12-02T10:00")["booking_ref"]
    run_once(cli, T0)  # confirmation, SEQUENCE 0
    ok(cli("reschedule", ref, "2026-12-03T11:00", "--json", now="2026-11-30T13:00:00Z"))
    reminders = job_list(cli, "--kind", "reminder")
    old = [r for r in reminders if r["status"] == "cancelled"]
    new = [r for r in reminders if r["status"] == "scheduled"]
    assert sorted(r["send_at"] for r in old) == ["2026-12-01T15:00:00Z", "2026-12-02T14:00:00Z"]
    assert sorted(r["send_at"] for r in new) == ["2026-12-02T16:00:00Z", "2026-12-03T15:00:00Z"]
    run_once(cli, "2026-11-30T13:00:00Z")
    run_once(cli, "2026-12-02T15:00:00Z")  # the old 1 h reminder time: nothing goes out
    first, moved = smtp.handler.messages()
    before, after = invite(first).walk("VEVENT")[0], invite(moved).walk("VEVENT")[0]
    assert str(before["UID"]) == str(after["UID"]) == f"{ref}@bookctl"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert str(invite(moved)["METHOD"]) == "REQUEST"
    assert after.decoded("DTSTART").isoformat() == "2026-12-03T11:00:00-05:00"
    assert "Thursday 03 December 2026, 11:00-11:30 EST" in body(moved)
    run_once(cli, "2026-12-02T16:00:30Z")
    assert "Thursday 03 December 2026, 11:00" in body(smtp.handler.messages()[-1])


def test_a_reminder_of_an_appointment_already_started_expires(cli: Run, smtp: SmtpServer) -> None:
    practice(cli)
    book(cli, "2026-12-01T10:00")
    run_once(cli, "2026-12-01T15:00:01Z")  # the daemon was down until after the start
    assert smtp.handler.attempts == []
    statuses = {(j["kind"], j["status"]) for j in job_list(cli)}
    assert statuses == {("confirmation", "expired"), ("reminder", "expired")}
    assert ok(cli("reminders", "stats", "--json"))["expired"] == 2


@pytest.fixture
def hook(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Receiver:  # noqa: F811
    for k, v in receiver.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("BOOKCTL_RETRY_BASE_SECONDS", "0")
    return receiver


def test_a_client_without_email_is_confirmed_through_the_signed_webhook(
    cli: Run, hook: Receiver
) -> None:
    practice(cli, email=None, reminders="1h:webhook")
    hook.script += [(500, {}), (429, {"Retry-After": "1"})]
    ref = book(cli, "2026-12-02T10:00")["booking_ref"]
    run_once(cli, T0)
    run_once(cli, "2026-12-02T14:00:00Z")
    bodies = hook.verified()
    assert [b["type"] for b in bodies] == ["appointment.confirmation"] * 3 + [
        "appointment.reminder"
    ]
    conf = bodies[0]
    assert conf["channel"] == "webhook" and conf["client"]["name"] == "Bob"
    assert conf["provider"]["name"] == "Dr Ann"
    assert conf["appointment"]["booking_ref"] == ref
    assert conf["appointment"]["local_start"] == "2026-12-02T10:00:00-05:00"
    assert conf["appointment"]["timezone"] == "America/New_York"
    ids = [h["webhook-id"] for h, _, _ in hook.requests]
    assert ids[0] == ids[1] == ids[2] != ids[3]  # the retries keep the job id
    times = [t for _, _, t in hook.requests]
    assert times[2] - times[1] >= 0.9  # Retry-After: 1 was honoured
    assert ok(cli("show", ref, "--json", now=T0))["status"] == "confirmed"


def test_a_410_fails_the_webhook_job_at_once(cli: Run, hook: Receiver) -> None:
    practice(cli, email=None, reminders="none")
    hook.script.append((410, {}))
    book(cli, "2026-12-02T10:00")
    run_once(cli, T0)
    [job] = job_list(cli)
    assert (job["status"], job["attempts"]) == ("failed", 1)
    assert "410" in job["last_error"]


# ---- the claim-token guards (store level) --------------------------------------------------


def test_a_write_back_whose_token_is_gone_is_dropped(cli: Run, isolated_env: Path) -> None:
    practice(cli, email=None, reminders="none")
    os.environ["BOOKCTL_WEBHOOK_URL"] = "http://127.0.0.1:9/"
    try:
        book(cli, "2026-12-02T10:00")
    finally:
        del os.environ["BOOKCTL_WEBHOOK_URL"]
    now = 1796040000  # 2026-11-30T12:00:00Z
    conn = connect(isolated_env)
    with write(conn):
        [first] = jobs.claim_due(
            conn, now=now, lease_until=now + 5, token="A", limit=10, channels=["webhook"]
        )
    with write(conn):  # not yet expired: nobody else may take it
        assert (
            jobs.claim_due(
                conn, now=now + 4, lease_until=now + 9, token="B", limit=10, channels=["webhook"]
            )
            == []
        )
    with write(conn):  # the lease ran out (its holder died): claimed again, attempt counted
        [again] = jobs.claim_due(
            conn, now=now + 6, lease_until=now + 20, token="B", limit=10, channels=["webhook"]
        )
    assert (again.job_id, again.attempts, first.attempts) == (first.job_id, 2, 1)
    with write(conn):
        assert not jobs.mark_sent(conn, first.job_id, "A", now + 7, now + 7)  # A lost it
        assert jobs.mark_sent(conn, first.job_id, "B", now + 7, now + 7)
        assert not jobs.mark_sent(conn, first.job_id, "B", now + 8, now + 8)  # only once


# ---- real daemon processes -----------------------------------------------------------------


def daemon_env(smtp: SmtpServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BOOKCTL_NOW"}
    env.update(smtp.env())
    env["BOOKCTL_RETRY_BASE_SECONDS"] = "0.5"
    return env


def start_daemon(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [BOOKCTL, "reminders", "run", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


def wait_for(what: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def statuses(db: Path) -> Counter[str]:
    with closing(sqlite3.connect(db)) as conn:
        return Counter(r[0] for r in conn.execute("SELECT status FROM jobs"))


def expected_ids(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT j.job_id, a.booking_ref FROM jobs j JOIN appointments a USING (appointment_id)"
        ).fetchall()
    return {message_id(j, ref, SENDER) for j, ref in rows}


def book_now(cli: Run, n: int) -> None:
    """n bookings made at the real clock: n confirmations due right now."""
    practice(cli, reminders="none")
    now = int(time.time())
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for i in range(n):
        start = datetime.fromtimestamp(now + 86400 + i * 3600, UTC).strftime("%Y-%m-%dT%H:00:00Z")
        book(cli, start, stamp, "--force")


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def test_two_daemons_side_by_side_send_every_job_exactly_once(
    cli: Run,
    smtp_server: SmtpServer,  # noqa: F811
    isolated_env: Path,
    tmp_path: Path,
) -> None:
    book_now(cli, 30)
    smtp_server.handler.delay = 0.02
    env = daemon_env(smtp_server)
    log = tmp_path / "daemons.log"
    procs = [start_daemon(env, "--batch", "3", "--concurrency", "2", log=log) for _ in range(2)]
    try:
        wait_for(lambda: statuses(isolated_env)["sent"] == 30)
    finally:
        codes = [stop(p) for p in procs]
    assert codes == [0, 0]  # SIGTERM: in-flight finished, exit 0
    ids = smtp_server.handler.message_ids()
    assert Counter(ids).most_common(1)[0][1] == 1  # none twice
    assert set(ids) == expected_ids(isolated_env)
    lines = [ln for ln in log.read_text().splitlines() if " job=" in ln]
    assert len(lines) == 30 and all("status=sent" in ln for ln in lines)


def test_a_daemon_killed_mid_batch_loses_nothing(
    cli: Run,
    smtp_server: SmtpServer,  # noqa: F811
    isolated_env: Path,
    tmp_path: Path,
) -> None:
    book_now(cli, 12)
    smtp_server.handler.delay = 0.3  # slow server: the kill lands mid-batch
    env = daemon_env(smtp_server)
    log = tmp_path / "daemons.log"
    args = ("--batch", "4", "--concurrency", "1", "--lease-seconds", "2")
    first = start_daemon(env, *args, log=log)
    wait_for(lambda: len(smtp_server.handler.accepted) >= 2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert statuses(isolated_env)["sending"] > 0  # claimed, never written back
    second = start_daemon(env, *args, log=log)
    try:
        wait_for(lambda: statuses(isolated_env)["sent"] == 12)
    finally:
        assert stop(second) == 0
    ids = smtp_server.handler.message_ids()
    assert set(ids) == expected_ids(isolated_env)  # every job arrived
    assert len(ids) - len(set(ids)) <= 4  # duplicates only from the batch in flight
    with closing(sqlite3.connect(isolated_env)) as conn:
        assert conn.execute("SELECT MAX(attempts) FROM jobs").fetchone()[0] == 2


def test_sigterm_while_idle_exits_0(
    cli: Run,
    smtp_server: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    practice(cli)
    log = tmp_path / "daemon.log"
    proc = start_daemon(daemon_env(smtp_server), log=log)
    wait_for(lambda: "running" in log.read_text(), timeout=30)
    assert stop(proc) == 0
    assert "stopped" in log.read_text()


def test_claims_walk_the_due_index_not_every_scheduled_job(isolated_env: Path) -> None:
    """Without ANALYZE SQLite would pick jobs_status and sort every scheduled job (60 ms a
    claim with 80,000 future reminders); the claim and the next-due probe use jobs_due."""
    conn = connect(isolated_env)
    captured: list[str] = []
    conn.set_trace_callback(captured.append)
    with write(conn):
        jobs.claim_due(conn, now=1, lease_until=2, token="T", limit=5, channels=["email"])
    jobs.next_due_at(conn, ["email", "webhook"])
    conn.set_trace_callback(None)
    statements = [s for s in captured if "jobs" in s and not s.startswith(("BEGIN", "COMMIT"))]
    assert len(statements) == 2
    for sql in statements:
        plan = " ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "jobs_due" in plan and "TEMP B-TREE" not in plan, (sql, plan)
