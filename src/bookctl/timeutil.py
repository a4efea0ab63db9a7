"""PURE time helpers: parsing, local <-> UTC, the DST policy. No clock: `now` is always passed in.

Instants are integer epoch seconds (UTC) everywhere inside bookctl; wall-clock times of day
are minutes since local midnight (0..1440, where 1440 means "24:00", the end of the day).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bookctl.errors import InvalidInput, UnknownTimezone

_HHMM = re.compile(r"^(\d{2}):(\d{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MINUTES_PER_DAY = 1440


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or UnknownTimezone (exit 2)."""
    # "localtime" & co. are files in the zone database, not zones: they mean the machine's
    # zone, which is exactly what a provider's stored zone must not depend on.
    if (
        not name
        or name != name.strip()
        or name.startswith(("/", "."))
        or "\\" in name
        or name.lower() in ("localtime", "posixrules", "factory")
    ):
        raise UnknownTimezone(f"unknown time zone {name!r}: use an IANA name like Europe/London")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(
            f"unknown time zone {name!r}: use an IANA name like Europe/London"
        ) from None


def parse_date(text: str, what: str = "date") -> date:
    """A strict YYYY-MM-DD calendar date; 2026-02-30 is refused."""
    m = _DATE.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise InvalidInput(f"invalid {what} {text!r}: expected YYYY-MM-DD")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise InvalidInput(f"invalid {what} {text!r}: {exc}") from None


def parse_hhmm(text: str, what: str = "time", allow_24: bool = False) -> int:
    """A wall-clock HH:MM as minutes since midnight; "24:00" only where allow_24 (an end time)."""
    m = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise InvalidInput(f"invalid {what} {text!r}: expected HH:MM (24-hour clock)")
    hours, minutes = int(m[1]), int(m[2])
    if allow_24 and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise InvalidInput(f"invalid {what} {text!r}: hours 00-23, minutes 00-59")
    return hours * 60 + minutes


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def wall(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The aware local datetime of `minute` after midnight on `day` (fold=0)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute)


def wall_to_epoch(day: date, minute: int, tz: ZoneInfo) -> int:
    """Epoch of a local wall-clock time, lenient: an ambiguous time is its first occurrence,
    a nonexistent one (in a spring-forward gap) is the jump itself, the first instant whose
    wall clock reads at or after it. Used for window, block and day bounds: a window "until
    02:30" ends when the clock passes 02:30, a block "from 02:30" starts there, and a day whose
    midnight does not exist starts at the jump."""
    local = wall(day, minute, tz)
    after = int(local.timestamp())  # fold=0: first occurrence; in a gap, past the jump
    before = int(local.replace(fold=1).timestamp())  # fold=1: in a gap, before the jump
    if before >= after:
        return after  # the time exists (once, or twice and fold=0 is the first occurrence)
    offset = datetime.fromtimestamp(after, tz).utcoffset()
    while after - before > 1:  # the jump lies in (before, after]: bisect for it
        mid = (before + after) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == offset:
            after = mid
        else:
            before = mid
    return after


def wall_to_epoch_exact(day: date, minute: int, tz: ZoneInfo) -> int | None:
    """Epoch of a local wall-clock time, or None when that time does not exist locally."""
    local = wall(day, minute, tz)
    ts = int(local.timestamp())
    back = datetime.fromtimestamp(ts, tz)
    if (back.year, back.month, back.day, back.hour, back.minute) != (
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
    ):
        return None
    return ts


def day_bounds(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """[first instant of local `day`, first instant of the next local day)."""
    return wall_to_epoch(day, 0, tz), wall_to_epoch(day + timedelta(days=1), 0, tz)


class LocalDay:
    """Wall-clock minutes of one local date as epochs. Most days have no transition: then a
    minute is `midnight + 60 * minute`, plain arithmetic (the slot engine's hot path). Days
    with a transition, or whose midnight does not exist, take the exact zoneinfo path."""

    __slots__ = ("day", "tz", "start", "end", "_base", "_uniform")

    def __init__(self, day: date, tz: ZoneInfo) -> None:
        self.day, self.tz = day, tz
        self.start, self.end = day_bounds(day, tz)
        offsets = {
            datetime.fromtimestamp(t, tz).utcoffset()
            for t in (self.start, (self.start + self.end) // 2, self.end - 1)
        }
        first = datetime.fromtimestamp(self.start, tz).utcoffset() or timedelta(0)
        self._base = calendar.timegm(day.timetuple()) - int(first.total_seconds())
        self._uniform = len(offsets) == 1 and self._base == self.start

    def exact(self, minute: int) -> int | None:
        """Epoch of the wall-clock minute, None if it does not exist (see wall_to_epoch_exact)."""
        if self._uniform and 0 <= minute < MINUTES_PER_DAY:
            return self._base + 60 * minute
        return wall_to_epoch_exact(self.day, minute, self.tz)

    def grid(self, first: int, last: int, step: int) -> list[int]:
        """Epochs of the wall-clock minutes first, first + step, ... before `last` that exist
        locally (a grid point inside a spring-forward gap is skipped)."""
        if self._uniform and last <= MINUTES_PER_DAY:
            return list(range(self._base + 60 * first, self._base + 60 * last, 60 * step))
        found = (self.exact(m) for m in range(first, last, step))
        return [t for t in found if t is not None]

    def lenient(self, minute: int) -> int:
        """Epoch of the wall-clock minute, a gap time being the jump (see wall_to_epoch)."""
        if self._uniform and 0 <= minute < MINUTES_PER_DAY:
            return self._base + 60 * minute
        if minute == MINUTES_PER_DAY:
            return self.end
        return wall_to_epoch(self.day, minute, self.tz)


def local_date(epoch: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch, tz).date()


def iso_z(epoch: int | None) -> str | None:
    """An instant as ISO 8601 UTC with a Z suffix and second precision (SPEC section 2)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(epoch: int, tz: ZoneInfo) -> str:
    """An instant as ISO 8601 with the provider's offset at that instant."""
    return datetime.fromtimestamp(epoch, tz).isoformat(timespec="seconds")


def human_local(epoch: int, tz: ZoneInfo) -> str:
    """What a person reads: 'Tue 01 Dec 2026 09:00 EST'."""
    return datetime.fromtimestamp(epoch, tz).strftime("%a %d %b %Y %H:%M %Z")


def _parse_iso(text: str, what: str) -> datetime:
    try:  # the stdlib parser covers the usual forms without dateutil's import cost
        return datetime.fromisoformat(text.strip())
    except ValueError:
        pass
    from dateutil.parser import isoparse  # lazy: the strict, complete ISO 8601 parser

    try:
        parsed: datetime = isoparse(text.strip())
        return parsed
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            f"invalid {what} {text!r}: expected ISO 8601 like 2026-12-01T14:00:00Z, "
            f"2026-12-01T09:00-05:00 or local 2026-12-01T09:00 ({exc})"
        ) from None


# Instants bookctl accepts lie in the years 1900 to 8999: beyond them Python's datetime
# overflows on the way to a local date or back to ISO text.
FIRST_YEAR, LAST_YEAR = 1900, 8999
_EARLIEST = int(datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp())
_LATEST = int(datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp())


def _out_of_range(text: str, what: str) -> InvalidInput:
    return InvalidInput(
        f"invalid {what} {text!r}: out of range (years {FIRST_YEAR} to {LAST_YEAR})"
    )


def _supported(epoch: int, text: str, what: str) -> int:
    if not _EARLIEST <= epoch < _LATEST:
        raise _out_of_range(text, what)
    return epoch


def parse_instant(text: str, tz: ZoneInfo | None, what: str = "instant") -> int:
    """ISO 8601 with Z/offset is exact; without one it is wall-clock time in `tz`.

    A local time inside a spring-forward gap is refused (exit 2); an ambiguous one means its
    first occurrence. A bare date is refused here: an instant needs a time of day. Instants
    outside the supported years are refused too.
    """
    if not isinstance(text, str) or "T" not in text.upper() and " " not in text.strip():
        raise InvalidInput(
            f"invalid {what} {text!r}: expected a date and time like 2026-12-01T09:00 "
            "(provider-local) or 2026-12-01T14:00:00Z"
        )
    dt = _parse_iso(text, what)
    if dt.microsecond:
        raise InvalidInput(f"invalid {what} {text!r}: bookctl works to the second, no fractions")
    if dt.tzinfo is None and tz is None:
        raise InvalidInput(f"invalid {what} {text!r}: give an offset or Z")
    try:
        if dt.tzinfo is not None:
            return _supported(int(dt.timestamp()), text, what)
        assert tz is not None
        ts = _supported(int(dt.replace(tzinfo=tz).timestamp()), text, what)
        back = datetime.fromtimestamp(ts, tz).replace(tzinfo=None)
    except (OverflowError, ValueError, OSError):
        raise _out_of_range(text, what) from None
    if back != dt:
        raise InvalidInput(
            f"local time {text!r} does not exist in {tz.key} (clocks jump forward over it): "
            "pick another time or give an explicit offset"
        )
    return ts


def parse_date_or_instant(text: str, tz: ZoneInfo, what: str) -> date | int:
    """A provider-local date (YYYY-MM-DD) or an instant (see parse_instant), within the
    supported years."""
    if isinstance(text, str) and _DATE.match(text.strip()):
        day = parse_date(text, what)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise _out_of_range(text, what)
        return day
    return parse_instant(text, tz, what)


def parse_now(text: str) -> int:
    """BOOKCTL_NOW: an ISO instant with Z or an offset, within the supported years."""
    dt = _parse_iso(text, "BOOKCTL_NOW")
    if dt.tzinfo is None:
        raise InvalidInput(f"invalid BOOKCTL_NOW {text!r}: give an offset or Z")
    try:
        return _supported(int(dt.timestamp()), text, "BOOKCTL_NOW")
    except (OverflowError, ValueError, OSError):
        raise _out_of_range(text, "BOOKCTL_NOW") from None


_LEAD = re.compile(r"^(\d+)([mhd])$")


def parse_lead(text: str) -> int:
    """A reminder lead time like 24h, 90m or 2d, as minutes."""
    m = _LEAD.match(text.strip())
    if not m or int(m[1]) <= 0:
        raise InvalidInput(f"invalid lead time {text!r}: expected a positive number and m, h or d")
    return int(m[1]) * {"m": 1, "h": 60, "d": 1440}[m[2]]
