"""Parsers for the input mini-languages: the `--rule` spec and the rules JSON file."""

from __future__ import annotations

import json
import re
from typing import Any

from bookctl.domain import Rule
from bookctl.errors import InvalidInput
from bookctl.timeutil import hhmm, parse_date, parse_hhmm

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(r"^\s*(\S+)\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})(?:/(\S+))?\s*$")
MAX_MINUTES = 1440


def _day(name: str, spec: str) -> int:
    key = name.strip().lower()[:3]
    if name.strip().lower() not in (key, _full(key)) or key not in DAY_NAMES:
        raise InvalidInput(f"invalid day {name.strip()!r} in rule {spec!r}: use mon..sun")
    return DAY_NAMES.index(key)


def _full(key: str) -> str:
    return {
        "mon": "monday",
        "tue": "tuesday",
        "wed": "wednesday",
        "thu": "thursday",
        "fri": "friday",
        "sat": "saturday",
        "sun": "sunday",
    }.get(key, key)


def parse_days(text: str, spec: str) -> list[int]:
    """`mon-fri`, `mon,wed,fri`, `sat`, `fri-mon` (wraps) -> weekday numbers (0 = Monday)."""
    days: list[int] = []
    for part in text.split(","):
        if not part.strip():
            raise InvalidInput(f"invalid days {text!r} in rule {spec!r}: empty day")
        first, dash, last = part.partition("-")
        if dash:
            a, b = _day(first, spec), _day(last, spec)
            span = [(a + i) % 7 for i in range(((b - a) % 7) + 1)]
        else:
            span = [_day(first, spec)]
        days.extend(d for d in span if d not in days)
    return sorted(days)


def positive_minutes(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise InvalidInput(f"invalid {what} {value!r}: expected whole minutes") from None
    if not 0 < value <= MAX_MINUTES:
        raise InvalidInput(f"invalid {what} {value}: must be between 1 and {MAX_MINUTES} minutes")
    return int(value)


def check_window(start: int, end: int, what: str) -> None:
    if end <= start:
        raise InvalidInput(f"invalid {what}: end {hhmm(end)} must be after start {hhmm(start)}")


def parse_rule(spec: str, default_slot: int) -> list[Rule]:
    """`mon-fri 09:00-17:00/45` -> one Rule per day."""
    m = _RULE.match(spec)
    if not m:
        raise InvalidInput(
            f"invalid rule {spec!r}: expected DAYS HH:MM-HH:MM[/MINUTES],"
            " e.g. 'mon-fri 09:00-17:00/30'"
        )
    days = parse_days(m[1], spec)
    start = parse_hhmm(m[2].zfill(5), "start time")
    end = parse_hhmm(m[3].zfill(5), "end time", allow_24=True)
    check_window(start, end, f"rule {spec!r}")
    slot = positive_minutes(m[4], f"slot length in rule {spec!r}") if m[4] else default_slot
    return [Rule(d, start, end, slot) for d in days]


def parse_rules_json(text: str, default_slot: int) -> list[Rule]:
    """The `--file` format: a JSON array of rule objects (SPEC section 4)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"invalid rules file: not JSON ({exc})") from None
    if not isinstance(data, list):
        raise InvalidInput("invalid rules file: expected a JSON array of rule objects")
    rules: list[Rule] = []
    for i, item in enumerate(data):
        where = f"rules file item {i}"
        if not isinstance(item, dict):
            raise InvalidInput(f"invalid {where}: expected an object")
        unknown = set(item) - {
            "day_of_week",
            "start_time",
            "end_time",
            "slot_duration_minutes",
            "effective_from",
            "effective_until",
            "rule_id",
            "provider_id",
        }
        if unknown:
            raise InvalidInput(f"invalid {where}: unknown field(s) {', '.join(sorted(unknown))}")
        for key in ("day_of_week", "start_time", "end_time"):
            if key not in item:
                raise InvalidInput(f"invalid {where}: missing {key}")
        dow = item["day_of_week"]
        if isinstance(dow, str):
            dow = _day(dow, where)
        if isinstance(dow, bool) or not isinstance(dow, int) or not 0 <= dow <= 6:
            raise InvalidInput(f"invalid {where}: day_of_week {dow!r} must be 0 (Mon)..6 (Sun)")
        if not isinstance(item["start_time"], str) or not isinstance(item["end_time"], str):
            raise InvalidInput(f"invalid {where}: start_time and end_time are 'HH:MM' strings")
        start = parse_hhmm(item["start_time"], f"start_time in {where}")
        end = parse_hhmm(item["end_time"], f"end_time in {where}", allow_24=True)
        check_window(start, end, where)
        slot = item.get("slot_duration_minutes")
        slot = default_slot if slot is None else positive_minutes(slot, f"slot in {where}")
        dates = []
        for key in ("effective_from", "effective_until"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"invalid {where}: {key} is a 'YYYY-MM-DD' string or null")
            dates.append(parse_date(value, f"{key} in {where}") if value else None)
        if dates[0] and dates[1] and dates[1] < dates[0]:
            raise InvalidInput(f"invalid {where}: effective_until is before effective_from")
        rules.append(Rule(dow, start, end, slot, dates[0], dates[1]))
    return rules
