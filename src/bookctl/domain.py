"""The records bookctl keeps, as frozen dataclasses. Instants are epoch seconds (UTC);
times of day are minutes since local midnight; dates are provider-local."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

ACTIVE_STATUSES = ("pending", "confirmed")
APPOINTMENT_STATUSES = ("pending", "confirmed", "cancelled", "completed", "no_show")
JOB_STATUSES = ("scheduled", "sending", "sent", "failed", "cancelled", "expired")
DEFAULT_REMINDERS = "24h:email,1h:email"


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: int
    name: str
    timezone: str
    buffer_minutes: int = 0
    max_advance_days: int = 60
    cancellation_notice_hours: int = 24
    reschedule_notice_hours: int = 24
    min_notice_minutes: int = 0
    default_slot_minutes: int = 30
    email: str | None = None
    reminders: str = DEFAULT_REMINDERS
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class Rule:
    day_of_week: int
    start_minute: int
    end_minute: int
    slot_duration_minutes: int
    effective_from: date | None = None
    effective_until: date | None = None
    rule_id: int | None = None
    provider_id: int | None = None

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.day_of_week
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_until is None or day <= self.effective_until)
        )


@dataclass(frozen=True, slots=True)
class Override:
    date: date
    type: str  # "block" | "extend"
    start_minute: int | None = None
    end_minute: int | None = None
    slot_duration_minutes: int | None = None
    override_id: int | None = None
    provider_id: int | None = None


@dataclass(frozen=True, slots=True)
class Client:
    client_id: int
    name: str
    email: str | None = None
    phone: str | None = None
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class Appointment:
    appointment_id: int
    booking_ref: str
    provider_id: int
    client_id: int
    start_at: int
    end_at: int
    status: str
    created_at: int
    updated_at: int
    version: int
    cancel_reason: str | None = None
    rescheduled_from: int | None = None
    rescheduled_to: int | None = None
    forced: bool = False
    sequence: int = 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True, slots=True)
class Event:
    event_id: int
    appointment_id: int
    booking_ref: str
    at: int
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    details: str | None


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    appointment_id: int
    kind: str  # confirmation | reminder | cancellation | reschedule
    channel: str  # email | webhook
    send_at: int
    status: str
    attempts: int
    sent_at: int | None
    last_error: str | None
    next_attempt_at: int
    lead_minutes: int | None = None
    claim_token: str | None = None
    lease_until: int | None = None
