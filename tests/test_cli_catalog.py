"""CLI tests of the catalog commands: provider, availability, override and client. Each
checks the JSON shape (every SPEC section 5 field) and the exit codes (SPEC section 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Run
from practice import NOW, TUESDAY, book, ok, practice

PROVIDER_FIELDS = {
    "provider_id",
    "name",
    "timezone",
    "buffer_minutes",
    "max_advance_days",
    "cancellation_notice_hours",
    "reschedule_notice_hours",
    "min_notice_minutes",
    "default_slot_minutes",
    "reminders",
}
RULE_FIELDS = {
    "rule_id",
    "provider_id",
    "day_of_week",
    "start_time",
    "end_time",
    "slot_duration_minutes",
    "effective_from",
    "effective_until",
}
OVERRIDE_FIELDS = {"override_id", "provider_id", "date", "type", "start_time", "end_time"}
CLIENT_FIELDS = {"client_id", "name", "email"}


# ---- provider ----------------------------------------------------------------------------


def test_provider_add_prints_every_field_with_the_spec_defaults(cli: Run) -> None:
    doc = ok(cli("provider", "add", "Dr Ann", "--timezone", "Europe/London", "--json"))
    assert set(doc) >= PROVIDER_FIELDS
    assert doc["provider_id"] == 1
    assert doc["name"] == "Dr Ann"
    assert doc["timezone"] == "Europe/London"
    assert doc["buffer_minutes"] == 0
    assert doc["max_advance_days"] == 60
    assert doc["cancellation_notice_hours"] == 24
    assert doc["reschedule_notice_hours"] == 24
    assert doc["min_notice_minutes"] == 0
    assert doc["default_slot_minutes"] == 30
    assert doc["reminders"] == "24h:email,1h:email"


def test_provider_add_takes_every_option(cli: Run) -> None:
    doc = ok(
        cli(
            "provider",
            "add",
            "Salon",
            "--timezone",
            "Asia/Kathmandu",
            "--buffer",
            "10",
            "--max-advance-days",
            "14",
            "--cancel-notice-hours",
            "48",
            "--reschedule-notice-hours",
            "12",
            "--min-notice-minutes",
            "90",
            "--default-slot-minutes",
            "45",
            "--email",
            "desk@example.org",
            "--reminders",
            "2d:email, 1h:webhook",
            "--json",
        )
    )
    assert doc["buffer_minutes"] == 10
    assert doc["max_advance_days"] == 14
    assert doc["cancellation_notice_hours"] == 48
    assert doc["reschedule_notice_hours"] == 12
    assert doc["min_notice_minutes"] == 90
    assert doc["default_slot_minutes"] == 45
    assert doc["email"] == "desk@example.org"
    assert doc["reminders"] == "2d:email,1h:webhook"


def test_reschedule_notice_defaults_to_the_cancel_notice(cli: Run) -> None:
    doc = ok(
        cli("provider", "add", "A", "--timezone", "UTC", "--cancel-notice-hours", "6", "--json")
    )
    assert doc["reschedule_notice_hours"] == 6


def test_provider_list_and_show(cli: Run) -> None:
    assert ok(cli("provider", "list", "--json")) == []
    a = ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    b = ok(cli("provider", "add", "B", "--timezone", "Pacific/Chatham", "--json"))
    listed = ok(cli("provider", "list", "--json"))
    assert [p["provider_id"] for p in listed] == [a["provider_id"], b["provider_id"]]
    assert all(set(p) >= PROVIDER_FIELDS for p in listed)
    assert ok(cli("provider", "show", str(b["provider_id"]), "--json")) == b


def test_provider_commands_print_tables_without_json(cli: Run) -> None:
    cli("provider", "add", "Dr Tabular", "--timezone", "UTC")
    for args in (("provider", "list"), ("provider", "show", "1")):
        r = cli(*args)
        assert r.exit_code == 0
        assert "Dr Tabular" in r.stdout


def test_provider_show_unknown_is_not_found(cli: Run) -> None:
    r = cli("provider", "show", "42", "--json")
    assert r.exit_code == 3
    assert r.error["code"] == "not_found"
    assert "42" in r.error["message"]
    assert r.stdout == ""


def test_provider_update_changes_only_what_is_given(cli: Run) -> None:
    before = ok(cli("provider", "add", "A", "--timezone", "UTC", "--buffer", "5", "--json"))
    after = ok(
        cli(
            "provider",
            "update",
            "1",
            "--name",
            "A2",
            "--timezone",
            "America/Havana",
            "--reschedule-notice-hours",
            "2",
            "--json",
        )
    )
    assert after["name"] == "A2"
    assert after["timezone"] == "America/Havana"
    assert after["reschedule_notice_hours"] == 2
    unchanged = {"buffer_minutes", "cancellation_notice_hours", "max_advance_days", "reminders"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert ok(cli("provider", "show", "1", "--json")) == after


def test_provider_update_unknown_is_not_found(cli: Run) -> None:
    r = cli("provider", "update", "7", "--name", "X", "--json")
    assert r.exit_code == 3
    assert r.error["code"] == "not_found"


def test_provider_remove(cli: Run) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    removed = ok(cli("provider", "remove", "1", "--json"))
    assert removed["provider_id"] == 1
    assert cli("provider", "show", "1", "--json").exit_code == 3
    assert ok(cli("provider", "list", "--json")) == []
    assert cli("provider", "remove", "1", "--json").exit_code == 3


def test_provider_remove_refused_while_active_future_appointments(cli: Run) -> None:
    pid, cid = practice(cli)
    a = book(cli, pid, cid, f"{TUESDAY}T09:00")
    r = cli("provider", "remove", str(pid), "--json", now=NOW)
    assert r.exit_code == 5
    assert str(pid) in r.error["message"]
    assert ok(cli("provider", "show", str(pid), "--json"))["provider_id"] == pid
    ok(cli("cancel", a["booking_ref"], "--as", "provider", "--json", now=NOW))
    ok(cli("provider", "remove", str(pid), "--json", now=NOW))


def test_past_appointments_stay_readable_after_the_provider_is_removed(cli: Run) -> None:
    pid, cid = practice(cli)
    a = book(cli, pid, cid, f"{TUESDAY}T09:00")
    later = "2026-12-02T12:00:00Z"
    ok(cli("complete", a["booking_ref"], "--json", now=later))
    ok(cli("provider", "remove", str(pid), "--json", now=later))
    shown = ok(cli("show", a["booking_ref"], "--json", now=later))
    assert shown["status"] == "completed"
    assert len(ok(cli("history", a["booking_ref"], "--json", now=later))) == 3
    # a new booking with a removed provider is refused
    r = cli("book", str(pid), "2026-12-08T09:00", "--client", str(cid), "--json", now=later)
    assert r.exit_code == 3


# ---- availability --------------------------------------------------------------------------


def test_availability_set_rule_mini_language(cli: Run) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--default-slot-minutes", "20", "--json"))
    rules = ok(
        cli(
            "availability",
            "set",
            "1",
            "--rule",
            "mon-fri 09:00-17:00/45",
            "--rule",
            "sat 10:00-13:00",
            "--json",
        )
    )
    assert all(set(r) >= RULE_FIELDS for r in rules)
    weekdays = [r for r in rules if r["day_of_week"] < 5]
    assert [r["day_of_week"] for r in weekdays] == [0, 1, 2, 3, 4]
    assert {(r["start_time"], r["end_time"], r["slot_duration_minutes"]) for r in weekdays} == {
        ("09:00", "17:00", 45)
    }
    (sat,) = [r for r in rules if r["day_of_week"] == 5]
    assert sat["slot_duration_minutes"] == 20  # the provider's default slot
    assert sat["effective_from"] is None and sat["effective_until"] is None
    assert all(r["provider_id"] == 1 for r in rules)
    assert ok(cli("availability", "show", "1", "--json")) == rules


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon,wed,fri", [0, 2, 4]),
        ("sat", [5]),
        ("Sun", [6]),
        ("fri-mon", [0, 4, 5, 6]),
        ("monday-wednesday", [0, 1, 2]),
        ("mon-tue,thu", [0, 1, 3]),
    ],
)
def test_rule_day_specs(cli: Run, days: str, expected: list[int]) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    rules = ok(cli("availability", "set", "1", "--rule", f"{days} 9:00-24:00/60", "--json"))
    assert sorted(r["day_of_week"] for r in rules) == expected
    assert {(r["start_time"], r["end_time"]) for r in rules} == {("09:00", "24:00")}


def test_availability_set_replaces_every_rule(cli: Run) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    ok(cli("availability", "set", "1", "--rule", "mon-fri 09:00-17:00", "--json"))
    rules = ok(cli("availability", "set", "1", "--rule", "wed 12:00-13:00/15", "--json"))
    assert [(r["day_of_week"], r["start_time"]) for r in rules] == [(2, "12:00")]
    assert ok(cli("availability", "show", "1", "--json")) == rules


FILE_RULES = [
    {"day_of_week": 0, "start_time": "08:00", "end_time": "12:00", "slot_duration_minutes": 60},
    {
        "day_of_week": 3,
        "start_time": "13:00",
        "end_time": "18:30",
        "slot_duration_minutes": 25,
        "effective_from": "2026-12-01",
        "effective_until": "2027-01-31",
    },
]


def _file_view(rules: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in r.items() if k not in ("rule_id", "provider_id")} for r in rules]


def test_availability_set_from_a_file(cli: Run, tmp_path: Path) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(FILE_RULES), encoding="utf-8")
    rules = ok(cli("availability", "set", "1", "--file", str(path), "--json"))
    expected = [
        {
            **r,
            "effective_from": r.get("effective_from"),
            "effective_until": r.get("effective_until"),
        }
        for r in FILE_RULES
    ]
    assert _file_view(rules) == expected
    # what `availability show --json` prints can be fed back unchanged
    shown = ok(cli("availability", "show", "1", "--json"))
    path.write_text(json.dumps(shown), encoding="utf-8")
    assert _file_view(ok(cli("availability", "set", "1", "--file", str(path), "--json"))) == (
        expected
    )


def test_availability_set_from_stdin(cli: Run) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    rules = ok(
        cli("availability", "set", "1", "--file", "-", "--json", input=json.dumps(FILE_RULES))
    )
    assert [r["day_of_week"] for r in rules] == [0, 3]
    empty = ok(cli("availability", "set", "1", "--file", "-", "--json", input="[]"))
    assert empty == []
    assert ok(cli("availability", "show", "1", "--json")) == []


def test_availability_human_output(cli: Run) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    r = cli("availability", "set", "1", "--rule", "tue 09:00-10:00")
    assert r.exit_code == 0 and "Tue" in r.stdout
    assert "09:00" in cli("availability", "show", "1").stdout


@pytest.mark.parametrize(
    "args",
    [
        ("availability", "show", "9", "--json"),
        ("availability", "set", "9", "--rule", "mon 09:00-10:00", "--json"),
        ("override", "add", "9", "--date", TUESDAY, "--block", "--json"),
        ("override", "list", "9", "--json"),
        ("override", "remove", "9", "--json"),
        ("client", "show", "9", "--json"),
    ],
)
def test_unknown_ids_are_not_found(cli: Run, args: tuple[str, ...]) -> None:
    r = cli(*args)
    assert r.exit_code == 3, r.stderr
    assert r.error["code"] == "not_found"
    assert "9" in r.error["message"]


# ---- overrides -----------------------------------------------------------------------------


def test_override_add_list_remove(cli: Run) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    day_off = ok(cli("override", "add", "1", "--date", "2026-12-24", "--block", "--json"))
    assert set(day_off) >= OVERRIDE_FIELDS
    assert day_off["type"] == "block"
    assert day_off["date"] == "2026-12-24"
    assert day_off["start_time"] is None and day_off["end_time"] is None
    lunch = ok(
        cli(
            "override",
            "add",
            "1",
            "--date",
            "2026-12-02",
            "--block",
            "--start",
            "12:00",
            "--end",
            "13:00",
            "--json",
        )
    )
    assert (lunch["start_time"], lunch["end_time"]) == ("12:00", "13:00")
    evening = ok(
        cli(
            "override",
            "add",
            "1",
            "--date",
            "2026-12-23",
            "--extend",
            "--start",
            "18:00",
            "--end",
            "24:00",
            "--slot-duration",
            "40",
            "--json",
        )
    )
    assert evening["type"] == "extend"
    assert (evening["start_time"], evening["end_time"]) == ("18:00", "24:00")
    assert evening["slot_duration_minutes"] == 40
    assert evening["provider_id"] == 1

    listed = ok(cli("override", "list", "1", "--json"))
    assert [o["date"] for o in listed] == ["2026-12-02", "2026-12-23", "2026-12-24"]
    assert listed[1] == evening
    window = ok(
        cli("override", "list", "1", "--from", "2026-12-03", "--to", "2026-12-23", "--json")
    )
    assert [o["override_id"] for o in window] == [evening["override_id"]]

    removed = ok(cli("override", "remove", str(lunch["override_id"]), "--json"))
    assert removed["override_id"] == lunch["override_id"]
    remaining = [o["override_id"] for o in ok(cli("override", "list", "1", "--json"))]
    assert remaining == [evening["override_id"], day_off["override_id"]]
    assert cli("override", "remove", str(lunch["override_id"]), "--json").exit_code == 3


def test_override_human_output(cli: Run) -> None:
    ok(cli("provider", "add", "A", "--timezone", "UTC", "--json"))
    assert cli("override", "add", "1", "--date", "2026-12-24", "--block").exit_code == 0
    r = cli("override", "list", "1")
    assert r.exit_code == 0 and "2026-12-24" in r.stdout and "all day" in r.stdout


# ---- clients -------------------------------------------------------------------------------


def test_client_add_list_show(cli: Run) -> None:
    assert ok(cli("client", "list", "--json")) == []
    bob = ok(
        cli("client", "add", "Bob", "--email", "bob@example.org", "--phone", "+1 555", "--json")
    )
    assert set(bob) >= CLIENT_FIELDS
    assert (bob["client_id"], bob["name"], bob["email"]) == (1, "Bob", "bob@example.org")
    eve = ok(cli("client", "add", "Eve", "--json"))
    assert eve["email"] is None
    assert ok(cli("client", "list", "--json")) == [bob, eve]
    assert ok(cli("client", "show", "2", "--json")) == eve
    r = cli("client", "list")
    assert r.exit_code == 0 and "Bob" in r.stdout and "Eve" in r.stdout
    assert "bob@example.org" in cli("client", "show", "1").stdout
