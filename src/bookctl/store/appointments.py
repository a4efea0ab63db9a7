"""SQL for appointments and their append-only events."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from bookctl.domain import Appointment, Event
from bookctl.store.catalog import fits_integer

_COLS = (
    "appointment_id, booking_ref, provider_id, client_id, start_at, end_at, status,"
    " created_at, updated_at, version, cancel_reason, rescheduled_from, rescheduled_to,"
    " forced, sequence"
)
_EVENT_COLS = (
    "event_id, appointment_id, booking_ref, at, actor, action, from_status, to_status,"
    " reason, details"
)


def _appointment(row: Sequence[Any]) -> Appointment:
    values = list(row)
    values[13] = bool(values[13])
    return Appointment(*values)


def busy_intervals(
    conn: sqlite3.Connection, provider_id: int, start: int, end: int
) -> list[tuple[int, int]]:
    """[start_at, end_at) of active appointments that overlap [start, end). Appointments are
    at most a day long (a CHECK), which bounds the index range scanned. The status term
    matches the partial covering index appointments_active_span, so no table row is read."""
    rows: list[tuple[int, int]] = conn.execute(
        "SELECT start_at, end_at FROM appointments"
        " WHERE provider_id = ? AND status IN ('pending', 'confirmed')"
        " AND start_at < ? AND start_at > ? AND end_at > ?",
        (provider_id, end, start - 86400, start),
    ).fetchall()
    return rows


def insert_appointment(
    conn: sqlite3.Connection,
    *,
    booking_ref: str,
    provider_id: int,
    client_id: int,
    start_at: int,
    end_at: int,
    status: str,
    now: int,
    forced: bool = False,
    rescheduled_from: int | None = None,
    sequence: int = 0,
) -> int:
    cur = conn.execute(
        "INSERT INTO appointments (booking_ref, provider_id, client_id, start_at, end_at,"
        " status, created_at, updated_at, version, forced, rescheduled_from, sequence)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
        (
            booking_ref,
            provider_id,
            client_id,
            start_at,
            end_at,
            status,
            now,
            now,
            int(forced),
            rescheduled_from,
            sequence,
        ),
    )
    return int(cur.lastrowid or 0)


def get_appointment(conn: sqlite3.Connection, appointment_id: int) -> Appointment | None:
    if not fits_integer(appointment_id):
        return None
    row = conn.execute(
        f"SELECT {_COLS} FROM appointments WHERE appointment_id = ?", (appointment_id,)
    ).fetchone()
    return _appointment(row) if row else None


def get_by_ref(conn: sqlite3.Connection, booking_ref: str) -> Appointment | None:
    """The current appointment behind a reference: its newest row (a reschedule adds one)."""
    row = conn.execute(
        f"SELECT {_COLS} FROM appointments WHERE booking_ref = ?"
        " ORDER BY appointment_id DESC LIMIT 1",
        (booking_ref,),
    ).fetchone()
    return _appointment(row) if row else None


def ref_exists(conn: sqlite3.Connection, booking_ref: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM appointments WHERE booking_ref = ?", (booking_ref,)).fetchone()
        is not None
    )


def list_appointments(
    conn: sqlite3.Connection,
    *,
    provider_id: int | None = None,
    start: int | None = None,
    end: int | None = None,
    status: str | None = None,
) -> list[Appointment]:
    where: list[str] = []
    args: list[Any] = []
    if provider_id is not None:
        where.append("provider_id = ?")
        args.append(provider_id)
    if start is not None:
        where.append("start_at >= ?")
        args.append(start)
    if end is not None:
        where.append("start_at < ?")
        args.append(end)
    if status is not None:
        where.append("status = ?")
        args.append(status)
    sql = f"SELECT {_COLS} FROM appointments"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY start_at, appointment_id", args)
    return [_appointment(r) for r in rows]


def has_active_from(conn: sqlite3.Connection, provider_id: int, now: int) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM appointments WHERE provider_id = ?"
            " AND status IN ('pending', 'confirmed') AND end_at > ? LIMIT 1",
            (provider_id, now),
        ).fetchone()
        is not None
    )


def update_appointment(
    conn: sqlite3.Connection, appt: Appointment, now: int, **changes: Any
) -> bool:
    """Apply `changes` if the row is still at `appt.version`; False when it moved on."""
    cols = list(changes)
    cur = conn.execute(
        f"UPDATE appointments SET {', '.join(c + ' = ?' for c in cols)},"
        " updated_at = ?, version = version + 1"
        " WHERE appointment_id = ? AND version = ?",
        [changes[c] for c in cols] + [now, appt.appointment_id, appt.version],
    )
    return cur.rowcount == 1


def add_event(
    conn: sqlite3.Connection,
    appt_id: int,
    booking_ref: str,
    *,
    at: int,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    reason: str | None = None,
    details: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO appointment_events (appointment_id, booking_ref, at, actor, action,"
        " from_status, to_status, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (appt_id, booking_ref, at, actor, action, from_status, to_status, reason, details),
    )


def events(conn: sqlite3.Connection, booking_ref: str) -> list[Event]:
    rows = conn.execute(
        f"SELECT {_EVENT_COLS} FROM appointment_events WHERE booking_ref = ? ORDER BY event_id",
        (booking_ref,),
    )
    return [Event(*r) for r in rows]
