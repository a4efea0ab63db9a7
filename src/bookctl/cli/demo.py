"""`bookctl demo`: a sample practice in its own database file, its week of free slots, one
booking made and shown. The first thing a new user runs."""

from __future__ import annotations

from pathlib import Path

import typer

from bookctl.cli.common import handles_errors, now


@handles_errors
def demo(
    db: str | None = typer.Option(
        None,
        "--demo-db",
        help="Where to write the demo database (default: demo.db in the"
        " user data directory; replaced on every run).",
    ),
) -> None:
    """Create a sample practice, show its free slots this week, book one and show it."""
    from datetime import timedelta

    from bookctl import output
    from bookctl.config import default_db_path
    from bookctl.domain import Override
    from bookctl.service import Service
    from bookctl.specs import parse_rule
    from bookctl.store import connect
    from bookctl.timeutil import human_local, local_date, zone

    path = Path(db) if db else default_db_path().with_name("demo.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    svc = Service(connect(path), now())
    physio = svc.add_provider(
        {
            "name": "Riverside Physio",
            "timezone": "Europe/London",
            "buffer_minutes": 15,
            "default_slot_minutes": 45,
            "min_notice_minutes": 120,
        }
    )
    pid = physio.provider_id
    svc.set_rules(pid, parse_rule("mon-fri 09:00-17:00", 45) + parse_rule("sat 10:00-13:00", 45))
    tz = zone(physio.timezone)
    tomorrow = local_date(svc.now, tz) + timedelta(days=1)
    # a one-off lunch break tomorrow, so the demo shows an override at work
    svc.add_override(pid, Override(date=tomorrow, type="block", start_minute=720, end_minute=780))
    client = svc.add_client("Ada Lovelace", "ada@example.org", None)
    ans = svc.free_slots(pid, None, None)
    output.message(f"[bold]Demo database:[/bold] {path}")
    output.table(
        f"Free slots of {physio.name} this week ({tz.key})",
        ("local start", "local end", "start (UTC)"),
        [
            (human_local(s.start, tz), human_local(s.end, tz), output.iso_z(s.start))
            for s in ans.expansion.slots[:20]
        ],
    )
    if len(ans.expansion.slots) > 20:
        output.message(f"... and {len(ans.expansion.slots) - 20} more")
    if not ans.expansion.slots:
        output.message("no free slot this week (is BOOKCTL_NOW set far away?): nothing booked")
        return
    first = ans.expansion.slots[0]
    booked = svc.book(pid, output.iso_z(first.start) or "", client.client_id)
    output.record(f"Booked {booked.booking_ref}", output.appointment_json(booked, tz))
    output.message(
        "Try next:\n"
        f"  bookctl --db {path} slots {pid} --explain\n"
        f"  bookctl --db {path} show {booked.booking_ref}\n"
        f"  bookctl --db {path} history {booked.booking_ref} --json"
    )
