"""The invitation's VTIMEZONE comes from a per-zone cache: the bytes must be those that
icalendar's own Calendar.add_missing_timezones gives, zone by zone."""

from __future__ import annotations

from datetime import datetime

import pytest
from icalendar import Calendar

from bookctl.domain import Appointment, Client, Provider
from bookctl.notify import ics
from bookctl.timeutil import zone


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata", "America/Santiago", "UTC"])
@pytest.mark.parametrize("cancel", [False, True])
def test_cached_timezones_give_the_calendar_add_missing_timezones_gives(
    tz: str, cancel: bool
) -> None:
    a = Appointment(7, "ABCD-EFGH-JKMNP", 1, 1, 1796220000, 1796221800, "confirmed", 0, 0, 1)
    args = (a, Provider(1, "Dr Ann", tz, email="ann@x.example"), Client(1, "Bob", "bob@x.example"))
    options = {"organizer": "ann@x.example", "description": "Hi", "cancel": cancel, "now": 1}
    reference = ics.invitation(*args, **options, cached_zones=False)  # type: ignore[arg-type]
    for _ in range(2):  # built, then from the cache
        got = ics.invitation(*args, **options)  # type: ignore[arg-type]
        assert got == reference
    cal = Calendar.from_ical(got)
    assert cal.walk("VEVENT")[0].decoded("DTSTART") == datetime.fromtimestamp(a.start_at, zone(tz))
    assert got.count(b"BEGIN:VTIMEZONE") == (0 if tz == "UTC" else 1)
