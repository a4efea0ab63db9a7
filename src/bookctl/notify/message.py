"""PURE: what a notification says, for both channels. Times are shown in the provider's
zone with its name (never UTC to a client: peers' emails in UTC were a classic bug)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bookctl.domain import Appointment, Client, Job, Provider
from bookctl.timeutil import iso_local, iso_z, zone

SUBJECTS = {
    "confirmation": "Booked: {provider}, {when}",
    "reminder": "Reminder: {provider}, {when}",
    "reschedule": "Moved: {provider}, now {when}",
    "cancellation": "Cancelled: {provider}, {when}",
}
INTROS = {
    "confirmation": "Your appointment with {provider} is booked.",
    "reminder": "A reminder: your appointment with {provider} is in {lead}.",
    "reschedule": "Your appointment with {provider} has moved to a new time.",
    "cancellation": "Your appointment with {provider} is cancelled.",
}


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str
    subject: str
    text: str
    payload: dict[str, Any]  # the webhook body
    with_invitation: bool  # confirmations and changes carry an .ics; reminders do not
    cancel: bool  # the .ics is METHOD:CANCEL


def local_when(a: Appointment, provider: Provider) -> str:
    """'Tuesday 01 December 2026, 09:00-09:30 EST (America/New_York)'."""
    tz = zone(provider.timezone)
    start = datetime.fromtimestamp(a.start_at, tz)
    end = datetime.fromtimestamp(a.end_at, tz)
    return f"{start:%A %d %B %Y, %H:%M}-{end:%H:%M} {start:%Z} ({tz.key})"


def short_when(a: Appointment, provider: Provider) -> str:
    start = datetime.fromtimestamp(a.start_at, zone(provider.timezone))
    return f"{start:%a %d %b %Y %H:%M %Z}"


def lead_text(minutes: int | None) -> str:
    if not minutes:
        return "a little while"
    # days from 2 on: "in 24 hours" reads better than "in 1 day"
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes % size == 0 and (unit == "hour" or minutes >= 2880):
            n = minutes // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{minutes} minutes"


def build(job: Job, a: Appointment, provider: Provider, client: Client, now: int) -> Notice:
    names = {"provider": provider.name, "lead": lead_text(job.lead_minutes)}
    cancel = job.kind == "cancellation"
    lines = [
        f"Hello {client.name},",
        "",
        INTROS[job.kind].format(**names),
        "",
        f"  When:      {local_when(a, provider)}",
        f"  Provider:  {provider.name}",
        f"  Reference: {a.booking_ref}",
        "",
    ]
    if cancel:
        lines.append("Nothing more to do. To book again, contact us and we will find a new time.")
    else:
        lines += [
            f"To cancel, run: bookctl cancel {a.booking_ref}",
            f"(or reply to this message quoting your reference {a.booking_ref}).",
        ]
    if job.kind != "reminder":
        lines += ["", "The attached invitation (invite.ics) updates your calendar."]
    text = "\n".join(lines) + "\n"
    tz = zone(provider.timezone)
    payload: dict[str, Any] = {
        "type": f"appointment.{job.kind}",
        "timestamp": iso_z(now),
        "job_id": job.job_id,
        "kind": job.kind,
        "channel": job.channel,
        "lead_minutes": job.lead_minutes,
        "appointment": {
            "appointment_id": a.appointment_id,
            "booking_ref": a.booking_ref,
            "status": a.status,
            "start_at": iso_z(a.start_at),
            "end_at": iso_z(a.end_at),
            "local_start": iso_local(a.start_at, tz),
            "local_end": iso_local(a.end_at, tz),
            "timezone": tz.key,
            "local_text": local_when(a, provider),
            "sequence": a.sequence,
            "cancel_command": f"bookctl cancel {a.booking_ref}",
        },
        "client": {
            "client_id": client.client_id,
            "name": client.name,
            "email": client.email,
            "phone": client.phone,
        },
        "provider": {
            "provider_id": provider.provider_id,
            "name": provider.name,
            "timezone": provider.timezone,
            "email": provider.email,
        },
        "text": text,
    }
    return Notice(
        kind=job.kind,
        subject=SUBJECTS[job.kind].format(provider=provider.name, when=short_when(a, provider))
        + f" [{a.booking_ref}]",
        text=text,
        payload=payload,
        with_invitation=job.kind != "reminder",
        cancel=cancel,
    )
