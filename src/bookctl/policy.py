"""PURE policy: the appointment state machine, notice windows, reminder schedules and
booking references. No I/O, no clock."""

from __future__ import annotations

from bookctl.errors import InvalidInput, InvalidTransition, NoticeWindow

# pending -> confirmed -> completed | no_show; pending | confirmed -> cancelled
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"completed", "no_show", "cancelled"}),
    "cancelled": frozenset(),
    "completed": frozenset(),
    "no_show": frozenset(),
}


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        allowed = sorted(s for s, nexts in TRANSITIONS.items() if target in nexts)
        raise InvalidTransition(
            f"cannot move an appointment from {current} to {target}"
            f" ({target} is reachable only from {' or '.join(allowed) or 'nowhere'})"
        )


def notice_left(start_at: int, notice_hours: int, now: int) -> bool:
    """Whether at least `notice_hours` remain before `start_at`."""
    return now <= start_at - notice_hours * 3600


def check_notice(action: str, start_at: int, notice_hours: int, now: int) -> None:
    """A client may cancel/reschedule only while at least `notice_hours` remain."""
    if not notice_left(start_at, notice_hours, now):
        raise NoticeWindow(
            f"too late to {action} as the client: this provider needs {notice_hours} h notice;"
            " staff can act with --as provider"
        )


# Readable booking references: no 0/O, 1/I/L. 31 symbols ** 13 > 2**64.
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REF_LENGTH = 13


def new_booking_ref() -> str:
    import secrets  # lazy: only booking needs it, and every command pays for imports

    raw = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_ref(text: str) -> str:
    """Accept a reference in any case, with or without its dashes or spaces."""
    raw = text.strip().upper().replace("-", "").replace(" ", "")
    if len(raw) != REF_LENGTH or any(c not in REF_ALPHABET for c in raw):
        raise InvalidInput(
            f"malformed booking reference {text!r}: expected 13 characters like"
            " K7QM-3XTP-9WRB2 (letters and digits, no 0, 1, I, L or O)"
        )
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


CHANNELS = ("email", "webhook")


def parse_reminders(spec: str) -> list[tuple[int, str]]:
    """`24h:email,1h:webhook` -> [(1440, 'email'), (60, 'webhook')]; '' or 'none' -> []."""
    from bookctl.timeutil import parse_lead

    if spec.strip().lower() in ("", "none"):
        return []
    out: list[tuple[int, str]] = []
    for part in spec.split(","):
        lead, sep, channel = part.strip().partition(":")
        if not sep or channel.strip() not in CHANNELS:
            raise InvalidInput(
                f"invalid reminder {part.strip()!r} in {spec!r}: expected LEAD:CHANNEL like"
                " 24h:email or 1h:webhook"
            )
        item = (parse_lead(lead), channel.strip())
        if item not in out:
            out.append(item)
    return out


def reminder_times(
    start_at: int, leads: list[tuple[int, str]], now: int
) -> list[tuple[int, int, str]]:
    """(send_at, lead_minutes, channel) for each lead whose time is still ahead."""
    return [
        (start_at - lead * 60, lead, channel)
        for lead, channel in leads
        if start_at - lead * 60 >= now
    ]
