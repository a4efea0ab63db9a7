"""The one place that renders: JSON documents for scripts, rich tables for people, errors to
stderr. stdout carries data only."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bookctl.domain import Appointment, Client, Event, Job, Override, Provider, Rule
from bookctl.errors import BookctlError
from bookctl.slots import Dropped, Slot
from bookctl.timeutil import hhmm, iso_local, iso_z


def provider_json(p: Provider) -> dict[str, Any]:
    return {
        "provider_id": p.provider_id,
        "name": p.name,
        "timezone": p.timezone,
        "buffer_minutes": p.buffer_minutes,
        "max_advance_days": p.max_advance_days,
        "cancellation_notice_hours": p.cancellation_notice_hours,
        "reschedule_notice_hours": p.reschedule_notice_hours,
        "min_notice_minutes": p.min_notice_minutes,
        "default_slot_minutes": p.default_slot_minutes,
        "email": p.email,
        "reminders": p.reminders,
        "created_at": iso_z(p.created_at),
    }


def rule_json(r: Rule) -> dict[str, Any]:
    return {
        "rule_id": r.rule_id,
        "provider_id": r.provider_id,
        "day_of_week": r.day_of_week,
        "start_time": hhmm(r.start_minute),
        "end_time": hhmm(r.end_minute),
        "slot_duration_minutes": r.slot_duration_minutes,
        "effective_from": r.effective_from.isoformat() if r.effective_from else None,
        "effective_until": r.effective_until.isoformat() if r.effective_until else None,
    }


def override_json(o: Override) -> dict[str, Any]:
    return {
        "override_id": o.override_id,
        "provider_id": o.provider_id,
        "date": o.date.isoformat(),
        "type": o.type,
        "start_time": hhmm(o.start_minute) if o.start_minute is not None else None,
        "end_time": hhmm(o.end_minute) if o.end_minute is not None else None,
        "slot_duration_minutes": o.slot_duration_minutes,
    }


def client_json(c: Client) -> dict[str, Any]:
    return {
        "client_id": c.client_id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "created_at": iso_z(c.created_at),
    }


def slot_json(s: Slot | Dropped, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start_at": iso_z(s.start),
        "end_at": iso_z(s.end),
        "local_start": iso_local(s.start, tz),
        "local_end": iso_local(s.end, tz),
    }
    if isinstance(s, Dropped):
        out["reason"] = s.reason
        out["detail"] = s.detail
    return out


def appointment_json(a: Appointment, tz: ZoneInfo | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "appointment_id": a.appointment_id,
        "booking_ref": a.booking_ref,
        "provider_id": a.provider_id,
        "client_id": a.client_id,
        "start_at": iso_z(a.start_at),
        "end_at": iso_z(a.end_at),
        "status": a.status,
        "created_at": iso_z(a.created_at),
        "updated_at": iso_z(a.updated_at),
        "version": a.version,
        "duration_minutes": (a.end_at - a.start_at) // 60,
        "cancel_reason": a.cancel_reason,
        "rescheduled_from": a.rescheduled_from,
        "rescheduled_to": a.rescheduled_to,
        "forced": a.forced,
    }
    if tz is not None:
        out["local_start"] = iso_local(a.start_at, tz)
        out["local_end"] = iso_local(a.end_at, tz)
        out["timezone"] = tz.key
    return out


def event_json(e: Event) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "appointment_id": e.appointment_id,
        "booking_ref": e.booking_ref,
        "at": iso_z(e.at),
        "actor": e.actor,
        "action": e.action,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "reason": e.reason,
        "details": json.loads(e.details) if e.details else None,
    }


def job_json(j: Job) -> dict[str, Any]:
    return {
        "job_id": j.job_id,
        "appointment_id": j.appointment_id,
        "kind": j.kind,
        "channel": j.channel,
        "send_at": iso_z(j.send_at),
        "status": j.status,
        "attempts": j.attempts,
        "sent_at": iso_z(j.sent_at),
        "last_error": j.last_error,
        "lead_minutes": j.lead_minutes,
    }


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on stdout, for people."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for col in columns:
        t.add_column(col, no_wrap=True)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    # Piped output has no terminal width: rich would assume 80 columns and cut booking
    # references with an ellipsis, breaking `bookctl appointments list | grep REF`.
    console = Console()
    if not console.is_terminal:
        console = Console(width=1000)
    console.print(t)


def record(title: str, doc: dict[str, Any]) -> None:
    """One record as a two-column table."""
    table(title, ("field", "value"), [(k, v) for k, v in doc.items()])


def message(text: str) -> None:
    """A note for people: stderr, so stdout keeps only data."""
    from rich.console import Console

    Console(stderr=True).print(text)


def error(exc: BookctlError, as_json: bool) -> None:
    if as_json:
        doc = {"error": {"code": exc.code, "message": exc.message}}
        sys.stderr.write(json.dumps(doc, ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(f"error: {exc.message}\n")
