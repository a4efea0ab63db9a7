"""Use cases. Each write reads, calls the pure core, and writes in ONE BEGIN IMMEDIATE
transaction; the clock (`now`, epoch seconds) is injected by the caller."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bookctl import policy, slots
from bookctl.domain import Appointment, Client, Event, Override, Provider, Rule
from bookctl.errors import (
    InThePast,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OutsideAvailability,
    PolicyRefusal,
    SlotTaken,
    VersionConflict,
)
from bookctl.specs import check_window, positive_minutes
from bookctl.store import appointments as appts
from bookctl.store import catalog, jobs
from bookctl.store.db import read, write
from bookctl.timeutil import (
    day_bounds,
    iso_z,
    local_date,
    parse_date_or_instant,
    parse_instant,
    zone,
)

DAY = 86400


def settings_of(p: Provider) -> slots.Settings:
    return slots.Settings(
        buffer_minutes=p.buffer_minutes,
        min_notice_minutes=p.min_notice_minutes,
        max_advance_days=p.max_advance_days,
        default_slot_minutes=p.default_slot_minutes,
    )


@dataclass(frozen=True, slots=True)
class SlotAnswer:
    provider: Provider
    tz: ZoneInfo
    window: tuple[int, int]
    expansion: slots.Expansion


class Service:
    def __init__(
        self, conn: sqlite3.Connection, now: int, webhook_configured: bool | None = None
    ) -> None:
        self.conn = conn
        self.now = now
        self._webhook_configured = webhook_configured

    @property
    def webhook_configured(self) -> bool:
        """Whether a webhook URL is configured; read from the settings only by the use cases
        that schedule notifications (a slot query should not pay for parsing TOML)."""
        if self._webhook_configured is None:
            from bookctl.config import load_settings

            self._webhook_configured = bool(load_settings().webhook_url)
        return self._webhook_configured

    # ---- providers ---------------------------------------------------------------------

    def provider(self, provider_id: int) -> Provider:
        p = catalog.get_provider(self.conn, provider_id)
        if p is None:
            raise NotFound(f"provider {provider_id} not found")
        return p

    def add_provider(self, fields: dict[str, Any]) -> Provider:
        fields = validate_provider_fields(fields)
        fields.setdefault("reschedule_notice_hours", fields.get("cancellation_notice_hours", 24))
        with write(self.conn):
            pid = catalog.insert_provider(self.conn, fields, self.now)
        return self.provider(pid)

    def update_provider(self, provider_id: int, fields: dict[str, Any]) -> Provider:
        fields = validate_provider_fields(fields)
        with write(self.conn):
            self.provider(provider_id)
            catalog.update_provider(self.conn, provider_id, fields)
        return self.provider(provider_id)

    def remove_provider(self, provider_id: int) -> Provider:
        with write(self.conn):
            p = self.provider(provider_id)
            if appts.has_active_from(self.conn, provider_id, self.now):
                raise PolicyRefusal(
                    f"provider {provider_id} still has active future appointments:"
                    " cancel or move them first",
                    "active_appointments",
                )
            catalog.remove_provider(self.conn, provider_id, self.now)
        return p

    def list_providers(self) -> list[Provider]:
        return catalog.list_providers(self.conn)

    # ---- availability and overrides ----------------------------------------------------

    def set_rules(self, provider_id: int, rules: list[Rule]) -> list[Rule]:
        with write(self.conn):
            self.provider(provider_id)
            catalog.replace_rules(self.conn, provider_id, rules)
        return catalog.get_rules(self.conn, provider_id)

    def rules(self, provider_id: int) -> list[Rule]:
        with read(self.conn):
            self.provider(provider_id)
            return catalog.get_rules(self.conn, provider_id)

    def add_override(self, provider_id: int, ov: Override) -> Override:
        if ov.type not in ("block", "extend"):
            raise InvalidInput(f"invalid override type {ov.type!r}: block or extend")
        if (ov.start_minute is None) != (ov.end_minute is None):
            raise InvalidInput("an override with times needs both --start and --end")
        if ov.type == "extend" and ov.start_minute is None:
            raise InvalidInput("an --extend override needs --start and --end")
        if ov.start_minute is not None and ov.end_minute is not None:
            check_window(ov.start_minute, ov.end_minute, "override")
        if ov.slot_duration_minutes is not None:
            if ov.type != "extend":
                raise InvalidInput("--slot-duration applies to --extend overrides only")
            positive_minutes(ov.slot_duration_minutes, "--slot-duration")
        with write(self.conn):
            self.provider(provider_id)
            oid = catalog.insert_override(self.conn, ov, provider_id, self.now)
        return replace(ov, override_id=oid, provider_id=provider_id)

    def overrides(self, provider_id: int, first: date | None, last: date | None) -> list[Override]:
        if first is not None and last is not None and last < first:
            raise InvalidInput(f"invalid window: --to {last} is before --from {first}")
        with read(self.conn):
            self.provider(provider_id)
            return catalog.list_overrides(self.conn, provider_id, first, last)

    def remove_override(self, override_id: int) -> Override:
        with write(self.conn):
            ov = catalog.get_override(self.conn, override_id)
            if ov is None:
                raise NotFound(f"override {override_id} not found")
            catalog.delete_override(self.conn, override_id)
        return ov

    # ---- clients -----------------------------------------------------------------------

    def add_client(self, name: str, email: str | None, phone: str | None) -> Client:
        name = name.strip()
        if not name:
            raise InvalidInput("a client needs a non-empty name")
        email = check_email(email)
        with write(self.conn):
            cid = catalog.insert_client(self.conn, name, email, phone, self.now)
        return self.client(cid)

    def client(self, client_id: int) -> Client:
        c = catalog.get_client(self.conn, client_id)
        if c is None:
            raise NotFound(f"client {client_id} not found")
        return c

    def list_clients(self) -> list[Client]:
        return catalog.list_clients(self.conn)

    # ---- slots -------------------------------------------------------------------------

    def _expand(
        self,
        p: Provider,
        tz: ZoneInfo,
        start: int,
        end: int,
        duration: int | None,
        explain: bool,
        ignore: int | None = None,
    ) -> slots.Expansion:
        first, last = local_date(start, tz), local_date(end - 1, tz)
        rules = catalog.get_rules(self.conn, p.provider_id)
        overrides = catalog.list_overrides(self.conn, p.provider_id, first, last)
        # Candidates start in [start, end) and last at most a day, so only appointments
        # within a buffer of [start, end + DAY) can touch them.
        buffer = p.buffer_minutes * 60
        busy = appts.busy_intervals(self.conn, p.provider_id, start - buffer, end + DAY + buffer)
        busy = self._without(busy, ignore)
        return slots.expand(
            tz=tz,
            rules=rules,
            overrides=overrides,
            busy=busy,
            window_start=start,
            window_end=end,
            now=self.now,
            settings=settings_of(p),
            duration_minutes=duration,
            explain=explain,
        )

    def free_slots(
        self,
        provider_id: int,
        first: str | None,
        last: str | None,
        duration: int | None = None,
        explain: bool = False,
    ) -> SlotAnswer:
        if duration is not None:
            duration = positive_minutes(duration, "--duration")
        with read(self.conn):
            p = self.provider(provider_id)
            tz = zone(p.timezone)
            today = local_date(self.now, tz)
            start = day_bounds(today, tz)[0]
            end = day_bounds(today + timedelta(days=7), tz)[1]
            if first is not None:
                value = parse_date_or_instant(first, tz, "--from")
                start = day_bounds(value, tz)[0] if isinstance(value, date) else value
            if last is not None:
                value = parse_date_or_instant(last, tz, "--to")
                end = day_bounds(value, tz)[1] if isinstance(value, date) else value
            if end <= start:
                raise InvalidInput(f"invalid window: --to ({last}) is not after --from ({first})")
            if end - start > 366 * DAY:
                raise InvalidInput("invalid window: at most 366 days at a time")
            expansion = self._expand(p, tz, start, end, duration, explain)
        return SlotAnswer(p, tz, (start, end), expansion)

    # ---- booking lifecycle -------------------------------------------------------------

    def _appointment(self, appointment_id: int) -> Appointment:
        a = appts.get_appointment(self.conn, appointment_id)
        if a is None:
            raise NotFound(f"appointment {appointment_id} not found")
        return a

    def appointment(self, ref: str) -> Appointment:
        key = policy.normalize_ref(ref)
        a = appts.get_by_ref(self.conn, key)
        if a is None:
            raise NotFound(f"no appointment with booking reference {key}")
        return a

    def _check_slot(
        self,
        p: Provider,
        tz: ZoneInfo,
        start: int,
        duration: int | None,
        force: bool,
        ignore: int | None = None,
    ) -> int:
        """The end of a bookable appointment starting at `start`, or the refusal that says
        why not. Runs inside the write transaction: what it sees is what gets written."""
        if start < self.now:
            raise InThePast(f"{iso_z(start)} is in the past (now is {iso_z(self.now)})")
        if force:
            end = start + 60 * (duration or p.default_slot_minutes)
            busy = appts.busy_intervals(self.conn, p.provider_id, start, end)
            busy = self._without(busy, ignore)
            if busy:
                raise SlotTaken(
                    f"{iso_z(start)}-{iso_z(end)} overlaps another appointment of provider"
                    f" {p.provider_id}; --force never books over one"
                )
            return end
        exp = self._expand(p, tz, start, start + 1, duration, explain=True, ignore=ignore)
        for s in exp.slots:
            if s.start == start:
                return s.end
        for d in exp.dropped:
            if d.start != start:
                continue
            when = iso_z(start)
            if d.reason in (slots.BUSY, slots.BUFFER):
                raise SlotTaken(f"{when} is no longer free: {d.detail}")
            if d.reason == slots.NOTICE:
                raise PolicyRefusal(f"{when} is too soon: {d.detail}", "notice_window")
            raise OutsideAvailability(f"{when} is not offered: {d.detail}")
        raise OutsideAvailability(
            f"{iso_z(start)} is not a slot start of provider {p.provider_id}"
            f"{' for ' + str(duration) + ' min' if duration else ''}: see `bookctl slots"
            f" {p.provider_id} --explain` for the times on offer (staff may use --force)"
        )

    def _without(
        self, busy: list[tuple[int, int]], appointment_id: int | None
    ) -> list[tuple[int, int]]:
        """`busy` less the interval of the appointment being moved: its own time does not
        block moving it by a few minutes."""
        if appointment_id is None:
            return busy
        a = self._appointment(appointment_id)
        own = (a.start_at, a.end_at)
        return [b for b in busy if b != own]

    def book(
        self,
        provider_id: int,
        start_text: str,
        client_id: int,
        duration: int | None = None,
        force: bool = False,
    ) -> Appointment:
        if duration is not None:
            duration = positive_minutes(duration, "--duration")
        with write(self.conn):
            p = self.provider(provider_id)
            tz = zone(p.timezone)
            start = parse_instant(start_text, tz, "start")
            client = self.client(client_id)
            end = self._check_slot(p, tz, start, duration, force)
            ref = self._fresh_ref()
            aid = self._insert(
                booking_ref=ref,
                provider_id=p.provider_id,
                client_id=client.client_id,
                start_at=start,
                end_at=end,
                status="pending",
                now=self.now,
                forced=force,
            )
            appts.add_event(
                self.conn,
                aid,
                ref,
                at=self.now,
                actor="provider" if force else "client",
                action="booked",
                from_status=None,
                to_status="pending",
                reason="forced by staff: availability, horizon and grid not checked"
                if force
                else None,
                details=json.dumps({"start_at": iso_z(start), "end_at": iso_z(end)}),
            )
            self._schedule(p, client, aid, start, confirm=True)
            a = self._appointment(aid)
            if not self._reachable(client):
                a = self._transition(a, "confirmed", "system", "no channel reaches the client")
        return a

    def _insert(self, **fields: Any) -> int:
        try:
            return appts.insert_appointment(self.conn, **fields)
        except sqlite3.IntegrityError as exc:
            # the schema's backstops (unique index, overlap trigger) caught a race
            raise SlotTaken(f"slot taken: {exc}") from None

    def _fresh_ref(self) -> str:
        while True:
            ref = policy.new_booking_ref()
            if not appts.ref_exists(self.conn, ref):
                return ref

    def _reachable(self, client: Client) -> bool:
        return bool(client.email) or self.webhook_configured

    def _channels(self, client: Client) -> set[str]:
        out = set()
        if client.email:
            out.add("email")
        if self.webhook_configured:
            out.add("webhook")
        return out

    def _schedule(
        self, p: Provider, client: Client, appointment_id: int, start: int, confirm: bool
    ) -> None:
        """Queue the confirmation and the reminders, in the caller's transaction. Reminders go
        only through channels that can reach the client, and never for a time already past."""
        channels = self._channels(client)
        if confirm and channels:
            channel = "email" if "email" in channels else "webhook"
            jobs.insert_job(
                self.conn,
                appointment_id=appointment_id,
                kind="confirmation",
                channel=channel,
                send_at=self.now,
                now=self.now,
            )
        leads = [lc for lc in policy.parse_reminders(p.reminders) if lc[1] in channels]
        for send_at, lead, channel in policy.reminder_times(start, leads, self.now):
            jobs.insert_job(
                self.conn,
                appointment_id=appointment_id,
                kind="reminder",
                channel=channel,
                send_at=send_at,
                now=self.now,
                lead_minutes=lead,
            )

    def _notice(self, client: Client, appointment_id: int, kind: str) -> None:
        channels = self._channels(client)
        if channels:
            jobs.insert_job(
                self.conn,
                appointment_id=appointment_id,
                kind=kind,
                channel="email" if "email" in channels else "webhook",
                send_at=self.now,
                now=self.now,
            )

    def _transition(
        self,
        a: Appointment,
        target: str,
        actor: str,
        reason: str | None = None,
        action: str | None = None,
        details: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Appointment:
        policy.check_transition(a.status, target)
        if not appts.update_appointment(self.conn, a, self.now, status=target, **changes):
            raise VersionConflict(
                f"appointment {a.booking_ref} changed while we were working on it: try again"
            )
        appts.add_event(
            self.conn,
            a.appointment_id,
            a.booking_ref,
            at=self.now,
            actor=actor,
            action=action or target,
            from_status=a.status,
            to_status=target,
            reason=reason,
            details=json.dumps(details) if details else None,
        )
        return self._appointment(a.appointment_id)

    def cancel(self, ref: str, actor: str, reason: str | None) -> Appointment:
        with write(self.conn):
            a = self.appointment(ref)
            if a.status == "cancelled":
                return a  # idempotent: already cancelled, nothing changes
            policy.check_transition(a.status, "cancelled")
            p = self._provider_any(a.provider_id)
            bypass = self._notice_window("cancel", a, p.cancellation_notice_hours, actor)
            a = self._transition(
                a,
                "cancelled",
                actor,
                reason or f"cancelled by {actor}",
                details=bypass,
                cancel_reason=reason or f"cancelled by {actor}",
            )
            jobs.cancel_pending_jobs(self.conn, a.appointment_id, self.now)
            if a.start_at > self.now:
                self._notice(self.client(a.client_id), a.appointment_id, "cancellation")
        return a

    def _notice_window(
        self, action: str, a: Appointment, notice_hours: int, actor: str
    ) -> dict[str, Any] | None:
        """Clients act only while the notice window is open; the provider may act inside it,
        and what that bypassed goes into the event's details."""
        if policy.notice_left(a.start_at, notice_hours, self.now):
            return None
        if actor == "client":
            policy.check_notice(action, a.start_at, notice_hours, self.now)
        return {"notice_bypassed": True, "notice_hours": notice_hours}

    def _provider_any(self, provider_id: int) -> Provider:
        """A provider row even when removed (its past appointments still point at it)."""
        p = catalog.get_provider(self.conn, provider_id, include_removed=True)
        if p is None:
            raise NotFound(f"provider {provider_id} not found")
        return p

    def reschedule(
        self, ref: str, start_text: str, duration: int | None, actor: str
    ) -> Appointment:
        if duration is not None:
            duration = positive_minutes(duration, "--duration")
        with write(self.conn):
            old = self.appointment(ref)
            if not old.active:
                raise InvalidTransition(
                    f"cannot reschedule a {old.status} appointment: only pending or confirmed"
                    f" ones move (its old time would go from {old.status} to cancelled)"
                )
            p = self.provider(old.provider_id)  # a removed provider takes no new times
            tz = zone(p.timezone)
            start = parse_instant(start_text, tz, "start")
            bypass = self._notice_window("reschedule", old, p.reschedule_notice_hours, actor)
            length = duration or (old.end_at - old.start_at) // 60
            end = self._check_slot(p, tz, start, length, force=False, ignore=old.appointment_id)
            moved = self._transition(
                old,
                "cancelled",
                actor,
                "rescheduled",
                action="rescheduled",
                details=bypass,
                cancel_reason="rescheduled",
            )
            jobs.cancel_pending_jobs(self.conn, old.appointment_id, self.now)
            new_id = self._insert(
                booking_ref=old.booking_ref,
                provider_id=old.provider_id,
                client_id=old.client_id,
                start_at=start,
                end_at=end,
                status=old.status,
                now=self.now,
                rescheduled_from=old.appointment_id,
                sequence=old.sequence + 1,
            )
            appts.update_appointment(self.conn, moved, self.now, rescheduled_to=new_id)
            appts.add_event(
                self.conn,
                new_id,
                old.booking_ref,
                at=self.now,
                actor=actor,
                action="rescheduled_in",
                from_status=None,
                to_status=old.status,
                reason="rescheduled",
                details=json.dumps(
                    {
                        "from_start_at": iso_z(old.start_at),
                        "start_at": iso_z(start),
                        "end_at": iso_z(end),
                        "previous_appointment_id": old.appointment_id,
                    }
                ),
            )
            client = self.client(old.client_id)
            self._schedule(p, client, new_id, start, confirm=old.status == "pending")
            if old.status != "pending":
                self._notice(client, new_id, "reschedule")
            return self._appointment(new_id)

    def mark(self, ref: str, target: str) -> Appointment:
        """complete / no-show: only a confirmed appointment that has started."""
        with write(self.conn):
            a = self.appointment(ref)
            policy.check_transition(a.status, target)
            if self.now < a.start_at:
                raise InvalidTransition(
                    f"cannot mark {a.booking_ref} {target} before it starts at {iso_z(a.start_at)}"
                )
            a = self._transition(a, target, "provider")
            jobs.cancel_pending_jobs(self.conn, a.appointment_id, self.now)
        return a

    def history(self, ref: str) -> list[Event]:
        with read(self.conn):
            a = self.appointment(ref)
            return appts.events(self.conn, a.booking_ref)

    def list_appointments(
        self,
        provider_id: int | None,
        first: str | None,
        last: str | None,
        status: str | None,
    ) -> list[Appointment]:
        from bookctl.domain import APPOINTMENT_STATUSES

        if status is not None and status not in APPOINTMENT_STATUSES:
            raise InvalidInput(
                f"invalid status {status!r}: one of {', '.join(APPOINTMENT_STATUSES)}"
            )
        with read(self.conn):
            tz = None
            if provider_id is not None:
                tz = zone(self.provider(provider_id).timezone)
            bounds: list[int | None] = []
            for text, what, edge in ((first, "--from", 0), (last, "--to", 1)):
                if text is None:
                    bounds.append(None)
                    continue
                value = parse_date_or_instant(text, tz or zone("UTC"), what)
                bounds.append(
                    day_bounds(value, tz or zone("UTC"))[edge] if isinstance(value, date) else value
                )
            if bounds[0] is not None and bounds[1] is not None and bounds[1] <= bounds[0]:
                raise InvalidInput(f"invalid window: --to {last} is not after --from {first}")
            return appts.list_appointments(
                self.conn,
                provider_id=provider_id,
                start=bounds[0],
                end=bounds[1],
                status=status,
            )


def check_email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or " " in email:
        raise InvalidInput(f"invalid email {email!r}: expected name@example.org")
    return email


# Upper bounds of the provider's numeric settings: a day of buffer, ten years ahead, a year
# of notice. Beyond them dates overflow (and nobody means them).
SETTING_LIMITS = {
    "buffer_minutes": 1440,
    "max_advance_days": 3660,
    "cancellation_notice_hours": 8784,
    "reschedule_notice_hours": 8784,
    "min_notice_minutes": 527040,
}


def validate_provider_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise provider options; unknown time zones, negative numbers,
    malformed reminder specs are refused before anything is written."""
    out = {k: v for k, v in fields.items() if v is not None}
    if "name" in out:
        out["name"] = str(out["name"]).strip()
        if not out["name"]:
            raise InvalidInput("a provider needs a non-empty name")
    if "timezone" in out:
        out["timezone"] = zone(out["timezone"]).key
    for key, limit in SETTING_LIMITS.items():
        value = out.get(key)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= limit):
            raise InvalidInput(
                f"invalid {key.replace('_', ' ')} {value!r}: must be between 0 and {limit}"
            )
    if "default_slot_minutes" in out:
        out["default_slot_minutes"] = positive_minutes(
            out["default_slot_minutes"], "default slot minutes"
        )
    if "email" in out:
        out["email"] = check_email(out["email"])
    if "reminders" in out:
        policy.parse_reminders(out["reminders"])  # refuses a malformed spec
        out["reminders"] = ",".join(part.strip() for part in out["reminders"].split(","))
    return out
