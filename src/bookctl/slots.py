"""PURE slot engine: SPEC section 3, and nothing else. No SQLite, no Typer, no clock.

Every rule of what is offered lives here: rule windows with effective ranges, the grid of
`slot + buffer` walked in local wall-clock time, blocks then extends, busy intervals widened
by the buffer, the min-notice / max-advance horizon and the DST policy. With `explain=True`
the engine also returns every candidate it dropped and why, which `slots --explain` shows and
`book` uses to say precisely why a time was refused.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bookctl.domain import Override, Rule
from bookctl.timeutil import LocalDay, local_date

# Reasons a candidate is dropped, in the order they are tested.
BLOCKED, BUSY, BUFFER, NOTICE, HORIZON = "blocked", "busy", "buffer", "notice", "horizon"


class Slot(NamedTuple):
    """A free slot. A NamedTuple rather than a frozen dataclass: a query builds hundreds and
    tuple construction is several times cheaper; it sorts by start, then end."""

    start: int  # epoch seconds, UTC
    end: int
    local_day: date


@dataclass(frozen=True, slots=True)
class Dropped:
    start: int
    end: int
    reason: str
    detail: str


def _why(
    reason: str | None,
    start: int,
    end: int,
    occupied: _Busy,
    now: int,
    earliest: int,
    settings: Settings,
) -> tuple[str, str]:
    """The first reason a candidate was dropped, in the order blocked, busy, buffer, notice,
    horizon (only called for candidates that were dropped)."""
    if reason is not None:
        return reason, "inside a block override"
    if occupied.overlaps(start, end, raw=True):
        return BUSY, "overlaps an appointment"
    if occupied.overlaps(start, end):
        return BUFFER, f"within {settings.buffer_minutes} min buffer of an appointment"
    if start < earliest:
        if start < now:
            return NOTICE, "starts in the past"
        return NOTICE, f"less than {settings.min_notice_minutes} min notice"
    return HORIZON, f"more than {settings.max_advance_days} days ahead"


@dataclass(frozen=True, slots=True)
class Settings:
    """The provider fields the engine reads."""

    buffer_minutes: int = 0
    min_notice_minutes: int = 0
    max_advance_days: int = 60
    default_slot_minutes: int = 30


@dataclass(slots=True)
class Expansion:
    slots: list[Slot]
    dropped: list[Dropped]


class _Busy:
    """Busy intervals answering "does [s, e) overlap any of them (widened by the buffer)?"
    in O(log n): starts sorted, with the running maximum of the ends."""

    def __init__(self, intervals: Iterable[tuple[int, int]], widen: int) -> None:
        ordered = sorted(intervals)
        self.starts = [s for s, _ in ordered]
        self.max_end = list(accumulate((e for _, e in ordered), max))
        self.widen = widen

    def overlaps(self, start: int, end: int, raw: bool = False) -> bool:
        w = 0 if raw else self.widen
        i = bisect_left(self.starts, end + w)  # intervals whose widened start is before `end`
        return i > 0 and self.max_end[i - 1] + w > start


def _grid(
    day: LocalDay,
    start_minute: int,
    end_minute: int,
    slot_minutes: int,
    buffer_minutes: int,
    duration_minutes: int | None,
) -> Iterable[tuple[int, int]]:
    """Candidates of one window: starts at start + k*(L + b) in wall-clock time; a start that
    does not exist locally is skipped; length is real elapsed minutes; must end by the
    window's end (an instant)."""
    window_end = day.lenient(end_minute)
    length = 60 * (duration_minutes if duration_minutes is not None else slot_minutes)
    step = slot_minutes + buffer_minutes
    for start in day.grid(start_minute, end_minute, step):
        if start + length <= window_end:
            yield start, start + length


def _interval(day: LocalDay, ov: Override) -> tuple[int, int]:
    if ov.start_minute is None or ov.end_minute is None:
        return day.start, day.end
    return day.lenient(ov.start_minute), day.lenient(ov.end_minute)


def expand(
    *,
    tz: ZoneInfo,
    rules: Sequence[Rule],
    overrides: Sequence[Override],
    busy: Iterable[tuple[int, int]],
    window_start: int,
    window_end: int,
    now: int,
    settings: Settings,
    duration_minutes: int | None = None,
    explain: bool = False,
) -> Expansion:
    """Free slots whose start lies in [window_start, window_end), sorted and unique.

    `busy` holds the [start, end) of every pending or confirmed appointment that may matter;
    `now` is the caller's clock. With `explain`, `dropped` lists each candidate inside the
    window that was removed, with the first reason that applies.
    """
    slots: list[Slot] = []
    dropped: list[Dropped] = []
    if window_end <= window_start:
        return Expansion(slots, dropped)
    b = settings.buffer_minutes
    occupied = _Busy(busy, b * 60)
    earliest = now + settings.min_notice_minutes * 60
    last_day = local_date(now, tz) + timedelta(days=settings.max_advance_days)
    by_day: dict[date, list[Override]] = {}
    for ov in overrides:
        by_day.setdefault(ov.date, []).append(ov)

    day = local_date(window_start, tz)
    final = local_date(window_end - 1, tz)
    while day <= final:
        if not explain and day > last_day:
            break  # nothing from here on can be offered: skip the work
        clock = LocalDay(day, tz)
        if not explain and clock.end <= earliest:
            day += timedelta(days=1)
            continue
        todays = by_day.get(day, ())
        blocks = [_interval(clock, ov) for ov in todays if ov.type == "block"]
        candidates: dict[tuple[int, int], str | None] = {}
        for rule in rules:
            if not rule.applies_on(day):
                continue
            for cand in _grid(
                clock,
                rule.start_minute,
                rule.end_minute,
                rule.slot_duration_minutes,
                b,
                duration_minutes,
            ):
                hit = blocks and any(cand[0] < be and bs < cand[1] for bs, be in blocks)
                if not hit:
                    candidates[cand] = None
                elif cand not in candidates:
                    candidates[cand] = BLOCKED
        for ov in todays:
            if ov.type != "extend" or ov.start_minute is None or ov.end_minute is None:
                continue
            slot_minutes = ov.slot_duration_minutes or settings.default_slot_minutes
            for cand in _grid(
                clock, ov.start_minute, ov.end_minute, slot_minutes, b, duration_minutes
            ):
                candidates[cand] = None  # extends come after blocks: they re-open time
        for (start, end), reason in sorted(candidates.items()):
            if not window_start <= start < window_end:
                continue
            if (
                reason is None
                and start >= earliest
                and day <= last_day
                and not occupied.overlaps(start, end)
            ):
                slots.append(Slot(start, end, day))
            elif explain:
                why, detail = _why(reason, start, end, occupied, now, earliest, settings)
                dropped.append(Dropped(start, end, why, detail))
        day += timedelta(days=1)
    slots.sort()
    return Expansion(slots, dropped)
