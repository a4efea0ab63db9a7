"""Property tests of the slot engine (SPEC section 3) against an independent oracle.

The oracle knows nothing of the engine's helpers. It walks the provider's wall clock one
minute at a time (UTC -> local is never ambiguous, so `datetime.fromtimestamp` is ground
truth) and answers two questions:

- where does local wall time (D, m) first occur?  (a time in a spring-forward gap never
  occurs; an ambiguous one first occurs at its first occurrence)
- when does the clock first read (D, m) or later?  (the bound of a window or block: the
  time itself, or the jump for a time inside a gap)

From those it both checks each slot the engine returns (a witness window, grid, busy,
horizon) and rebuilds the whole expected answer, which must equal the engine's.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookctl.domain import Override, Rule
from bookctl.slots import Expansion, Settings, expand

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/Santiago",
    "America/Havana",
    "UTC",
    "Europe/Berlin",
    "Europe/Dublin",  # negative DST in tzdata
    "America/St_Johns",  # -03:30 / -02:30
    "Australia/Sydney",
    "Asia/Kolkata",
    "Antarctica/Troll",  # a two-hour jump
    "America/Los_Angeles",
)
YEAR = 2026
DAY = 86400
MARGIN_DAYS = 4  # the oracle's clock covers UTC days base - MARGIN_DAYS .. base + MARGIN_DAYS + 4
REASONS = {"blocked", "busy", "buffer", "notice", "horizon"}


def utc_midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@cache
def transitions(name: str) -> dict[date, tuple[int, ...]]:
    """Local dates in YEAR on which the zone's UTC offset changes -> wall-clock minutes around
    each change (where the clock stood just before it, where it jumped to, and near those)."""
    tz = ZoneInfo(name)
    out: dict[date, tuple[int, ...]] = {}
    t = utc_midnight(date(YEAR, 1, 1))
    for _ in range(366 * 24):
        before, after = datetime.fromtimestamp(t, tz), datetime.fromtimestamp(t + 3600, tz)
        if before.utcoffset() != after.utcoffset():
            while datetime.fromtimestamp(t + 60, tz).utcoffset() == before.utcoffset():
                t += 60  # t is now the last minute before the change
            old, new = datetime.fromtimestamp(t + 60 - 1, tz), datetime.fromtimestamp(t + 60, tz)
            walls = {(old.hour * 60 + old.minute + 1) % 1440, new.hour * 60 + new.minute}
            near = {(w + d) % 1440 for w in walls for d in (-60, -30, -15, 0, 15, 30, 45)}
            out[new.date()] = tuple(sorted(near))
        t += 3600
    return out


class Clock:
    """The wall clock of one zone, one reading per UTC minute, over a range of days."""

    def __init__(self, name: str, base: date) -> None:
        self.tz = ZoneInfo(name)
        self.t0 = utc_midnight(base - timedelta(days=MARGIN_DAYS))
        minutes = (2 * MARGIN_DAYS + 4) * 1440
        self.walls: list[int] = []  # local date ordinal * 1440 + minute of day, per UTC minute
        for i in range(minutes):
            local = datetime.fromtimestamp(self.t0 + 60 * i, self.tz)
            self.walls.append(local.toordinal() * 1440 + local.hour * 60 + local.minute)
        self.reached = list(accumulate(self.walls, max))  # highest wall read so far

    def _index(self, day: date, minute: int) -> tuple[int, int]:
        wall = day.toordinal() * 1440 + minute  # minute may be 1440: next day's 00:00
        i = bisect_left(self.reached, wall)
        assert 0 < i < len(self.walls), "query outside the oracle's clock"
        return i, wall

    def first_occurrence(self, day: date, minute: int) -> int | None:
        """The first instant at which the clock reads exactly (day, minute), if ever."""
        i, wall = self._index(day, minute)
        return self.t0 + 60 * i if self.walls[i] == wall else None

    def bound(self, day: date, minute: int) -> int:
        """The first instant at which the clock reads (day, minute) or later."""
        return self.t0 + 60 * self._index(day, minute)[0]

    def local(self, instant: int) -> tuple[date, int]:
        """Local date and minute of day of a minute-aligned instant."""
        assert (instant - self.t0) % 60 == 0
        wall = self.walls[(instant - self.t0) // 60]
        return date.fromordinal(wall // 1440), wall % 1440


@lru_cache(maxsize=64)
def clock(name: str, base: date) -> Clock:
    return Clock(name, base)


@dataclass(frozen=True)
class Scenario:
    zone: str
    base: date
    rules: tuple[Rule, ...]
    overrides: tuple[Override, ...]
    busy: tuple[tuple[int, int], ...]
    window_start: int
    window_end: int
    now: int
    settings: Settings
    duration: int | None

    def run(self, explain: bool = False) -> Expansion:
        return expand(
            tz=ZoneInfo(self.zone),
            rules=list(self.rules),
            overrides=list(self.overrides),
            busy=list(self.busy),
            window_start=self.window_start,
            window_end=self.window_end,
            now=self.now,
            settings=self.settings,
            duration_minutes=self.duration,
            explain=explain,
        )


# Times of day that sit on or near a transition somewhere (00:00 Santiago/Havana, 01:00 and
# 02:00 London/NY, 01:30/02:00/02:30 Lord Howe, 02:45/03:45 Chatham, 23:00 Santiago fall-back).
EDGE_MINUTES = (0, 30, 60, 90, 120, 135, 150, 165, 180, 225, 1380, 1410)
slot_lengths = st.sampled_from((5, 10, 15, 20, 25, 30, 45, 60, 90, 120))


@cache
def minutes_of_day(hot: tuple[int, ...]) -> st.SearchStrategy[int]:
    """Times of day, often right at the base day's transition (`hot`) or a known edge."""
    if hot:  # a transition day: mostly times at its transition
        return st.one_of(st.sampled_from(hot), st.sampled_from(hot), st.integers(0, 1439))
    return st.one_of(
        st.sampled_from(EDGE_MINUTES),
        st.integers(0, 95).map(lambda q: 15 * q),
        st.integers(0, 1439),
    )


@st.composite
def time_range(draw: st.DrawFn, hot: tuple[int, ...]) -> tuple[int, int]:
    start = draw(minutes_of_day(hot))
    later = [m for m in hot or EDGE_MINUTES if m > start]
    ends = st.integers(start + 1, min(start + 300, 1440)) | st.just(1440)
    return start, draw(st.sampled_from(later) | ends if later else ends)


def near_date(base: date, before: int, after: int) -> st.SearchStrategy[date]:
    return st.integers(-before, after).map(lambda k: base + timedelta(days=k))


@st.composite
def rules_for(draw: st.DrawFn, base: date, hot: tuple[int, ...], focus: bool) -> Rule:
    weekday = draw(
        st.one_of(
            st.just(base.weekday()),
            st.integers(-1, 2).map(lambda k: (base.weekday() + k) % 7),
            st.integers(0, 6),
        )
        if not focus
        else st.just(base.weekday())
    )
    start, end = draw(time_range(hot))
    return Rule(
        day_of_week=weekday,
        start_minute=start,
        end_minute=end,
        slot_duration_minutes=draw(slot_lengths),
        effective_from=draw(st.none() | near_date(base, 3, 2)),
        effective_until=draw(st.none() | near_date(base, 1, 4)),
    )


@st.composite
def overrides_for(draw: st.DrawFn, base: date, hot: tuple[int, ...], focus: bool) -> Override:
    day = base if focus else draw(near_date(base, 1, 2))
    kind = draw(st.sampled_from(("block", "extend")))
    if kind == "block" and draw(st.booleans()):
        return Override(day, "block")  # the whole local day
    start, end = draw(time_range(hot))
    length = draw(st.none() | slot_lengths) if kind == "extend" else None
    return Override(day, kind, start, end, length)


@st.composite
def scenarios(draw: st.DrawFn, focus: bool = False) -> Scenario:
    """A random provider and query; with `focus`, always a transition day of a DST zone, with
    rules on its weekday and times at its transition, and a window covering the whole day."""
    zone = draw(st.sampled_from([z for z in ZONES if transitions(z)] if focus else ZONES))
    changes = transitions(zone)
    year = near_date(date(YEAR, 1, 1), 0, 364)
    on_change = st.sampled_from(sorted(changes))
    base = draw(on_change if focus else on_change | year if changes else year)
    hot = changes.get(base, ())
    # Query window: starts up to half a day before base's local midnight (or a few hours
    # after), lasts up to three days: it nearly always touches base's local early morning.
    midnight = int(datetime(base.year, base.month, base.day, tzinfo=ZoneInfo(zone)).timestamp())
    window_start = midnight + 60 * draw(st.integers(-720, -60 if focus else 240))
    length = st.integers(1440, 3 * 1440) if focus else st.integers(0, 3 * 1440)
    window_end = window_start + 60 * draw(length)
    busy = tuple(
        (start, start + 60 * length)
        for start, length in draw(
            st.lists(
                st.tuples(
                    st.integers(-300, 3 * 1440).map(lambda m: window_start + 60 * m),
                    st.integers(5, 180),
                ),
                max_size=4,
            )
        )
    )
    # `now` is mostly before the window, sometimes inside it, and need not be minute-aligned.
    now = window_start + draw(st.integers(-DAY, 0) | st.integers(0, 0 if focus else 2 * DAY))
    return Scenario(
        zone=zone,
        base=base,
        rules=tuple(draw(st.lists(rules_for(base, hot, focus), min_size=1, max_size=4))),
        overrides=tuple(draw(st.lists(overrides_for(base, hot, focus), max_size=3))),
        busy=busy,
        window_start=window_start,
        window_end=window_end,
        now=now,
        settings=Settings(
            buffer_minutes=draw(st.sampled_from((0, 0, 5, 10, 15, 30, 45))),
            min_notice_minutes=draw(st.sampled_from((0, 0, 0, 30, 120, 1440))),
            max_advance_days=draw(st.sampled_from((0, 1, 2, 3, 60, 60, 60))),
            default_slot_minutes=draw(slot_lengths),
        ),
        duration=draw(st.none() | st.sampled_from((5, 15, 30, 45, 60, 75, 120, 180))),
    )


# --- the oracle --------------------------------------------------------------------------------


def length_seconds(sc: Scenario, slot_minutes: int) -> int:
    return 60 * (sc.duration if sc.duration is not None else slot_minutes)


def rule_applies(rule: Rule, day: date) -> bool:
    return (
        day.weekday() == rule.day_of_week
        and (rule.effective_from is None or rule.effective_from <= day)
        and (rule.effective_until is None or day <= rule.effective_until)
    )


def windows(sc: Scenario, day: date, kind: str) -> list[tuple[int, int, int]]:
    """(start minute, end minute, slot length) of every rule or extend window on `day`."""
    if kind == "rule":
        return [
            (r.start_minute, r.end_minute, r.slot_duration_minutes)
            for r in sc.rules
            if rule_applies(r, day)
        ]
    return [
        (o.start_minute, o.end_minute, o.slot_duration_minutes or sc.settings.default_slot_minutes)
        for o in sc.overrides
        if o.type == "extend" and o.date == day and o.start_minute is not None
        if o.end_minute is not None
    ]


def blocks(sc: Scenario, day: date) -> list[tuple[int, int]]:
    c = clock(sc.zone, sc.base)
    out = []
    for o in sc.overrides:
        if o.type == "block" and o.date == day:
            if o.start_minute is None or o.end_minute is None:
                out.append((c.bound(day, 0), c.bound(day, 1440)))
            else:
                out.append((c.bound(day, o.start_minute), c.bound(day, o.end_minute)))
    return out


def overlaps(s: int, e: int, intervals: list[tuple[int, int]]) -> bool:
    return any(s < ie and i_s < e for i_s, ie in intervals)


def widened(sc: Scenario) -> list[tuple[int, int]]:
    b = 60 * sc.settings.buffer_minutes
    return [(s - b, e + b) for s, e in sc.busy]


def in_window(sc: Scenario, start: int, end: int, window: tuple[int, int, int]) -> bool:
    """Is [start, end) a candidate of `window` (checked, not generated)?"""
    c = clock(sc.zone, sc.base)
    day, minute = c.local(start)
    first, last, slot_minutes = window
    step = slot_minutes + sc.settings.buffer_minutes
    return (
        first <= minute < last
        and (minute - first) % step == 0  # on the wall-clock grid
        and c.first_occurrence(day, minute) == start  # first occurrence of that wall time
        and end - start == length_seconds(sc, slot_minutes)  # real elapsed minutes
        and end <= c.bound(day, last)  # ends by the window's end
    )


def candidate_kind(sc: Scenario, start: int, end: int) -> str | None:
    """'extend', 'rule' (unblocked), 'blocked', or None when no window has this candidate."""
    day = clock(sc.zone, sc.base).local(start)[0]
    if any(in_window(sc, start, end, w) for w in windows(sc, day, "extend")):
        return "extend"
    if any(in_window(sc, start, end, w) for w in windows(sc, day, "rule")):
        return "blocked" if overlaps(start, end, blocks(sc, day)) else "rule"
    return None


def today_limit(sc: Scenario) -> date:
    today = datetime.fromtimestamp(sc.now, ZoneInfo(sc.zone)).date()
    return today + timedelta(days=sc.settings.max_advance_days)


def expected_candidates(sc: Scenario) -> dict[tuple[int, int], str | None]:
    """Every candidate starting in the query window -> None (offered) or why it is not."""
    c = clock(sc.zone, sc.base)
    out: dict[tuple[int, int], str | None] = {}
    if sc.window_end <= sc.window_start:
        return out
    day = c.local(sc.window_start - sc.window_start % 60)[0] - timedelta(days=1)
    while day <= c.local(sc.window_end - sc.window_end % 60)[0] + timedelta(days=1):
        for kind in ("rule", "extend"):
            for first, last, slot_minutes in windows(sc, day, kind):
                for minute in range(first, last, slot_minutes + sc.settings.buffer_minutes):
                    start = c.first_occurrence(day, minute)
                    if start is None or not sc.window_start <= start < sc.window_end:
                        continue
                    end = start + length_seconds(sc, slot_minutes)
                    if end > c.bound(day, last):
                        continue
                    blocked = kind == "rule" and overlaps(start, end, blocks(sc, day))
                    if blocked and (start, end) in out:
                        continue  # an unblocked twin (another window) already offers it
                    out[(start, end)] = "blocked" if blocked else None
        day += timedelta(days=1)
    for (start, end), reason in out.items():
        if reason is not None:
            continue
        if overlaps(start, end, list(sc.busy)):
            reason = "busy"
        elif overlaps(start, end, widened(sc)):
            reason = "buffer"
        elif start < sc.now + 60 * sc.settings.min_notice_minutes:
            reason = "notice"
        elif c.local(start)[0] > today_limit(sc):
            reason = "horizon"
        out[(start, end)] = reason
    return out


# --- the properties ----------------------------------------------------------------------------

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(scenarios())
def test_every_slot_is_sound(sc: Scenario) -> None:
    slots = sc.run().slots
    c = clock(sc.zone, sc.base)
    earliest = sc.now + 60 * sc.settings.min_notice_minutes
    for slot in slots:
        day = c.local(slot.start)[0]
        assert slot.local_day == day
        # Inside a rule window that applies on that day (unblocked) or an extend window.
        assert candidate_kind(sc, slot.start, slot.end) in ("rule", "extend"), slot
        # Never overlapping a busy interval widened by the buffer (touching is fine).
        assert not overlaps(slot.start, slot.end, widened(sc)), slot
        # Horizon: notice, and at most max_advance_days after today's local date.
        assert slot.start >= earliest
        assert day <= today_limit(sc)
        # Query window.
        assert sc.window_start <= slot.start < sc.window_end
    keys = [(s.start, s.end) for s in slots]
    assert keys == sorted(set(keys)), "sorted and unique"


def assert_oracle_agrees(sc: Scenario) -> None:
    expected = expected_candidates(sc)
    offered = sorted(k for k, reason in expected.items() if reason is None)
    assert [(s.start, s.end) for s in sc.run().slots] == offered


@FAST
@given(scenarios())
def test_slots_equal_the_oracle(sc: Scenario) -> None:
    assert_oracle_agrees(sc)


@FAST
@given(scenarios(focus=True))
def test_transition_days_equal_the_oracle(sc: Scenario) -> None:
    """Gaps and repeated hours: rules, blocks and extends starting or ending inside them."""
    assert_oracle_agrees(sc)


@FAST
@given(scenarios())
def test_explain_keeps_the_slots_and_gives_true_reasons(sc: Scenario) -> None:
    plain, explained = sc.run(), sc.run(explain=True)
    assert explained.slots == plain.slots
    c = clock(sc.zone, sc.base)
    offered = {(s.start, s.end) for s in plain.slots}
    seen: set[tuple[int, int]] = set()
    for d in explained.dropped:
        key = (d.start, d.end)
        assert key not in offered and key not in seen, d
        seen.add(key)
        assert d.reason in REASONS, d
        assert sc.window_start <= d.start < sc.window_end, d
        kind = candidate_kind(sc, d.start, d.end)
        if d.reason == "blocked":
            assert kind == "blocked", d
            continue
        assert kind in ("rule", "extend"), d  # a real, unblocked candidate
        if d.reason == "busy":
            assert overlaps(d.start, d.end, list(sc.busy)), d
        elif d.reason == "buffer":
            assert overlaps(d.start, d.end, widened(sc)), d
            assert not overlaps(d.start, d.end, list(sc.busy)), d
        elif d.reason == "notice":
            assert d.start < sc.now + 60 * sc.settings.min_notice_minutes, d
        else:
            assert c.local(d.start)[0] > today_limit(sc), d
    # Every candidate in the window is either offered or explained.
    assert seen | offered == set(expected_candidates(sc))
