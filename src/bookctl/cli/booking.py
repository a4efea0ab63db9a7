"""slots, book and the rest of an appointment's life."""

from __future__ import annotations

from typing import Any

import typer

from bookctl.cli.common import JSON_OPTION, handles_errors, open_service

appointments_app = typer.Typer(help="List appointments.")

AS_OPTION = typer.Option(
    "client",
    "--as",
    help="Who acts: 'client' (notice windows apply) or 'provider' (bypasses them, recorded).",
)


def slots(
    provider_id: int = typer.Argument(..., help="Provider id."),
    first: str | None = typer.Option(
        None, "--from", help="Provider-local date YYYY-MM-DD or an instant (default: today)."
    ),
    last: str | None = typer.Option(
        None, "--to", help="Provider-local date (inclusive) or instant (default: 7 days on)."
    ),
    duration: int | None = typer.Option(
        None, "--duration", help="Minutes needed (default: each window's slot length)."
    ),
    explain: bool = typer.Option(
        False, "--explain", help="Also list every dropped candidate and why."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Free slots of a provider, in UTC and provider-local time."""
    from bookctl import output

    ans = open_service().free_slots(provider_id, first, last, duration, explain)
    found = [output.slot_json(s, ans.tz) for s in ans.expansion.slots]
    dropped = [output.slot_json(d, ans.tz) for d in ans.expansion.dropped]
    if as_json:
        if explain:
            output.emit_json({"slots": found, "dropped": dropped})
        else:
            output.emit_json(found)
        return
    output.table(
        f"Free slots of {ans.provider.name} ({ans.tz.key})",
        ("local start", "local end", "start (UTC)"),
        [(s["local_start"], s["local_end"], s["start_at"]) for s in found],
    )
    if explain:
        output.table(
            "Not offered",
            ("local start", "local end", "reason", "detail"),
            [(d["local_start"], d["local_end"], d["reason"], d["detail"]) for d in dropped],
        )


def _show(a: Any, as_json: bool, svc: Any, title: str | None = None) -> None:
    from bookctl import output
    from bookctl.timeutil import zone

    p = svc._provider_any(a.provider_id)
    doc = output.appointment_json(a, zone(p.timezone))
    if as_json:
        output.emit_json(doc)
    else:
        output.record(title or f"Appointment {a.booking_ref}", doc)


def book(
    provider_id: int = typer.Argument(..., help="Provider id."),
    start: str = typer.Argument(
        ..., help="Start: ISO with Z/offset, or provider-local like 2026-12-01T09:00."
    ),
    client: int = typer.Option(..., "--client", help="Client id."),
    duration: int | None = typer.Option(
        None, "--duration", help="Minutes (default: the slot length)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Staff: book outside published availability (never over another)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Book a slot; prints the appointment with its booking_ref."""
    svc = open_service()
    a = svc.book(provider_id, start, client, duration, force)
    _show(a, as_json, svc, f"Booked {a.booking_ref}")


def show(
    ref: str = typer.Argument(..., help="Booking reference."), as_json: bool = JSON_OPTION
) -> None:
    """Show one appointment."""
    svc = open_service()
    _show(svc.appointment(ref), as_json, svc)


@appointments_app.command("list")
@handles_errors
def appointments_list(
    provider: int | None = typer.Option(None, "--provider", help="Only this provider."),
    first: str | None = typer.Option(None, "--from", help="Date YYYY-MM-DD or instant."),
    last: str | None = typer.Option(None, "--to", help="Date (inclusive) or instant."),
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List appointments, oldest start first (dates are provider-local with --provider,
    else UTC)."""
    from bookctl import output

    found = open_service().list_appointments(provider, first, last, status)
    if as_json:
        output.emit_json([output.appointment_json(a) for a in found])
        return
    output.table(
        "Appointments",
        ("ref", "provider", "client", "start (UTC)", "end (UTC)", "status"),
        [
            (
                a.booking_ref,
                a.provider_id,
                a.client_id,
                output.iso_z(a.start_at),
                output.iso_z(a.end_at),
                a.status,
            )
            for a in found
        ],
    )


def _actor(value: str) -> str:
    from bookctl.errors import InvalidInput

    if value not in ("client", "provider"):
        raise InvalidInput(f"invalid --as {value!r}: client or provider")
    return value


def cancel(
    ref: str = typer.Argument(..., help="Booking reference."),
    actor: str = AS_OPTION,
    reason: str | None = typer.Option(None, "--reason", help="Why, for the history."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Cancel an appointment (cancelling a cancelled one changes nothing)."""
    actor = _actor(actor)
    svc = open_service()
    _show(svc.cancel(ref, actor, reason), as_json, svc)


def reschedule(
    ref: str = typer.Argument(..., help="Booking reference."),
    start: str = typer.Argument(..., help="New start (ISO with Z/offset, or provider-local)."),
    duration: int | None = typer.Option(
        None, "--duration", help="Minutes (default: the current length)."
    ),
    actor: str = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move an appointment atomically; the booking reference stays the same."""
    actor = _actor(actor)
    svc = open_service()
    _show(svc.reschedule(ref, start, duration, actor), as_json, svc)


def complete(
    ref: str = typer.Argument(..., help="Booking reference."), as_json: bool = JSON_OPTION
) -> None:
    """Mark a confirmed appointment that has started as completed."""
    svc = open_service()
    _show(svc.mark(ref, "completed"), as_json, svc)


def no_show(
    ref: str = typer.Argument(..., help="Booking reference."), as_json: bool = JSON_OPTION
) -> None:
    """Mark a confirmed appointment that has started as a no-show."""
    svc = open_service()
    _show(svc.mark(ref, "no_show"), as_json, svc)


def history(
    ref: str = typer.Argument(..., help="Booking reference."), as_json: bool = JSON_OPTION
) -> None:
    """The appointment's events, oldest first."""
    from bookctl import output

    found = open_service().history(ref)
    docs = [output.event_json(e) for e in found]
    if as_json:
        output.emit_json(docs)
        return
    output.table(
        "History",
        ("at (UTC)", "actor", "action", "from", "to", "reason"),
        [
            (d["at"], d["actor"], d["action"], d["from_status"], d["to_status"], d["reason"])
            for d in docs
        ],
    )


def register(app: typer.Typer) -> None:
    for fn, name in (
        (slots, "slots"),
        (book, "book"),
        (show, "show"),
        (cancel, "cancel"),
        (reschedule, "reschedule"),
        (complete, "complete"),
        (no_show, "no-show"),
        (history, "history"),
    ):
        app.command(name)(handles_errors(fn))
    app.add_typer(appointments_app, name="appointments")
