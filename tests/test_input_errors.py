"""Malformed input: exit 2, a one-line message naming the bad value, no traceback, the
database unchanged (SPEC section 6, issue 2 item 6, issue 3). Past times are refused by
policy (exit 5), unknown ids are not found (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Run
from practice import NOW, TUESDAY, book, dump, ok, practice, run_real

NINE = f"{TUESDAY}T09:00"


@pytest.fixture
def ref(cli: Run) -> str:
    """A practice (provider 1 in New York, client 1) with one booked appointment."""
    pid, cid = practice(cli)
    return str(book(cli, pid, cid, NINE)["booking_ref"])


def rule_file(tmp_path: Path, rules: object) -> str:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules) if not isinstance(rules, str) else rules, encoding="utf-8")
    return str(path)


# (argv, the bad value the message must name). "{ref}" stands for a real booking reference.
MALFORMED: list[tuple[tuple[str, ...], str]] = [
    # time zones
    (("provider", "add", "X", "--timezone", "Mars/Olympus_Mons"), "Mars/Olympus_Mons"),
    (("provider", "add", "X", "--timezone", "Europe/Lodnon"), "Europe/Lodnon"),
    (("provider", "add", "X", "--timezone", "../../etc/passwd"), "../../etc/passwd"),
    (("provider", "add", "X", "--timezone", ""), "''"),
    (("provider", "update", "1", "--timezone", "EST+5"), "EST+5"),
    # provider numbers and specs
    (("provider", "add", "X", "--timezone", "UTC", "--buffer", "-5"), "-5"),
    (("provider", "add", "X", "--timezone", "UTC", "--buffer", "1441"), "1441"),
    (("provider", "add", "X", "--timezone", "UTC", "--default-slot-minutes", "0"), "0"),
    (("provider", "add", "X", "--timezone", "UTC", "--default-slot-minutes", "-30"), "-30"),
    (("provider", "add", "X", "--timezone", "UTC", "--max-advance-days", "99999999"), "99999999"),
    (("provider", "add", "X", "--timezone", "UTC", "--cancel-notice-hours", "-1"), "-1"),
    (("provider", "update", "1", "--reschedule-notice-hours", "10" * 12), "10" * 12),
    (("provider", "add", "X", "--timezone", "UTC", "--min-notice-minutes", "-10"), "-10"),
    (("provider", "add", "X", "--timezone", "UTC", "--reminders", "24h:sms"), "24h:sms"),
    (("provider", "add", "X", "--timezone", "UTC", "--reminders", "0h:email"), "0h"),
    (("provider", "add", "X", "--timezone", "UTC", "--reminders", "soon:email"), "soon"),
    (("provider", "add", "X", "--timezone", "UTC", "--email", "desk.example.org"), "desk.example"),
    (("provider", "add", "  ", "--timezone", "UTC"), "name"),
    (("provider", "update", "1", "--name", ""), "name"),
    # rules: end <= start, non-positive durations, malformed day specs, bad times
    (("availability", "set", "1", "--rule", "mon-fri 17:00-09:00"), "17:00-09:00"),
    (("availability", "set", "1", "--rule", "mon 09:00-09:00"), "09:00-09:00"),
    (("availability", "set", "1", "--rule", "mon-fri 09:00-17:00/0"), "/0"),
    (("availability", "set", "1", "--rule", "mon-fri 09:00-17:00/-15"), "-15"),
    (("availability", "set", "1", "--rule", "mon-fri 09:00-17:00/abc"), "abc"),
    (("availability", "set", "1", "--rule", "mon-fri 09:00-17:00/2000"), "2000"),
    (("availability", "set", "1", "--rule", "funday 09:00-17:00"), "funday"),
    (("availability", "set", "1", "--rule", "mon-xyz 09:00-17:00"), "xyz"),
    (("availability", "set", "1", "--rule", "mon,,fri 09:00-17:00"), "mon,,fri"),
    (("availability", "set", "1", "--rule", "mo-fr 09:00-17:00"), "mo"),
    (("availability", "set", "1", "--rule", "mon 9-17"), "mon 9-17"),
    (("availability", "set", "1", "--rule", "mon 25:00-26:00"), "25:00"),
    (("availability", "set", "1", "--rule", "mon 09:60-10:00"), "09:60"),
    (("availability", "set", "1", "--rule", "09:00-17:00"), "09:00-17:00"),
    (("availability", "set", "1", "--rule", "mon 09:00-10:00", "--file", "-"), "--file"),
    (("availability", "set", "1"), "--rule"),
    (("availability", "set", "1", "--file", "/nonexistent/rules.json"), "/nonexistent/rules.json"),
    # overrides
    (("override", "add", "1", "--date", "2026-02-30", "--block"), "2026-02-30"),
    (("override", "add", "1", "--date", "2026-13-01", "--block"), "2026-13-01"),
    (("override", "add", "1", "--date", "tomorrow", "--block"), "tomorrow"),
    (("override", "add", "1", "--date", TUESDAY, "--extend"), "--start"),
    (("override", "add", "1", "--date", TUESDAY, "--block", "--start", "10:00"), "--end"),
    (("override", "add", "1", "--date", TUESDAY, "--block", "--extend"), "--block"),
    (("override", "add", "1", "--date", TUESDAY), "--extend"),
    (
        (
            "override",
            "add",
            "1",
            "--date",
            TUESDAY,
            "--extend",
            "--start",
            "12:00",
            "--end",
            "11:00",
        ),
        "12:00",
    ),
    (
        ("override", "add", "1", "--date", TUESDAY, "--block", "--start", "9:00", "--end", "10:00"),
        "9:00",
    ),
    (
        (
            "override",
            "add",
            "1",
            "--date",
            TUESDAY,
            "--extend",
            "--start",
            "18:00",
            "--end",
            "20:00",
            "--slot-duration",
            "0",
        ),
        "0",
    ),  # fmt: skip
    (
        ("override", "add", "1", "--date", TUESDAY, "--block", "--slot-duration", "30"),
        "--slot-duration",
    ),
    (("override", "list", "1", "--from", "2026-02-30"), "2026-02-30"),
    (("override", "list", "1", "--to", "12/01/2026"), "12/01/2026"),
    # clients
    (("client", "add", "Eve", "--email", "eve@"), "eve@"),
    (("client", "add", "Eve", "--email", "eve at example.org"), "eve at example.org"),
    (("client", "add", " "), "name"),
    # instants: malformed, impossible dates, DST gaps, out of range
    (("book", "1", "2026-02-30T09:00", "--client", "1"), "2026-02-30T09:00"),
    (("book", "1", "tomorrow at nine", "--client", "1"), "tomorrow at nine"),
    (("book", "1", TUESDAY, "--client", "1"), TUESDAY),
    (("book", "1", "2026-12-01T9am", "--client", "1"), "2026-12-01T9am"),
    (("book", "1", "2026-12-01T09:00+25:00", "--client", "1"), "2026-12-01T09:00+25:00"),
    (("book", "1", "2026-12-01T24:30", "--client", "1"), "2026-12-01T24:30"),
    (("book", "1", "2027-03-14T02:30", "--client", "1"), "2027-03-14T02:30"),  # NY gap
    (("book", "1", "2027-03-14T02:00:00", "--client", "1", "--force"), "2027-03-14T02:00:00"),
    (("book", "1", "0001-01-01T00:00:00+01:00", "--client", "1"), "0001-01-01"),
    (("book", "1", "9999-12-31T23:00:00-05:00", "--client", "1", "--force"), "9999-12-31"),
    # durations
    (("book", "1", NINE, "--client", "1", "--duration", "0"), "0"),
    (("book", "1", NINE, "--client", "1", "--duration", "-30"), "-30"),
    (("book", "1", NINE, "--client", "1", "--duration", "1441", "--force"), "1441"),
    (("slots", "1", "--duration", "0"), "0"),
    (("reschedule", "{ref}", "2026-12-02T09:00", "--duration", "0"), "0"),
    # slot and list windows
    (("slots", "1", "--from", "2026-02-30"), "2026-02-30"),
    (("slots", "1", "--from", "2026-12-05", "--to", "2026-12-01"), "2026-12-01"),
    (("slots", "1", "--to", "9999-12-31"), "9999-12-31"),
    (("appointments", "list", "--status", "done"), "done"),
    (("appointments", "list", "--from", "2026-12-05", "--to", "2026-12-01"), "2026-12-01"),
    (("override", "list", "1", "--from", "2026-12-05", "--to", "2026-12-01"), "2026-12-01"),
    (("appointments", "list", "--from", "2026-02-30"), "2026-02-30"),
    (("appointments", "list", "--provider", "1", "--to", "2026-12-01T02:61"), "02:61"),
    # booking references
    (("show", "ABCD"), "ABCD"),
    (("show", "0000-0000-00000"), "0000-0000-00000"),
    (("show", "ABCD-EFGH-IJKLM"), "ABCD-EFGH-IJKLM"),
    (("show", "2345-6789-ABCDE-F"), "2345-6789-ABCDE-F"),
    (("show", ""), "''"),
    (("history", "robert'); DROP TABLE appointments;--"), "DROP TABLE"),
    (("cancel", "ZZZZ-ZZZZ-ZZZZO"), "ZZZZ-ZZZZ-ZZZZO"),
    (("complete", "hello"), "hello"),
    (("no-show", "hello"), "hello"),
    (("reschedule", "hello", "2026-12-02T09:00"), "hello"),
    # actors and reschedule instants
    (("cancel", "{ref}", "--as", "staff"), "staff"),
    (("reschedule", "{ref}", "2026-12-02T09:00", "--as", "boss"), "boss"),
    (("reschedule", "{ref}", "2026-02-30T09:00"), "2026-02-30T09:00"),
    (("reschedule", "{ref}", "2027-03-14T02:30", "--as", "provider"), "2027-03-14T02:30"),
]


@pytest.mark.parametrize(("args", "bad"), MALFORMED, ids=[" ".join(a) for a, _ in MALFORMED])
def test_malformed_input_exits_2_naming_the_value_and_changes_nothing(
    cli: Run, isolated_env: Path, ref: str, args: tuple[str, ...], bad: str
) -> None:
    argv = [a.replace("{ref}", ref) for a in args]
    before = dump(isolated_env)
    r = cli(*argv, "--json", now=NOW, input="")
    assert r.exit_code == 2, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1  # one JSON document on one line
    assert r.error["code"] in ("invalid_input", "unknown_timezone")
    message = r.error["message"]
    assert "\n" not in message
    assert bad in message, message
    assert "Traceback" not in r.stderr
    # people get the same one line
    human = cli(*argv, now=NOW, input="")
    assert human.exit_code == 2
    assert human.stderr == f"error: {message}\n"
    assert dump(isolated_env) == before


def test_unknown_time_zone_has_its_own_code(cli: Run) -> None:
    r = cli("provider", "add", "X", "--timezone", "America/Gotham", "--json")
    assert r.exit_code == 2
    assert r.error["code"] == "unknown_timezone"
    assert ok(cli("provider", "list", "--json")) == []


BAD_FILES: list[tuple[object, str]] = [
    ("this is not json", "not JSON"),
    ({"day_of_week": 0}, "JSON array"),
    ([{"day_of_week": 7, "start_time": "09:00", "end_time": "10:00"}], "7"),
    ([{"day_of_week": 0, "start_time": "10:00", "end_time": "09:00"}], "item 0"),
    ([{"day_of_week": 0, "start_time": "9", "end_time": "10:00"}], "'9'"),
    ([{"day_of_week": 0, "start_time": "09:00"}], "end_time"),
    (
        [
            {
                "day_of_week": 0,
                "start_time": "09:00",
                "end_time": "10:00",
                "slot_duration_minutes": 0,
            }
        ],
        "0",
    ),
    (
        [
            {"day_of_week": 0, "start_time": "09:00", "end_time": "10:00"},
            {
                "day_of_week": 1,
                "start_time": "09:00",
                "end_time": "10:00",
                "effective_from": "2026-02-30",
            },
        ],
        "2026-02-30",
    ),
    (
        [
            {
                "day_of_week": 1,
                "start_time": "09:00",
                "end_time": "10:00",
                "effective_from": "2026-12-10",
                "effective_until": "2026-12-01",
            }
        ],
        "effective_until",
    ),
    ([{"day_of_week": "someday", "start_time": "09:00", "end_time": "10:00"}], "someday"),
    ([{"day_of_week": 1, "start_time": "09:00", "end_time": "10:00", "colour": "red"}], "colour"),
]


@pytest.mark.parametrize(("content", "bad"), BAD_FILES)
def test_malformed_rules_files(
    cli: Run, isolated_env: Path, tmp_path: Path, content: object, bad: str
) -> None:
    practice(cli)
    before = dump(isolated_env)
    for args, stdin in (
        (("--file", rule_file(tmp_path, content)), None),
        (("--file", "-"), content if isinstance(content, str) else json.dumps(content)),
    ):
        r = cli("availability", "set", "1", *args, "--json", input=stdin)
        assert r.exit_code == 2, r.stderr
        assert bad in r.error["message"]
    assert dump(isolated_env) == before


# ---- policy and not-found, which are not exit 2 -------------------------------------------


@pytest.mark.parametrize(
    "start", ["2026-11-30T06:00", "2026-11-30T11:59:59Z", "2025-12-01T09:00", "1900-01-01T00:00Z"]
)
def test_past_times_are_in_the_past(cli: Run, isolated_env: Path, ref: str, start: str) -> None:
    before = dump(isolated_env)
    for extra in ((), ("--force",)):
        r = cli("book", "1", start, "--client", "1", *extra, "--json", now=NOW)
        assert r.exit_code == 5, r.stderr
        assert r.error["code"] == "in_the_past"
        assert NOW in r.error["message"]
    r = cli("reschedule", ref, start, "--as", "provider", "--json", now=NOW)
    assert (r.exit_code, r.error["code"]) == (5, "in_the_past")
    assert dump(isolated_env) == before


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("book", "9", NINE, "--client", "1"), "provider 9"),
        (("book", "1", NINE, "--client", "9"), "client 9"),
        (("book", "1", NINE, "--client", "99999999999999999999999"), "99999999999999999999999"),
        (("provider", "show", "99999999999999999999999"), "99999999999999999999999"),
        (("provider", "update", "0", "--name", "X"), "provider 0"),
        (("slots", "9"), "provider 9"),
        (("appointments", "list", "--provider", "9"), "provider 9"),
        (("show", "2345-6789-ABCDE"), "2345-6789-ABCDE"),
        (("cancel", "2345-6789-abcde"), "2345-6789-ABCDE"),
        (("reschedule", "2345-6789-ABCDE", NINE), "2345-6789-ABCDE"),
        (("override", "remove", "99999999999999999999999"), "99999999999999999999999"),
    ],
)
def test_unknown_ids_exit_3(
    cli: Run, isolated_env: Path, ref: str, args: tuple[str, ...], named: str
) -> None:
    before = dump(isolated_env)
    r = cli(*args, "--json", now=NOW)
    assert r.exit_code == 3, r.stderr
    assert r.error["code"] == "not_found"
    assert named in r.error["message"]
    assert dump(isolated_env) == before


# ---- the real executable: nothing reaches stderr but the one line ------------------------


REAL_CASES: list[tuple[tuple[str, ...], int, str]] = [
    (("provider", "add", "X", "--timezone", "Nowhere/Special"), 2, "Nowhere/Special"),
    (("availability", "set", "1", "--rule", "mon-fri 17:00-09:00"), 2, "17:00-09:00"),
    (("override", "add", "1", "--date", "2026-02-30", "--block"), 2, "2026-02-30"),
    (("book", "1", "2027-03-14T02:30", "--client", "1"), 2, "2027-03-14T02:30"),
    (("book", "1", "9999-12-31T23:00:00-05:00", "--client", "1", "--force"), 2, "9999"),
    (("show", "ABCD-EFGH-IJKLM"), 2, "ABCD-EFGH-IJKLM"),
    (("provider", "show", "abc"), 2, "abc"),
    (("book", "1", NINE, "--client", "x1"), 2, "x1"),
    (("book", "1", "2026-11-30T06:00", "--client", "1"), 5, "in the past"),
    (("book", "1", NINE, "--client", "42"), 3, "client 42"),
    (("provider", "show", "99999999999999999999999"), 3, "99999999999999999999999"),
]


@pytest.mark.parametrize(("args", "code", "named"), REAL_CASES)
def test_the_real_bookctl_never_prints_a_traceback(
    cli: Run, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
    code: int, named: str,
) -> None:  # fmt: skip
    practice(cli)
    monkeypatch.setenv("BOOKCTL_NOW", NOW)
    before = dump(isolated_env)
    for extra in ((), ("--json",)):
        p = run_real(*args, *extra)
        assert p.returncode == code, p.stderr
        assert p.stdout == ""
        assert "Traceback" not in p.stderr
        assert named in p.stderr
        if extra:
            assert p.stderr.count("\n") == 1
            assert json.loads(p.stderr)["error"]["message"]
        elif p.stderr.startswith("error: "):
            assert p.stderr.count("\n") == 1
    assert dump(isolated_env) == before


@pytest.mark.parametrize("now", ["yesterday", "2026-11-30T12:00", "9999-12-31T00:00:00Z"])
def test_a_malformed_clock_is_refused(
    cli: Run, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, now: str
) -> None:
    practice(cli)
    monkeypatch.setenv("BOOKCTL_NOW", now)
    p = run_real("book", "1", NINE, "--client", "1", "--json")
    assert p.returncode == 2, p.stderr
    assert now in json.loads(p.stderr)["error"]["message"]
    assert "Traceback" not in p.stderr
    monkeypatch.delenv("BOOKCTL_NOW")
    assert ok(cli("appointments", "list", "--json")) == []


def test_localtime_is_not_a_provider_zone(cli: Run) -> None:
    """'localtime' is a file in the zone database meaning "this machine's zone": a provider's
    calendar must not move when the server does."""
    r = cli("provider", "add", "X", "--timezone", "localtime", "--json")
    assert r.exit_code == 2
    assert r.error["code"] == "unknown_timezone"
    assert "localtime" in r.error["message"]


def test_fractional_seconds_are_refused_not_truncated(cli: Run) -> None:
    cli("provider", "add", "X", "--timezone", "UTC")
    cli("client", "add", "C")
    r = cli("book", "1", "2026-12-01T09:00:00.5Z", "--client", "1", "--json", now=NOW)
    assert r.exit_code == 2
    assert "09:00:00.5" in r.error["message"]
