"""SQL for the outbox of notification jobs (confirmations, reminders, notices)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from bookctl.domain import Job

JOB_COLS = (
    "job_id, appointment_id, kind, channel, send_at, status, attempts, sent_at, last_error,"
    " next_attempt_at, lead_minutes, claim_token, lease_until"
)


def job_from_row(row: Sequence[Any]) -> Job:
    return Job(*row)


def insert_job(
    conn: sqlite3.Connection,
    *,
    appointment_id: int,
    kind: str,
    channel: str,
    send_at: int,
    now: int,
    lead_minutes: int | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO jobs (appointment_id, kind, channel, lead_minutes, send_at, status,"
        " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?, ?)",
        (appointment_id, kind, channel, lead_minutes, send_at, send_at, now, now),
    )
    return int(cur.lastrowid or 0)


def cancel_pending_jobs(conn: sqlite3.Connection, appointment_id: int, now: int) -> int:
    """Cancel every job of the appointment not yet sent. A job in flight loses its claim
    token, so its sender's write-back is dropped."""
    cur = conn.execute(
        "UPDATE jobs SET status = 'cancelled', claim_token = NULL, lease_until = NULL,"
        " updated_at = ? WHERE appointment_id = ? AND status IN ('scheduled', 'sending')",
        (now, appointment_id),
    )
    return cur.rowcount


def jobs_for_appointment(conn: sqlite3.Connection, appointment_id: int) -> list[Job]:
    rows = conn.execute(
        f"SELECT {JOB_COLS} FROM jobs WHERE appointment_id = ? ORDER BY send_at, job_id",
        (appointment_id,),
    )
    return [job_from_row(r) for r in rows]
