"""provider, availability, override and client commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from bookctl.cli.common import JSON_OPTION, handles_errors, open_service

provider_app = typer.Typer(help="Manage providers (the people or chairs that get booked).")
availability_app = typer.Typer(help="Set and show a provider's weekly availability rules.")
override_app = typer.Typer(help="One-off changes: block time off, or extend hours on a date.")
client_app = typer.Typer(help="Manage clients (the people who book).")

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _provider_options(
    buffer: int | None,
    max_advance_days: int | None,
    cancel_notice_hours: int | None,
    reschedule_notice_hours: int | None,
    min_notice_minutes: int | None,
    default_slot_minutes: int | None,
    email: str | None,
    reminders: str | None,
) -> dict[str, Any]:
    return {
        "buffer_minutes": buffer,
        "max_advance_days": max_advance_days,
        "cancellation_notice_hours": cancel_notice_hours,
        "reschedule_notice_hours": reschedule_notice_hours,
        "min_notice_minutes": min_notice_minutes,
        "default_slot_minutes": default_slot_minutes,
        "email": email,
        "reminders": reminders,
    }


BUFFER = typer.Option(None, "--buffer", help="Minutes kept free around each appointment.")
MAX_ADVANCE = typer.Option(None, "--max-advance-days", help="How many days ahead may be booked.")
CANCEL_NOTICE = typer.Option(
    None, "--cancel-notice-hours", help="Hours before start a client may still cancel."
)
RESCHEDULE_NOTICE = typer.Option(
    None,
    "--reschedule-notice-hours",
    help="Hours before start a client may still reschedule (default: the cancel notice).",
)
MIN_NOTICE = typer.Option(
    None, "--min-notice-minutes", help="Minutes from now before the first bookable slot."
)
DEFAULT_SLOT = typer.Option(
    None, "--default-slot-minutes", help="Slot length when a rule or extend gives none."
)
EMAIL = typer.Option(None, "--email", help="Contact email address.")
REMINDERS = typer.Option(
    None, "--reminders", help="Reminder lead times and channels, e.g. '24h:email,1h:webhook'."
)


def _show_provider(p: Any, as_json: bool) -> None:
    from bookctl import output

    doc = output.provider_json(p)
    if as_json:
        output.emit_json(doc)
    else:
        output.record(f"Provider {p.provider_id}", doc)


@provider_app.command("add")
@handles_errors
def provider_add(
    name: str = typer.Argument(..., help="Display name."),
    timezone: str = typer.Option(..., "--timezone", help="IANA time zone, e.g. Europe/London."),
    buffer: int | None = BUFFER,
    max_advance_days: int | None = MAX_ADVANCE,
    cancel_notice_hours: int | None = CANCEL_NOTICE,
    reschedule_notice_hours: int | None = RESCHEDULE_NOTICE,
    min_notice_minutes: int | None = MIN_NOTICE,
    default_slot_minutes: int | None = DEFAULT_SLOT,
    email: str | None = EMAIL,
    reminders: str | None = REMINDERS,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a provider and print it with its provider_id."""
    fields = _provider_options(
        buffer,
        max_advance_days,
        cancel_notice_hours,
        reschedule_notice_hours,
        min_notice_minutes,
        default_slot_minutes,
        email,
        reminders,
    )
    fields.update(name=name, timezone=timezone)
    _show_provider(open_service().add_provider(fields), as_json)


@provider_app.command("list")
@handles_errors
def provider_list(as_json: bool = JSON_OPTION) -> None:
    """List providers."""
    from bookctl import output

    providers = open_service().list_providers()
    if as_json:
        output.emit_json([output.provider_json(p) for p in providers])
        return
    output.table(
        "Providers",
        ("id", "name", "timezone", "slot", "buffer", "reminders"),
        [
            (
                p.provider_id,
                p.name,
                p.timezone,
                p.default_slot_minutes,
                p.buffer_minutes,
                p.reminders,
            )
            for p in providers
        ],
    )


@provider_app.command("show")
@handles_errors
def provider_show(
    provider_id: int = typer.Argument(..., help="Provider id."), as_json: bool = JSON_OPTION
) -> None:
    """Show one provider."""
    _show_provider(open_service().provider(provider_id), as_json)


@provider_app.command("update")
@handles_errors
def provider_update(
    provider_id: int = typer.Argument(..., help="Provider id."),
    name: str | None = typer.Option(None, "--name", help="New display name."),
    timezone: str | None = typer.Option(None, "--timezone", help="New IANA time zone."),
    buffer: int | None = BUFFER,
    max_advance_days: int | None = MAX_ADVANCE,
    cancel_notice_hours: int | None = CANCEL_NOTICE,
    reschedule_notice_hours: int | None = RESCHEDULE_NOTICE,
    min_notice_minutes: int | None = MIN_NOTICE,
    default_slot_minutes: int | None = DEFAULT_SLOT,
    email: str | None = EMAIL,
    reminders: str | None = REMINDERS,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change some of a provider's settings; the others stay."""
    fields = _provider_options(
        buffer,
        max_advance_days,
        cancel_notice_hours,
        reschedule_notice_hours,
        min_notice_minutes,
        default_slot_minutes,
        email,
        reminders,
    )
    fields.update(name=name, timezone=timezone)
    _show_provider(open_service().update_provider(provider_id, fields), as_json)


@provider_app.command("remove")
@handles_errors
def provider_remove(
    provider_id: int = typer.Argument(..., help="Provider id."), as_json: bool = JSON_OPTION
) -> None:
    """Remove a provider (refused while it has active future appointments)."""
    from bookctl import output

    p = open_service().remove_provider(provider_id)
    if as_json:
        output.emit_json({**output.provider_json(p), "removed": True})
    else:
        output.message(f"removed provider {p.provider_id} ({p.name})")


def _show_rules(rules: list[Any], as_json: bool, provider_id: int) -> None:
    from bookctl import output

    docs = [output.rule_json(r) for r in rules]
    if as_json:
        output.emit_json(docs)
        return
    output.table(
        f"Availability of provider {provider_id}",
        ("rule", "day", "from", "to", "slot min", "effective from", "until"),
        [
            (
                d["rule_id"],
                DAYS[d["day_of_week"]],
                d["start_time"],
                d["end_time"],
                d["slot_duration_minutes"],
                d["effective_from"],
                d["effective_until"],
            )
            for d in docs
        ],
    )


@availability_app.command("set")
@handles_errors
def availability_set(
    provider_id: int = typer.Argument(..., help="Provider id."),
    rule: list[str] | None = typer.Option(
        None, "--rule", help="DAYS HH:MM-HH:MM[/MINUTES], e.g. 'mon-fri 09:00-17:00/30'. Repeat."
    ),
    file: str | None = typer.Option(
        None, "--file", help="JSON array of rule objects; '-' reads standard input."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace all weekly rules of a provider at once."""
    from bookctl.errors import InvalidInput
    from bookctl.specs import parse_rule, parse_rules_json

    if bool(rule) == bool(file):
        raise InvalidInput("give either --rule (one or more) or --file, not both or neither")
    svc = open_service()
    default_slot = svc.provider(provider_id).default_slot_minutes
    if file:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read rules file {file!r}: {exc}") from None
        rules = parse_rules_json(text, default_slot)
    else:
        rules = [r for spec in rule or [] for r in parse_rule(spec, default_slot)]
    _show_rules(svc.set_rules(provider_id, rules), as_json, provider_id)


@availability_app.command("show")
@handles_errors
def availability_show(
    provider_id: int = typer.Argument(..., help="Provider id."), as_json: bool = JSON_OPTION
) -> None:
    """List a provider's weekly rules."""
    _show_rules(open_service().rules(provider_id), as_json, provider_id)


@override_app.command("add")
@handles_errors
def override_add(
    provider_id: int = typer.Argument(..., help="Provider id."),
    date: str = typer.Option(..., "--date", help="Provider-local date, YYYY-MM-DD."),
    block: bool = typer.Option(False, "--block", help="Take time off (whole day without times)."),
    extend: bool = typer.Option(False, "--extend", help="Open extra hours (needs times)."),
    start: str | None = typer.Option(None, "--start", help="Local start time HH:MM."),
    end: str | None = typer.Option(None, "--end", help="Local end time HH:MM."),
    slot_duration: int | None = typer.Option(
        None, "--slot-duration", help="Slot minutes for an extend (default: provider's)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a one-off block or extend on one date."""
    from bookctl import output
    from bookctl.domain import Override
    from bookctl.errors import InvalidInput
    from bookctl.timeutil import parse_date, parse_hhmm

    if block == extend:
        raise InvalidInput("give exactly one of --block or --extend")
    ov = Override(
        date=parse_date(date, "--date"),
        type="block" if block else "extend",
        start_minute=parse_hhmm(start, "--start") if start is not None else None,
        end_minute=parse_hhmm(end, "--end", allow_24=True) if end is not None else None,
        slot_duration_minutes=slot_duration,
    )
    saved = open_service().add_override(provider_id, ov)
    doc = output.override_json(saved)
    if as_json:
        output.emit_json(doc)
    else:
        output.record(f"Override {saved.override_id}", doc)


@override_app.command("list")
@handles_errors
def override_list(
    provider_id: int = typer.Argument(..., help="Provider id."),
    first: str | None = typer.Option(None, "--from", help="First date, YYYY-MM-DD."),
    last: str | None = typer.Option(None, "--to", help="Last date (inclusive), YYYY-MM-DD."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List a provider's overrides."""
    from bookctl import output
    from bookctl.timeutil import parse_date

    found = open_service().overrides(
        provider_id,
        parse_date(first, "--from") if first else None,
        parse_date(last, "--to") if last else None,
    )
    docs = [output.override_json(o) for o in found]
    if as_json:
        output.emit_json(docs)
        return
    output.table(
        f"Overrides of provider {provider_id}",
        ("id", "date", "type", "from", "to", "slot min"),
        [
            (
                d["override_id"],
                d["date"],
                d["type"],
                d["start_time"] or "all day",
                d["end_time"],
                d["slot_duration_minutes"],
            )
            for d in docs
        ],
    )


@override_app.command("remove")
@handles_errors
def override_remove(
    override_id: int = typer.Argument(..., help="Override id."), as_json: bool = JSON_OPTION
) -> None:
    """Remove one override."""
    from bookctl import output

    ov = open_service().remove_override(override_id)
    if as_json:
        output.emit_json({**output.override_json(ov), "removed": True})
    else:
        output.message(f"removed override {override_id}")


@client_app.command("add")
@handles_errors
def client_add(
    name: str = typer.Argument(..., help="Client name."),
    email: str | None = typer.Option(None, "--email", help="Where confirmations go."),
    phone: str | None = typer.Option(None, "--phone", help="Phone number."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a client and print it with its client_id."""
    from bookctl import output

    c = open_service().add_client(name, email, phone)
    if as_json:
        output.emit_json(output.client_json(c))
    else:
        output.record(f"Client {c.client_id}", output.client_json(c))


@client_app.command("list")
@handles_errors
def client_list(as_json: bool = JSON_OPTION) -> None:
    """List clients."""
    from bookctl import output

    clients = open_service().list_clients()
    if as_json:
        output.emit_json([output.client_json(c) for c in clients])
        return
    output.table(
        "Clients",
        ("id", "name", "email", "phone"),
        [(c.client_id, c.name, c.email, c.phone) for c in clients],
    )


@client_app.command("show")
@handles_errors
def client_show(
    client_id: int = typer.Argument(..., help="Client id."), as_json: bool = JSON_OPTION
) -> None:
    """Show one client."""
    from bookctl import output

    c = open_service().client(client_id)
    if as_json:
        output.emit_json(output.client_json(c))
    else:
        output.record(f"Client {c.client_id}", output.client_json(c))
