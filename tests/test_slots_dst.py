"""Example tests of the slot engine (SPEC section 3) across real 2026 transitions.

Every expected value below was worked out by hand from the zone's 2026 transitions, which
were looked up with zoneinfo:

- America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT ->
  01:00 EST (06:00Z), so 01:00-02:00 happens twice.
- Europe/London: 2026-03-29 01:00 GMT -> 02:00 BST (01:00Z); 2026-10-25 02:00 BST -> 01:00 GMT.
- Australia/Lord_Howe (30-minute shift): 2026-10-04 02:00 +10:30 -> 02:30 +11:00;
  2026-04-05 02:00 +11:00 -> 01:30 +10:30.
- Pacific/Chatham: 2026-09-27 02:45 +12:45 -> 03:45 +13:45; 2026-04-05 03:45 +13:45 -> 02:45
  +12:45.
- Asia/Kathmandu: +05:45 all year.
- America/Santiago: 2026-09-06 00:00 -04 -> 01:00 -03 (no local midnight); 2026-04-05
  00:00 -03 -> 2026-04-04 23:00 -04.
- America/Havana: 2026-03-08 00:00 CST -> 01:00 CDT (no local midnight).

Slots are shown as (local start, local end) in ISO 8601 with the offset at that instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Run

from bookctl.domain import Override, Rule
from bookctl.slots import Expansion, Settings, expand

LONG_AGO = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
OPEN = Settings(max_advance_days=400)  # no horizon in the way
SUN, MON, TUE, SAT = 6, 0, 1, 5


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def rule(
    day_of_week: int,
    start: str,
    end: str,
    length: int,
    since: date | None = None,
    until: date | None = None,
) -> Rule:
    return Rule(day_of_week, hm(start), hm(end), length, since, until)


def run(
    zone: str,
    day: date,
    rules: Sequence[Rule],
    overrides: Sequence[Override] = (),
    *,
    busy: Sequence[tuple[int, int]] = (),
    settings: Settings = OPEN,
    duration: int | None = None,
    now: int = LONG_AGO,
    days: int = 1,
    explain: bool = False,
) -> Expansion:
    """Expand over a generous UTC window around local `day` .. `day + days - 1`; the rules
    given only match those days, so nothing else can show up."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - 15 * 3600
    return expand(
        tz=ZoneInfo(zone),
        rules=rules,
        overrides=overrides,
        busy=busy,
        window_start=start,
        window_end=start + days * 86400 + 30 * 3600,
        now=now,
        settings=settings,
        duration_minutes=duration,
        explain=explain,
    )


def local(zone: str, result: Expansion) -> list[tuple[str, str]]:
    tz = ZoneInfo(zone)

    def iso(t: int) -> str:
        return datetime.fromtimestamp(t, tz).isoformat()

    return [(iso(s.start), iso(s.end)) for s in result.slots]


def slots(
    zone: str, day: date, rules: Sequence[Rule], overrides: Sequence[Override] = (), **kw: Any
) -> list[tuple[str, str]]:
    return local(zone, run(zone, day, rules, overrides, **kw))


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# --- one zone, one transition day, one rule: exactly these slots ---------------------------

NY = "America/New_York"
NY_SPRING, NY_FALL = date(2026, 3, 8), date(2026, 11, 1)
SANTIAGO, SANTIAGO_SPRING = "America/Santiago", date(2026, 9, 6)
HAVANA, HAVANA_SPRING = "America/Havana", date(2026, 3, 8)

TRANSITION_DAYS = [
    # Grid 01:00 .. 03:30: 02:00 and 02:30 do not exist. 01:30 EST plus 30 real minutes is
    # 07:00Z, which the clock shows as 03:00 EDT.
    pytest.param(
        NY,
        NY_SPRING,
        rule(SUN, "01:00", "04:00", 30),
        [
            ("2026-03-08T01:00:00-05:00", "2026-03-08T01:30:00-05:00"),
            ("2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"),
            ("2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"),
            ("2026-03-08T03:30:00-04:00", "2026-03-08T04:00:00-04:00"),
        ],
        id="new-york-spring",
    ),
    # 01:00 and 01:30 do not exist; 00:30 GMT + 30 min = 01:00Z = 02:00 BST.
    pytest.param(
        "Europe/London",
        date(2026, 3, 29),
        rule(SUN, "00:00", "03:00", 30),
        [
            ("2026-03-29T00:00:00+00:00", "2026-03-29T00:30:00+00:00"),
            ("2026-03-29T00:30:00+00:00", "2026-03-29T02:00:00+01:00"),
            ("2026-03-29T02:00:00+01:00", "2026-03-29T02:30:00+01:00"),
            ("2026-03-29T02:30:00+01:00", "2026-03-29T03:00:00+01:00"),
        ],
        id="london-spring",
    ),
    # 01:00 is its first occurrence (BST, 00:00Z); an hour later the clock reads 01:00 GMT.
    pytest.param(
        "Europe/London",
        date(2026, 10, 25),
        rule(SUN, "00:00", "03:00", 60),
        [
            ("2026-10-25T00:00:00+01:00", "2026-10-25T01:00:00+01:00"),
            ("2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00+00:00"),
            ("2026-10-25T02:00:00+00:00", "2026-10-25T03:00:00+00:00"),
        ],
        id="london-fall",
    ),
    # Only 02:00 falls in the 30-minute gap; 01:30 +10:30 (15:00Z) + 30 min = 15:30Z = 02:30
    # +11:00.
    pytest.param(
        "Australia/Lord_Howe",
        date(2026, 10, 4),
        rule(SUN, "01:00", "04:00", 30),
        [
            ("2026-10-04T01:00:00+10:30", "2026-10-04T01:30:00+10:30"),
            ("2026-10-04T01:30:00+10:30", "2026-10-04T02:30:00+11:00"),
            ("2026-10-04T02:30:00+11:00", "2026-10-04T03:00:00+11:00"),
            ("2026-10-04T03:00:00+11:00", "2026-10-04T03:30:00+11:00"),
            ("2026-10-04T03:30:00+11:00", "2026-10-04T04:00:00+11:00"),
        ],
        id="lord-howe-spring",
    ),
    # 01:30-02:00 happens twice; 01:30 is its first occurrence (+11:00, 14:30Z) and lasts
    # until 15:00Z, which the clock shows as 01:30 +10:30.
    pytest.param(
        "Australia/Lord_Howe",
        date(2026, 4, 5),
        rule(SUN, "01:00", "03:00", 30),
        [
            ("2026-04-05T01:00:00+11:00", "2026-04-05T01:30:00+11:00"),
            ("2026-04-05T01:30:00+11:00", "2026-04-05T01:30:00+10:30"),
            ("2026-04-05T02:00:00+10:30", "2026-04-05T02:30:00+10:30"),
            ("2026-04-05T02:30:00+10:30", "2026-04-05T03:00:00+10:30"),
        ],
        id="lord-howe-fall",
    ),
    # 03:00 and 03:30 are first occurrences (+13:45); 03:30 +13:45 = 13:45Z, + 30 min =
    # 14:15Z = 03:00 +12:45, well before the window end 04:00 +12:45 (15:15Z).
    pytest.param(
        "Pacific/Chatham",
        date(2026, 4, 5),
        rule(SUN, "02:00", "04:00", 30),
        [
            ("2026-04-05T02:00:00+13:45", "2026-04-05T02:30:00+13:45"),
            ("2026-04-05T02:30:00+13:45", "2026-04-05T03:00:00+13:45"),
            ("2026-04-05T03:00:00+13:45", "2026-04-05T03:30:00+13:45"),
            ("2026-04-05T03:30:00+13:45", "2026-04-05T03:00:00+12:45"),
        ],
        id="chatham-fall",
    ),
    # 23:00-24:00 on 2026-04-04 happens twice; 23:00 and 23:30 are first occurrences (-03).
    pytest.param(
        SANTIAGO,
        date(2026, 4, 4),
        rule(SAT, "22:00", "24:00", 30),
        [
            ("2026-04-04T22:00:00-03:00", "2026-04-04T22:30:00-03:00"),
            ("2026-04-04T22:30:00-03:00", "2026-04-04T23:00:00-03:00"),
            ("2026-04-04T23:00:00-03:00", "2026-04-04T23:30:00-03:00"),
            ("2026-04-04T23:30:00-03:00", "2026-04-04T23:00:00-04:00"),
        ],
        id="santiago-fall",
    ),
    # No local midnight: 00:00 and 00:30 do not exist; the day starts at 01:00 -03 (04:00Z).
    pytest.param(
        SANTIAGO,
        SANTIAGO_SPRING,
        rule(SUN, "00:00", "02:00", 30),
        [
            ("2026-09-06T01:00:00-03:00", "2026-09-06T01:30:00-03:00"),
            ("2026-09-06T01:30:00-03:00", "2026-09-06T02:00:00-03:00"),
        ],
        id="santiago-spring-from-midnight",
    ),
    pytest.param(
        SANTIAGO,
        SANTIAGO_SPRING,
        rule(SUN, "01:00", "03:00", 60),
        [
            ("2026-09-06T01:00:00-03:00", "2026-09-06T02:00:00-03:00"),
            ("2026-09-06T02:00:00-03:00", "2026-09-06T03:00:00-03:00"),
        ],
        id="santiago-spring-from-one",
    ),
    # Havana: the same, 00:00 CST -> 01:00 CDT.
    pytest.param(
        HAVANA,
        HAVANA_SPRING,
        rule(SUN, "00:00", "02:00", 30),
        [
            ("2026-03-08T01:00:00-04:00", "2026-03-08T01:30:00-04:00"),
            ("2026-03-08T01:30:00-04:00", "2026-03-08T02:00:00-04:00"),
        ],
        id="havana-spring-from-midnight",
    ),
    pytest.param(
        HAVANA,
        HAVANA_SPRING,
        rule(SUN, "01:00", "03:00", 60),
        [
            ("2026-03-08T01:00:00-04:00", "2026-03-08T02:00:00-04:00"),
            ("2026-03-08T02:00:00-04:00", "2026-03-08T03:00:00-04:00"),
        ],
        id="havana-spring-from-one",
    ),
]


@pytest.mark.parametrize(("zone", "day", "weekly", "expected"), TRANSITION_DAYS)
def test_transition_day(
    zone: str, day: date, weekly: Rule, expected: list[tuple[str, str]]
) -> None:
    assert slots(zone, day, [weekly]) == expected


# --- America/New_York: the repeated hour, real durations, bounds inside the gap -----------


def test_new_york_fall_back_ambiguous_time_is_its_first_occurrence() -> None:
    # 01:00 and 01:30 are taken in EDT (their first occurrence); the repeated hour in EST is
    # not on the wall-clock grid again. 01:30 EDT + 30 min = 06:00Z = 01:00 EST.
    result = run(NY, NY_FALL, [rule(SUN, "01:00", "04:00", 30)])
    assert local(NY, result) == [
        ("2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00"),
        ("2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00"),
        ("2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"),
        ("2026-11-01T02:30:00-05:00", "2026-11-01T03:00:00-05:00"),
        ("2026-11-01T03:00:00-05:00", "2026-11-01T03:30:00-05:00"),
        ("2026-11-01T03:30:00-05:00", "2026-11-01T04:00:00-05:00"),
    ]
    assert result.slots[1].start == utc("2026-11-01T05:30:00+00:00")


def test_durations_are_real_elapsed_minutes_across_the_jump() -> None:
    # 60 real minutes from 01:30 EST (06:30Z) is 07:30Z = 03:30 EDT. 03:30 EDT + 60 min =
    # 04:30 EDT is past the 04:00 window end, so it is not a candidate.
    result = run(NY, NY_SPRING, [rule(SUN, "01:00", "04:00", 30)], duration=60)
    assert local(NY, result) == [
        ("2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"),
        ("2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"),
        ("2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"),
    ]
    assert all(s.end - s.start == 3600 for s in result.slots)


# A window or block bound that falls in the gap is the jump: the instant the clock passes
# it. (The engine used to map such a time one gap-length past the jump, under the old
# offset: a block "02:30-04:00" then began at 03:30 EDT and left 03:00 EDT bookable.)


def test_a_block_starting_inside_the_gap_starts_at_the_jump() -> None:
    # "Block 02:30-04:00" on the spring day: the clock passes 02:30 at the jump (03:00 EDT),
    # so 03:00 and 03:30 EDT are blocked. 01:30 EST ends at 03:00 EDT: touching, kept.
    block = Override(NY_SPRING, "block", hm("02:30"), hm("04:00"))
    assert slots(NY, NY_SPRING, [rule(SUN, "01:00", "04:00", 30)], [block]) == [
        ("2026-03-08T01:00:00-05:00", "2026-03-08T01:30:00-05:00"),
        ("2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"),
    ]


def test_a_block_wholly_inside_the_gap_blocks_nothing() -> None:
    # 02:00-02:30 never shows on the clock: both bounds are the jump, an empty block.
    block = Override(NY_SPRING, "block", hm("02:00"), hm("02:30"))
    assert len(slots(NY, NY_SPRING, [rule(SUN, "01:00", "04:00", 30)], [block])) == 4


def test_a_window_ending_inside_the_gap_ends_at_the_jump() -> None:
    # Rule 01:00-02:30 ends when the clock passes 02:30, at 03:00 EDT (07:00Z): 60 real
    # minutes of work. A 60-minute appointment fits only at 01:00 EST.
    assert slots(NY, NY_SPRING, [rule(SUN, "01:00", "02:30", 30)], duration=60) == [
        ("2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"),
    ]


# --- Pacific/Chatham (45-minute grid over the gap), Asia/Kathmandu -------------------------


def test_chatham_spring_forward() -> None:
    # Grid 02:00, 02:45, 03:30, 04:15 (45 min); 02:45 and 03:30 lie in the 02:45-03:45 gap.
    # 02:00 +12:45 is 13:15Z; + 45 min = 14:00Z = 03:45 +13:45. 04:15 +13:45 = 14:30Z.
    result = run("Pacific/Chatham", date(2026, 9, 27), [rule(SUN, "02:00", "05:00", 45)])
    assert local("Pacific/Chatham", result) == [
        ("2026-09-27T02:00:00+12:45", "2026-09-27T03:45:00+13:45"),
        ("2026-09-27T04:15:00+13:45", "2026-09-27T05:00:00+13:45"),
    ]
    assert [s.start for s in result.slots] == [
        utc("2026-09-26T13:15:00+00:00"),
        utc("2026-09-26T14:30:00+00:00"),
    ]


def test_kathmandu_offset_is_five_forty_five_all_year() -> None:
    # 09:00 +05:45 is 03:15Z in March and in July alike.
    for day in (date(2026, 3, 9), date(2026, 7, 6)):
        result = run("Asia/Kathmandu", day, [rule(MON, "09:00", "10:00", 30)])
        iso = day.isoformat()
        assert local("Asia/Kathmandu", result) == [
            (f"{iso}T09:00:00+05:45", f"{iso}T09:30:00+05:45"),
            (f"{iso}T09:30:00+05:45", f"{iso}T10:00:00+05:45"),
        ]
        assert result.slots[0].start == utc(f"{iso}T03:15:00+00:00")


# --- days without a local midnight: America/Santiago, America/Havana -------------------------


def test_santiago_whole_day_block_and_the_evening_before() -> None:
    # Saturday 22:00-24:00 ends at the jump (04:00Z); its last slot, 23:30 -04, ends there and
    # only touches Sunday's whole-day block, which removes all of Sunday.
    rules = [rule(SAT, "22:00", "24:00", 30), rule(SUN, "00:00", "24:00", 60)]
    block = Override(SANTIAGO_SPRING, "block")
    assert slots(SANTIAGO, date(2026, 9, 5), rules, [block], days=2) == [
        ("2026-09-05T22:00:00-04:00", "2026-09-05T22:30:00-04:00"),
        ("2026-09-05T22:30:00-04:00", "2026-09-05T23:00:00-04:00"),
        ("2026-09-05T23:00:00-04:00", "2026-09-05T23:30:00-04:00"),
        ("2026-09-05T23:30:00-04:00", "2026-09-06T01:00:00-03:00"),
    ]
    extend = Override(SANTIAGO_SPRING, "extend", hm("18:00"), hm("20:00"), 60)
    assert slots(SANTIAGO, SANTIAGO_SPRING, rules[1:], [block, extend]) == [
        ("2026-09-06T18:00:00-03:00", "2026-09-06T19:00:00-03:00"),
        ("2026-09-06T19:00:00-03:00", "2026-09-06T20:00:00-03:00"),
    ]


def test_havana_whole_day_block_then_extend() -> None:
    # The whole day is blocked from its first instant (the jump, 05:00Z); the extend
    # re-opens 18:00-20:00 -04 on the default 30-minute grid.
    rules = [rule(SUN, "00:00", "24:00", 30)]
    block = Override(HAVANA_SPRING, "block")
    assert slots(HAVANA, HAVANA_SPRING, rules, [block]) == []
    extend = Override(HAVANA_SPRING, "extend", hm("18:00"), hm("20:00"))  # default length 30
    assert [start[11:16] for start, _ in slots(HAVANA, HAVANA_SPRING, rules, [block, extend])] == [
        "18:00",
        "18:30",
        "19:00",
        "19:30",
    ]


def test_santiago_through_the_cli(cli: Run) -> None:
    """The same day end to end: the service's day bounds for a day without midnight."""
    now = "2026-09-01T00:00:00Z"
    assert cli("provider", "add", "Dra Paz", "--timezone", SANTIAGO, "--json").exit_code == 0
    assert cli("availability", "set", "1", "--rule", "sun 00:00-02:00/30").exit_code == 0

    def starts() -> list[str]:
        got = cli("slots", "1", "--from", "2026-09-06", "--to", "2026-09-06", "--json", now=now)
        assert got.exit_code == 0, got.stderr
        return [s["local_start"] for s in got.json]

    assert starts() == ["2026-09-06T01:00:00-03:00", "2026-09-06T01:30:00-03:00"]
    assert cli("override", "add", "1", "--date", "2026-09-06", "--block").exit_code == 0
    assert starts() == []
    extend = ("--extend", "--start", "18:00", "--end", "20:00", "--slot-duration", "60")
    assert cli("override", "add", "1", "--date", "2026-09-06", *extend).exit_code == 0
    assert starts() == ["2026-09-06T18:00:00-03:00", "2026-09-06T19:00:00-03:00"]


# --- ordinary days: blocks and extends, durations, buffers, busy, horizon --------------------

DEC1 = date(2026, 12, 1)  # a Tuesday, EST (-05:00)


def test_block_whole_day_then_extend_evening() -> None:
    rules = [rule(TUE, "09:00", "17:00", 30)]
    block = Override(DEC1, "block")
    extend = Override(DEC1, "extend", hm("18:00"), hm("20:00"), 60)  # its own slot length
    assert slots(NY, DEC1, rules, [block, extend]) == [
        ("2026-12-01T18:00:00-05:00", "2026-12-01T19:00:00-05:00"),
        ("2026-12-01T19:00:00-05:00", "2026-12-01T20:00:00-05:00"),
    ]
    # Without its own length the extend uses the provider's default (45 here): 18:00, 18:45;
    # 19:30 + 45 = 20:15 is past the end.
    extend = Override(DEC1, "extend", hm("18:00"), hm("20:00"))
    settings = Settings(max_advance_days=400, default_slot_minutes=45)
    assert slots(NY, DEC1, rules, [block, extend], settings=settings) == [
        ("2026-12-01T18:00:00-05:00", "2026-12-01T18:45:00-05:00"),
        ("2026-12-01T18:45:00-05:00", "2026-12-01T19:30:00-05:00"),
    ]


def test_partial_block_removes_overlapping_candidates_only() -> None:
    # Block 10:15-11:00 overlaps 10:00-10:30 and 10:30-11:00; 11:00 touches it and stays.
    block = Override(DEC1, "block", hm("10:15"), hm("11:00"))
    result = run(NY, DEC1, [rule(TUE, "09:30", "11:30", 30)], [block], explain=True)
    assert [s[0][11:16] for s in local(NY, result)] == ["09:30", "11:00"]
    assert [(d.start, d.reason) for d in result.dropped] == [
        (utc("2026-12-01T10:00:00-05:00"), "blocked"),
        (utc("2026-12-01T10:30:00-05:00"), "blocked"),
    ]


def test_duration_longer_than_the_slot_length() -> None:
    # The grid stays at 30 minutes; each candidate lasts 60 and must end by 11:00.
    assert slots(NY, DEC1, [rule(TUE, "09:00", "11:00", 30)], duration=60) == [
        ("2026-12-01T09:00:00-05:00", "2026-12-01T10:00:00-05:00"),
        ("2026-12-01T09:30:00-05:00", "2026-12-01T10:30:00-05:00"),
        ("2026-12-01T10:00:00-05:00", "2026-12-01T11:00:00-05:00"),
    ]


def test_buffer_spaces_the_grid() -> None:
    # Starts at 09:00 + k * (30 + 15): 09:00, 09:45, 10:30 (ends 11:00, fits).
    settings = Settings(buffer_minutes=15, max_advance_days=400)
    assert slots(NY, DEC1, [rule(TUE, "09:00", "11:00", 30)], settings=settings) == [
        ("2026-12-01T09:00:00-05:00", "2026-12-01T09:30:00-05:00"),
        ("2026-12-01T09:45:00-05:00", "2026-12-01T10:15:00-05:00"),
        ("2026-12-01T10:30:00-05:00", "2026-12-01T11:00:00-05:00"),
    ]


def test_busy_widened_by_the_buffer_says_busy_or_buffer() -> None:
    # Appointment 10:00-10:30 with a 15 min buffer occupies 09:45-10:45. Grid 09:00, 09:45,
    # 10:30, 11:15: 09:45-10:15 overlaps the appointment itself (busy), 10:30-11:00 only
    # its buffer (buffer); 09:00-09:30 and 11:15-11:45 are free.
    settings = Settings(buffer_minutes=15, max_advance_days=400)
    appointment = (utc("2026-12-01T10:00:00-05:00"), utc("2026-12-01T10:30:00-05:00"))
    rules = [rule(TUE, "09:00", "12:00", 30)]
    args = (NY, DEC1, rules)
    explained = run(*args, busy=[appointment], settings=settings, explain=True)
    assert explained.slots == run(*args, busy=[appointment], settings=settings).slots
    assert [s[0][11:16] for s in local(NY, explained)] == ["09:00", "11:15"]
    assert [(d.start, d.end, d.reason) for d in explained.dropped] == [
        (utc("2026-12-01T09:45:00-05:00"), utc("2026-12-01T10:15:00-05:00"), "busy"),
        (utc("2026-12-01T10:30:00-05:00"), utc("2026-12-01T11:00:00-05:00"), "buffer"),
    ]


def test_touching_an_appointment_is_not_overlapping() -> None:
    appointment = (utc("2026-12-01T09:30:00-05:00"), utc("2026-12-01T10:00:00-05:00"))
    got = slots(NY, DEC1, [rule(TUE, "09:00", "11:00", 30)], busy=[appointment])
    assert [start[11:16] for start, _ in got] == ["09:00", "10:00", "10:30"]


def test_candidate_must_end_by_the_window_end() -> None:
    # 10:00 + 30 = 10:30 > 10:10: not a candidate. With 70 minutes only 09:00-10:10 fits.
    rules = [rule(TUE, "09:00", "10:10", 30)]
    assert [s for s, _ in slots(NY, DEC1, rules)] == [
        "2026-12-01T09:00:00-05:00",
        "2026-12-01T09:30:00-05:00",
    ]
    assert slots(NY, DEC1, rules, duration=70) == [
        ("2026-12-01T09:00:00-05:00", "2026-12-01T10:10:00-05:00"),
    ]


def test_notice_and_horizon_reasons() -> None:
    # now = 09:10 EST on Tue 1 Dec, 60 min notice: the earliest start is 10:10, so 09:00,
    # 09:30 and 10:00 fail on notice. Max advance 1 day: Thu 3 Dec is past the horizon.
    now = utc("2026-12-01T09:10:00-05:00")
    settings = Settings(min_notice_minutes=60, max_advance_days=1)
    rules = [rule(day, "09:00", "11:00", 30) for day in (TUE, 2, 3)]
    result = run(NY, DEC1, rules, settings=settings, now=now, days=3, explain=True)
    assert [s[0] for s in local(NY, result)] == [
        "2026-12-01T10:30:00-05:00",
        "2026-12-02T09:00:00-05:00",
        "2026-12-02T09:30:00-05:00",
        "2026-12-02T10:00:00-05:00",
        "2026-12-02T10:30:00-05:00",
    ]
    tz = ZoneInfo(NY)
    reasons = [
        (datetime.fromtimestamp(d.start, tz).strftime("%d %H:%M"), d.reason) for d in result.dropped
    ]
    assert reasons == [
        ("01 09:00", "notice"),
        ("01 09:30", "notice"),
        ("01 10:00", "notice"),
        ("03 09:00", "horizon"),
        ("03 09:30", "horizon"),
        ("03 10:00", "horizon"),
        ("03 10:30", "horizon"),
    ]


def test_effective_range_is_inclusive() -> None:
    # A Tuesday rule effective 1-8 Dec: Tuesdays 24 Nov, 1, 8 and 15 Dec are in the window;
    # only 1 and 8 Dec get slots.
    limited = rule(TUE, "09:00", "09:30", 30, since=DEC1, until=date(2026, 12, 8))
    got = slots(NY, DEC1 - timedelta(days=7), [limited], days=22)
    assert [s for s, _ in got] == ["2026-12-01T09:00:00-05:00", "2026-12-08T09:00:00-05:00"]
