"""Calendar invitations (iCalendar, RFC 5545 / iTIP RFC 5546) built with `icalendar`.

One booking reference is one calendar event for its whole life: the UID is derived from the
reference alone, so a reschedule (a new appointment row, same reference) updates the event
the client already has instead of adding a second one. SEQUENCE is the appointment's
`sequence`, which reschedule bumps; a cancellation is METHOD:CANCEL with STATUS:CANCELLED
(peers that sent cancellations as REQUEST left dead events in calendars)."""

from __future__ import annotations

from datetime import UTC, datetime

from bookctl.domain import Appointment, Client, Provider
from bookctl.timeutil import zone


def uid(booking_ref: str) -> str:
    return f"{booking_ref}@bookctl"


def invitation(
    a: Appointment,
    provider: Provider,
    client: Client,
    *,
    organizer: str,
    description: str,
    cancel: bool,
    now: int,
) -> bytes:
    """The .ics for appointment `a`: METHOD:REQUEST, or METHOD:CANCEL when `cancel`."""
    from icalendar import Calendar, Event, vCalAddress

    tz = zone(provider.timezone)
    cal = Calendar()
    cal.add("prodid", "-//bookctl//bookctl//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancel else "REQUEST")
    ev = Event()
    ev.add("uid", uid(a.booking_ref))
    # RFC 5546: a STATUS change is a significant change, so the cancel outranks the last
    # request the client saw (same UID, SEQUENCE one higher).
    ev.add("sequence", a.sequence + 1 if cancel else a.sequence)
    ev.add("dtstamp", datetime.fromtimestamp(now, UTC))
    # Local wall-clock time with TZID + VTIMEZONE, so calendars show the provider's time
    # even across a DST change between booking and appointment.
    ev.add("dtstart", datetime.fromtimestamp(a.start_at, tz))
    ev.add("dtend", datetime.fromtimestamp(a.end_at, tz))
    ev.add("summary", f"Appointment with {provider.name}")
    ev.add("description", description)
    ev.add("status", "CANCELLED" if cancel else "CONFIRMED")
    org = vCalAddress(f"mailto:{organizer}")
    org.params["cn"] = provider.name
    ev.add("organizer", org)
    if client.email:
        att = vCalAddress(f"mailto:{client.email}")
        att.params["cn"] = client.name
        att.params["role"] = "REQ-PARTICIPANT"
        ev.add("attendee", att)
    cal.add_component(ev)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
