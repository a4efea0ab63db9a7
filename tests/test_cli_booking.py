"""CLI tests of an appointment's life: book, show, list, cancel, reschedule, complete,
no-show and history, with their JSON shapes, the state machine, notice windows, --force,
booking references and exit codes (SPEC sections 4-6, issue 3)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from practice import NOW, TUESDAY, book, dump, ok, practice

from bookctl import policy

APPOINTMENT_FIELDS = {
    "appointment_id",
    "booking_ref",
    "provider_id",
    "client_id",
    "start_at",
    "end_at",
    "status",
    "created_at",
    "updated_at",
    "version",
}
# Tuesday 09:00 in New York is 14:00Z; NOW is 26 hours before it.
NINE = f"{TUESDAY}T09:00"
NINE_Z = f"{TUESDAY}T14:00:00Z"
STARTED = "2026-12-01T14:10:00Z"  # ten minutes into the 09:00 appointment
REF = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{5}$")


def history(cli: Run, ref: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = ok(cli("history", ref, "--json", now=NOW))
    return events


def refused(result: Any, exit_code: int, code: str, *words: str) -> str:
    """Assert a refusal: its exit code, error code, and that the message names `words`."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.error["code"] == code
    message: str = result.error["message"]
    for word in words:
        assert word in message, (word, message)
    return message


# ---- book, show, list ----------------------------------------------------------------------


def test_book_prints_the_appointment_with_every_field(cli: Run) -> None:
    pid, cid = practice(cli)
    a = book(cli, pid, cid, NINE)
    assert set(a) >= APPOINTMENT_FIELDS
    assert REF.match(a["booking_ref"])
    assert (a["provider_id"], a["client_id"]) == (pid, cid)
    assert (a["start_at"], a["end_at"]) == (NINE_Z, f"{TUESDAY}T14:30:00Z")
    assert a["created_at"] == NOW and a["updated_at"] == NOW
    assert a["status"] == "confirmed"  # no channel reaches the client: confirmed at once
    assert a["local_start"] == f"{NINE}:00-05:00"
    assert ok(cli("show", a["booking_ref"], "--json", now=NOW)) == a


def test_a_client_with_email_stays_pending_until_the_confirmation_is_sent(cli: Run) -> None:
    pid, cid = practice(cli, email="bob@example.org")
    a = book(cli, pid, cid, NINE)
    assert a["status"] == "pending"
    assert a["version"] == 1


@pytest.mark.parametrize(
    "start", [NINE, NINE_Z, f"{NINE}-05:00", f"{TUESDAY}T15:00+01:00", f"{TUESDAY} 09:00"]
)
def test_start_is_exact_with_an_offset_and_provider_local_without(cli: Run, start: str) -> None:
    pid, cid = practice(cli)
    assert book(cli, pid, cid, start)["start_at"] == NINE_Z


def test_book_with_a_duration_from_the_grid(cli: Run) -> None:
    pid, cid = practice(cli)
    a = book(cli, pid, cid, f"{TUESDAY}T10:00", "--duration", "60")
    assert (a["start_at"], a["end_at"]) == (f"{TUESDAY}T15:00:00Z", f"{TUESDAY}T16:00:00Z")
    # 11:30 + 60 min ends after the window's 12:00
    r = cli("book", str(pid), f"{TUESDAY}T11:30", "--client", str(cid), "--duration", "60",
            "--json", now=NOW)  # fmt: skip
    refused(r, 5, "outside_availability")


def test_booking_refs_are_readable_unique_and_case_insensitive(cli: Run) -> None:
    pid, cid = practice(cli, rules=("mon-fri 09:00-12:00/30",))
    refs = [
        book(cli, pid, cid, f"{TUESDAY}T{h}")["booking_ref"] for h in ("09:00", "09:30", "10:00")
    ]
    assert len(set(refs)) == 3
    for ref in refs:
        assert REF.match(ref)
        for variant in (ref.lower(), ref.replace("-", ""), f"  {ref.lower()} "):
            assert ok(cli("show", variant, "--json", now=NOW))["booking_ref"] == ref


def test_booking_refs_carry_at_least_60_bits_without_confusable_characters() -> None:
    assert not set("0O1IL") & set(policy.REF_ALPHABET)
    assert len(set(policy.REF_ALPHABET)) == len(policy.REF_ALPHABET)
    assert policy.REF_LENGTH * math.log2(len(policy.REF_ALPHABET)) >= 60
    seen = {policy.new_booking_ref() for _ in range(2000)}
    assert len(seen) == 2000
    assert all(REF.match(ref) for ref in seen)
    used = {c for ref in seen for c in ref.replace("-", "")}
    assert used == set(policy.REF_ALPHABET)  # every symbol is drawn: no hidden bias to few


def test_show_unknown_ref_is_not_found(cli: Run) -> None:
    practice(cli)
    refused(cli("show", "2345-6789-ABCDE", "--json"), 3, "not_found", "2345-6789-ABCDE")


def test_appointments_list_filters(cli: Run) -> None:
    pid, cid = practice(cli)
    other = ok(cli("provider", "add", "Dr Kim", "--timezone", "Europe/London", "--json"))
    ok(cli("availability", "set", str(other["provider_id"]), "--rule", "tue 09:00-12:00", "--json"))
    a = book(cli, pid, cid, NINE)
    b = book(cli, pid, cid, "2026-12-02T10:00")
    c = book(cli, other["provider_id"], cid, NINE)  # 09:00 London = 09:00Z
    ok(cli("cancel", b["booking_ref"], "--json", now=NOW))

    def refs(*args: str) -> list[str]:
        return [x["booking_ref"] for x in ok(cli("appointments", "list", *args, "--json"))]

    assert refs() == [c["booking_ref"], a["booking_ref"], b["booking_ref"]]
    assert refs("--provider", str(pid)) == [a["booking_ref"], b["booking_ref"]]
    assert refs("--status", "cancelled") == [b["booking_ref"]]
    assert refs("--status", "confirmed", "--provider", str(pid)) == [a["booking_ref"]]
    # provider-local dates with --provider, --to inclusive
    assert refs("--provider", str(pid), "--from", "2026-12-02") == [b["booking_ref"]]
    assert refs("--provider", str(pid), "--to", TUESDAY) == [a["booking_ref"]]
    assert refs("--from", NINE_Z, "--to", "2026-12-01T14:00:01Z") == [a["booking_ref"]]
    assert refs("--status", "no_show") == []
    listed = ok(cli("appointments", "list", "--json"))
    assert all(set(x) >= APPOINTMENT_FIELDS for x in listed)
    assert cli("appointments", "list", "--provider", "99", "--json").exit_code == 3


def test_human_output_of_the_booking_commands(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # rich cuts cells to fit 80 columns when stdout is not a terminal: give it room
    monkeypatch.setenv("COLUMNS", "200")
    pid, cid = practice(cli)
    r = cli("book", str(pid), NINE, "--client", str(cid), now=NOW)
    assert r.exit_code == 0
    ref = ok(cli("appointments", "list", "--json"))[0]["booking_ref"]
    assert ref in r.stdout
    assert ref in cli("show", ref, now=NOW).stdout
    assert ref in cli("appointments", "list").stdout
    assert "booked" in cli("history", ref).stdout
    r = cli("cancel", ref, "--reason", "flu", now=NOW)
    assert r.exit_code == 0 and "cancelled" in r.stdout
    err = cli("show", "2345-6789-ABCDE")
    assert err.exit_code == 3 and err.stderr.startswith("error: ") and err.stdout == ""


# ---- state machine ---------------------------------------------------------------------------


def test_confirmed_then_completed(cli: Run) -> None:
    pid, cid = practice(cli)
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    done = ok(cli("complete", ref, "--json", now=STARTED))
    assert done["status"] == "completed"
    assert done["version"] == 3  # booked, confirmed, completed
    for cmd, target in (("complete", "completed"), ("no-show", "no_show"), ("cancel", "cancelled")):
        r = cli(cmd, ref, "--json", now=STARTED)
        refused(r, 5, "invalid_transition", "completed", target)


def test_confirmed_then_no_show(cli: Run) -> None:
    pid, cid = practice(cli)
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    assert ok(cli("no-show", ref, "--json", now=STARTED))["status"] == "no_show"
    refused(cli("complete", ref, "--json", now=STARTED), 5, "invalid_transition", "no_show")
    refused(
        cli("reschedule", ref, "2026-12-02T09:00", "--as", "provider", "--json", now=STARTED),
        5,
        "invalid_transition",
        "from no_show to cancelled",
    )


@pytest.mark.parametrize("cmd", ["complete", "no-show"])
def test_complete_and_no_show_only_once_started(cli: Run, cmd: str) -> None:
    pid, cid = practice(cli)
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    before = cli(cmd, ref, "--json", now="2026-12-01T13:59:59Z")
    refused(before, 5, "invalid_transition", NINE_Z)
    assert ok(cli(cmd, ref, "--json", now=NINE_Z))["status"] in ("completed", "no_show")


@pytest.mark.parametrize(("cmd", "target"), [("complete", "completed"), ("no-show", "no_show")])
def test_a_pending_appointment_cannot_be_completed(cli: Run, cmd: str, target: str) -> None:
    pid, cid = practice(cli, email="bob@example.org")
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    refused(cli(cmd, ref, "--json", now=STARTED), 5, "invalid_transition", "pending", target)


@pytest.mark.parametrize("email", [None, "bob@example.org"])
def test_pending_and_confirmed_can_be_cancelled(cli: Run, email: str | None) -> None:
    pid, cid = practice(cli, email=email)
    a = book(cli, pid, cid, NINE)
    c = ok(cli("cancel", a["booking_ref"], "--reason", "flu", "--json", now=NOW))
    assert c["status"] == "cancelled"
    assert c["cancel_reason"] == "flu"
    last = history(cli, a["booking_ref"])[-1]
    assert (last["action"], last["from_status"], last["to_status"]) == (
        "cancelled",
        a["status"],
        "cancelled",
    )
    assert (last["actor"], last["reason"]) == ("client", "flu")
    # the slot is free again
    assert book(cli, pid, cid, NINE)["start_at"] == NINE_Z


def test_cancelling_a_cancelled_appointment_succeeds_and_changes_nothing(
    cli: Run, isolated_env: Path
) -> None:
    pid, cid = practice(cli)
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    first = ok(cli("cancel", ref, "--json", now=NOW))
    before = dump(isolated_env)
    later = "2026-12-01T16:00:00Z"  # even after the start, even as the client
    again = ok(cli("cancel", ref, "--reason", "twice", "--json", now=later))
    assert again == first
    assert dump(isolated_env) == before


def test_cancelled_cannot_be_completed_or_rescheduled(cli: Run) -> None:
    pid, cid = practice(cli)
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    ok(cli("cancel", ref, "--json", now=NOW))
    refused(cli("complete", ref, "--json", now=STARTED), 5, "invalid_transition", "cancelled")
    refused(cli("no-show", ref, "--json", now=STARTED), 5, "invalid_transition", "cancelled")
    refused(
        cli("reschedule", ref, "2026-12-02T09:00", "--json", now=NOW),
        5,
        "invalid_transition",
        "from cancelled to cancelled",
    )


def test_policy_state_machine_is_exactly_the_spec() -> None:
    allowed = {
        ("pending", "confirmed"),
        ("pending", "cancelled"),
        ("confirmed", "completed"),
        ("confirmed", "no_show"),
        ("confirmed", "cancelled"),
    }
    statuses = ("pending", "confirmed", "cancelled", "completed", "no_show")
    for current in statuses:
        for target in statuses:
            if (current, target) in allowed:
                policy.check_transition(current, target)
                continue
            with pytest.raises(Exception) as info:
                policy.check_transition(current, target)
            assert getattr(info.value, "code", None) == "invalid_transition"
            assert getattr(info.value, "exit_code", None) == 5
            assert current in str(info.value) and target in str(info.value)


# ---- notice windows ------------------------------------------------------------------------

# The 09:00 appointment starts at 14:00Z on Tuesday.
H25 = "2026-11-30T13:00:00Z"  # 25 h before
H24 = "2026-11-30T14:00:00Z"  # exactly 24 h before
H23 = "2026-11-30T15:00:00Z"  # 23 h before


def test_client_cancels_only_with_enough_notice(cli: Run) -> None:
    pid, cid = practice(cli, "--cancel-notice-hours", "24")
    late = book(cli, pid, cid, NINE)["booking_ref"]
    on_time = book(cli, pid, cid, f"{TUESDAY}T09:30")["booking_ref"]
    refused(cli("cancel", late, "--json", now=H23), 5, "notice_window", "24 h")
    refused(cli("cancel", late, "--as", "client", "--json", now=H23), 5, "notice_window")
    assert ok(cli("show", late, "--json"))["status"] == "confirmed"
    assert ok(cli("cancel", on_time, "--json", now=H24))["status"] == "cancelled"


def test_provider_cancel_bypasses_the_notice_window_and_history_records_it(cli: Run) -> None:
    pid, cid = practice(cli, "--cancel-notice-hours", "24")
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    done = ok(cli("cancel", ref, "--as", "provider", "--reason", "ill", "--json", now=H23))
    assert done["status"] == "cancelled"
    last = history(cli, ref)[-1]
    assert (last["actor"], last["action"], last["reason"]) == ("provider", "cancelled", "ill")
    assert last["details"]["notice_bypassed"] is True
    assert last["details"]["notice_hours"] == 24


def test_provider_cancel_with_enough_notice_records_no_bypass(cli: Run) -> None:
    pid, cid = practice(cli)
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    ok(cli("cancel", ref, "--as", "provider", "--json", now=H25))
    last = history(cli, ref)[-1]
    assert last["actor"] == "provider"
    assert not (last["details"] or {}).get("notice_bypassed")


def test_reschedule_notice_is_its_own_window(cli: Run) -> None:
    pid, cid = practice(cli, "--cancel-notice-hours", "24", "--reschedule-notice-hours", "48")
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    move = ("reschedule", ref, "2026-12-02T09:00", "--json")
    refused(cli(*move, now=H25), 5, "notice_window", "48 h")
    assert ok(cli("show", ref, "--json"))["start_at"] == NINE_Z
    moved = ok(cli(*move, "--as", "provider", now=H25))
    assert moved["start_at"] == "2026-12-02T14:00:00Z"
    events = history(cli, ref)
    assert [e["action"] for e in events][-2:] == ["rescheduled", "rescheduled_in"]
    assert all(e["actor"] == "provider" for e in events[-2:])
    assert events[-2]["details"]["notice_bypassed"] is True
    assert events[-2]["details"]["notice_hours"] == 48
    # the client may still cancel the new time: 24 h notice, 49 h ahead
    assert ok(cli("cancel", ref, "--json", now=H25))["status"] == "cancelled"


def test_client_reschedules_with_enough_notice(cli: Run) -> None:
    pid, cid = practice(cli, "--cancel-notice-hours", "2")
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    moved = ok(cli("reschedule", ref, f"{TUESDAY}T10:00", "--json", now="2026-12-01T12:00:00Z"))
    assert moved["start_at"] == f"{TUESDAY}T15:00:00Z"
    assert history(cli, ref)[-1]["actor"] == "client"
    r = cli("reschedule", ref, f"{TUESDAY}T11:00", "--json", now="2026-12-01T13:30:00Z")
    refused(r, 5, "notice_window", "2 h")


# ---- --force -------------------------------------------------------------------------------


def test_force_books_outside_availability_and_is_recorded(cli: Run) -> None:
    pid, cid = practice(cli)
    evening = f"{TUESDAY}T18:15"  # no rule, and not on any grid
    r = cli("book", str(pid), evening, "--client", str(cid), "--json", now=NOW)
    refused(r, 5, "outside_availability", "2026-12-01T23:15:00Z")
    a = book(cli, pid, cid, evening, "--force", "--duration", "50")
    assert (a["start_at"], a["end_at"]) == ("2026-12-01T23:15:00Z", "2026-12-02T00:05:00Z")
    assert a["forced"] is True
    first = history(cli, a["booking_ref"])[0]
    assert (first["action"], first["actor"]) == ("booked", "provider")
    assert "forced" in first["reason"]
    # a saturday, far beyond the 60-day horizon
    far = book(cli, pid, cid, "2027-06-05T07:00", "--force")
    assert far["end_at"] == "2027-06-05T11:30:00Z"  # default slot length, EDT


def test_force_never_books_over_another_appointment(cli: Run, isolated_env: Path) -> None:
    pid, cid = practice(cli)
    book(cli, pid, cid, NINE, "--duration", "60")
    before = dump(isolated_env)
    for start, minutes in (("09:00", "30"), ("09:59", "5"), ("08:30", "31"), ("08:00", "240")):
        r = cli("book", str(pid), f"{TUESDAY}T{start}", "--client", str(cid), "--force",
                "--duration", minutes, "--json", now=NOW)  # fmt: skip
        refused(r, 4, "slot_taken")
    assert dump(isolated_env) == before
    # touching is not overlapping
    assert book(cli, pid, cid, f"{TUESDAY}T08:00", "--force", "--duration", "60")["status"]
    assert book(cli, pid, cid, f"{TUESDAY}T10:00", "--force", "--duration", "60")["status"]


def test_force_does_not_book_in_the_past(cli: Run) -> None:
    pid, cid = practice(cli)
    r = cli("book", str(pid), "2026-11-30T06:00", "--client", str(cid), "--force", "--json",
            now=NOW)  # fmt: skip
    refused(r, 5, "in_the_past", "2026-11-30T11:00:00Z")


# ---- reschedule ----------------------------------------------------------------------------


def test_reschedule_keeps_the_ref_and_links_old_and_new(cli: Run) -> None:
    pid, cid = practice(cli)
    a = book(cli, pid, cid, NINE)
    new = ok(cli("reschedule", a["booking_ref"].lower(), "2026-12-02T10:30", "--json", now=NOW))
    assert new["booking_ref"] == a["booking_ref"]
    assert new["appointment_id"] != a["appointment_id"]
    assert new["status"] == "confirmed"  # keeps confirmed
    assert (new["start_at"], new["end_at"]) == ("2026-12-02T15:30:00Z", "2026-12-02T16:00:00Z")
    assert new["rescheduled_from"] == a["appointment_id"]
    rows = ok(cli("appointments", "list", "--provider", str(pid), "--json"))
    (old,) = [r for r in rows if r["appointment_id"] == a["appointment_id"]]
    assert old["status"] == "cancelled"
    assert old["cancel_reason"] == "rescheduled"
    assert old["rescheduled_to"] == new["appointment_id"]
    assert ok(cli("show", a["booking_ref"], "--json", now=NOW)) == new
    # the old time is free again, and the ref keeps working: move again, then cancel
    book(cli, pid, cid, NINE)
    again = ok(cli("reschedule", a["booking_ref"], "2026-12-03T09:00", "--json", now=NOW))
    assert again["rescheduled_from"] == new["appointment_id"]
    assert ok(cli("cancel", a["booking_ref"], "--json", now=NOW))["status"] == "cancelled"
    assert ok(cli("appointments", "list", "--status", "confirmed", "--json"))[0]["start_at"] == (
        NINE_Z
    )


def test_reschedule_keeps_pending_when_the_old_one_was(cli: Run) -> None:
    pid, cid = practice(cli, email="bob@example.org")
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    assert ok(cli("reschedule", ref, f"{TUESDAY}T11:00", "--json", now=NOW))["status"] == "pending"


def test_reschedule_by_a_few_minutes_is_not_blocked_by_its_own_time(cli: Run) -> None:
    pid, cid = practice(cli, "--buffer", "5", rules=("tue 09:00-12:00/10",))
    ref = book(cli, pid, cid, NINE, "--duration", "60")["booking_ref"]
    # the grid is every 15 min (10 + 5 buffer); 09:15 overlaps the old 09:00-10:00
    moved = ok(cli("reschedule", ref, f"{TUESDAY}T09:15", "--json", now=NOW))
    assert (moved["start_at"], moved["end_at"]) == (
        f"{TUESDAY}T14:15:00Z",
        f"{TUESDAY}T15:15:00Z",
    )
    back = ok(cli("reschedule", ref, NINE, "--duration", "30", "--json", now=NOW))
    assert (back["start_at"], back["end_at"]) == (NINE_Z, f"{TUESDAY}T14:30:00Z")


def test_reschedule_onto_another_appointment_is_slot_taken(cli: Run, isolated_env: Path) -> None:
    pid, cid = practice(cli, "--buffer", "10")
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    book(cli, pid, cid, f"{TUESDAY}T10:20")  # grid: 09:00, 09:40, 10:20, 11:00
    before = dump(isolated_env)
    r = cli("reschedule", ref, f"{TUESDAY}T10:20", "--json", now=NOW)
    refused(r, 4, "slot_taken", "2026-12-01T15:20:00Z")
    r = cli("reschedule", ref, f"{TUESDAY}T09:40", "--duration", "60", "--json", now=NOW)
    refused(r, 4, "slot_taken")  # would run into the buffer before 10:20
    r = cli("reschedule", ref, f"{TUESDAY}T13:00", "--json", now=NOW)
    refused(r, 5, "outside_availability")
    r = cli("reschedule", ref, "2026-11-30T06:00", "--as", "provider", "--json", now=NOW)
    refused(r, 5, "in_the_past")
    assert dump(isolated_env) == before


# ---- history -------------------------------------------------------------------------------


def test_history_tells_the_whole_story(cli: Run) -> None:
    pid, cid = practice(cli)
    ref = book(cli, pid, cid, NINE)["booking_ref"]
    ok(cli("reschedule", ref, f"{TUESDAY}T10:00", "--json", now=NOW))
    ok(cli("complete", ref, "--json", now="2026-12-01T15:05:00Z"))
    events = ok(cli("history", ref.lower(), "--json"))
    story = [(e["actor"], e["action"], e["from_status"], e["to_status"]) for e in events]
    assert story == [
        ("client", "booked", None, "pending"),
        ("system", "confirmed", "pending", "confirmed"),
        ("client", "rescheduled", "confirmed", "cancelled"),
        ("client", "rescheduled_in", None, "confirmed"),
        ("provider", "completed", "confirmed", "completed"),
    ]
    assert [e["event_id"] for e in events] == sorted(e["event_id"] for e in events)
    assert [e["at"] for e in events] == [NOW] * 4 + ["2026-12-01T15:05:00Z"]
    assert {e["booking_ref"] for e in events} == {ref}
    assert events[0]["details"] == {"start_at": NINE_Z, "end_at": f"{TUESDAY}T14:30:00Z"}
    assert events[3]["details"]["from_start_at"] == NINE_Z
    assert events[3]["details"]["start_at"] == f"{TUESDAY}T15:00:00Z"
    assert events[2]["reason"] == "rescheduled"


def test_history_of_unknown_ref(cli: Run) -> None:
    practice(cli)
    refused(cli("history", "2345-6789-ABCDE", "--json"), 3, "not_found")


def test_an_ambiguous_local_time_is_its_first_occurrence(cli: Run) -> None:
    pid, cid = practice(cli, "--max-advance-days", "400", rules=("sun 00:00-04:00/30",))
    # New York falls back on 2027-11-07: 01:30 happens at 05:30Z (EDT), then at 06:30Z (EST)
    first = book(cli, pid, cid, "2027-11-07T01:30")
    assert first["start_at"] == "2027-11-07T05:30:00Z"
    assert first["local_start"] == "2027-11-07T01:30:00-04:00"
    # the second 01:30 is no grid point (SPEC 3.7); staff can still book it, by offset
    second = book(cli, pid, cid, "2027-11-07T01:30:00-05:00", "--force")
    assert second["start_at"] == "2027-11-07T06:30:00Z"
