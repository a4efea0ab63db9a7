"""Every refusal bookctl can give, each with its exit code (SPEC section 6) and error code."""

from __future__ import annotations


class BookctlError(Exception):
    """Base class: a message for people, a stable code for scripts, an exit code for shells."""

    exit_code = 1
    code = "internal"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(BookctlError):
    """Bad input or usage; nothing was changed (exit 2)."""

    exit_code = 2
    code = "invalid_input"


class UnknownTimezone(InvalidInput):
    code = "unknown_timezone"


class NotFound(BookctlError):
    exit_code = 3
    code = "not_found"


class Conflict(BookctlError):
    """The slot was taken, or the record changed under you (exit 4)."""

    exit_code = 4
    code = "slot_taken"


class SlotTaken(Conflict):
    code = "slot_taken"


class VersionConflict(Conflict):
    code = "version_conflict"


class PolicyRefusal(BookctlError):
    """Refused by policy (exit 5)."""

    exit_code = 5
    code = "outside_availability"


class OutsideAvailability(PolicyRefusal):
    code = "outside_availability"


class InThePast(PolicyRefusal):
    code = "in_the_past"


class NoticeWindow(PolicyRefusal):
    code = "notice_window"


class InvalidTransition(PolicyRefusal):
    code = "invalid_transition"
