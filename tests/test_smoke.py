"""The shortest path through bookctl: provider, rules, client, slots, book, show."""

from __future__ import annotations

from conftest import Run

NOW = "2026-11-30T12:00:00Z"


def test_book_a_free_slot_and_show_it(cli: Run) -> None:
    added = cli("provider", "add", "Dr Ann", "--timezone", "America/New_York", "--json")
    assert added.exit_code == 0
    assert cli("availability", "set", "1", "--rule", "mon-fri 09:00-12:00/30").exit_code == 0
    assert cli("client", "add", "Bob", "--email", "bob@example.org").exit_code == 0
    slots = cli("slots", "1", "--from", "2026-12-01", "--to", "2026-12-01", "--json", now=NOW)
    assert slots.exit_code == 0
    assert slots.json[0]["local_start"] == "2026-12-01T09:00:00-05:00"
    booked = cli("book", "1", "2026-12-01T09:00", "--client", "1", "--json", now=NOW)
    assert booked.exit_code == 0, booked.stderr
    ref = booked.json["booking_ref"]
    shown = cli("show", ref.lower(), "--json", now=NOW)
    assert shown.json["start_at"] == "2026-12-01T14:00:00Z"
    again = cli("book", "1", "2026-12-01T14:00:00Z", "--client", "1", "--json", now=NOW)
    assert again.exit_code == 4
    assert again.error["code"] == "slot_taken"
