"""Every refusal leaves the database content unchanged (SPEC section 6: "A refused command
changes nothing in the database"): the whole SQL dump is compared before and after, over a
practice holding appointments in every state, with their jobs and events."""

from __future__ import annotations

from pathlib import Path

from conftest import Run
from practice import NOW, TUESDAY, book, dump, ok, practice

H23 = "2026-11-30T15:00:00Z"  # 23 h before Tuesday 09:00 New York
STARTED = "2026-12-01T14:10:00Z"  # Tuesday 09:10 New York
LATER = "2026-11-30T15:00:00Z"  # Monday 10:00 New York


def scenario(cli: Run) -> dict[str, str]:
    """Provider 1 (NY, mon-fri 09:00-12:00/30, 24 h notice, Friday blocked), provider 2
    (NY, buffer 10, 30 h of minimum notice), client 1 without email (confirmed at once),
    client 2 with email (pending, with jobs). Returns the booking refs by name."""
    pid, cid = practice(cli)
    ok(cli("override", "add", str(pid), "--date", "2026-12-04", "--block", "--json"))
    p2 = ok(
        cli("provider", "add", "Salon", "--timezone", "America/New_York", "--buffer", "10",
            "--min-notice-minutes", "1800", "--json")
    )  # fmt: skip
    ok(
        cli(
            "availability",
            "set",
            str(p2["provider_id"]),
            "--rule",
            "mon-fri 09:00-12:00/30",
            "--json",
        )
    )
    emailed = ok(cli("client", "add", "Eve", "--email", "eve@example.org", "--json"))
    refs = {
        "confirmed": book(cli, pid, cid, f"{TUESDAY}T09:00"),
        "long": book(cli, pid, cid, f"{TUESDAY}T10:00", "--duration", "60"),
        "pending": book(cli, pid, emailed["client_id"], "2026-12-02T09:00"),
        "cancelled": book(cli, pid, cid, f"{TUESDAY}T11:00"),
        "done": book(cli, pid, cid, "2026-11-30T09:00"),
        "moved": book(cli, pid, cid, "2026-12-03T09:00"),
        "salon": book(cli, p2["provider_id"], cid, "2026-12-02T09:40"),
    }
    ok(cli("cancel", refs["cancelled"]["booking_ref"], "--json", now=NOW))
    ok(cli("complete", refs["done"]["booking_ref"], "--json", now=LATER))
    ok(cli("reschedule", refs["moved"]["booking_ref"], "2026-12-03T10:00", "--json", now=NOW))
    return {name: a["booking_ref"] for name, a in refs.items()}


def test_every_refusal_leaves_the_database_unchanged(cli: Run, isolated_env: Path) -> None:
    refs = scenario(cli)
    r = refs.__getitem__
    # (argv, clock, exit code, error code)
    refusals: list[tuple[tuple[str, ...], str, int, str]] = [
        # conflicts
        (("book", "1", f"{TUESDAY}T09:00", "--client", "1"), NOW, 4, "slot_taken"),
        (("book", "1", f"{TUESDAY}T09:30", "--client", "1", "--duration", "60"), NOW, 4,
         "slot_taken"),
        (("book", "1", f"{TUESDAY}T10:30", "--client", "2"), NOW, 4, "slot_taken"),
        (("book", "1", f"{TUESDAY}T08:45", "--client", "1", "--force", "--duration", "20"), NOW,
         4, "slot_taken"),
        (("book", "2", "2026-12-02T09:00", "--client", "1", "--duration", "60"), NOW, 4,
         "slot_taken"),
        (("book", "2", "2026-12-02T09:00", "--client", "1", "--duration", "40"), NOW, 4,
         "slot_taken"),  # buffer
        (("reschedule", r("confirmed"), f"{TUESDAY}T10:30"), NOW, 4, "slot_taken"),
        (("reschedule", r("pending"), f"{TUESDAY}T10:00", "--as", "provider"), NOW, 4,
         "slot_taken"),
        # policy
        (("book", "1", f"{TUESDAY}T13:00", "--client", "1"), NOW, 5, "outside_availability"),
        (("book", "1", f"{TUESDAY}T09:10", "--client", "1"), NOW, 5, "outside_availability"),
        (("book", "1", "2026-12-04T09:00", "--client", "1"), NOW, 5, "outside_availability"),
        (("book", "1", "2027-02-01T09:00", "--client", "1"), NOW, 5, "outside_availability"),
        (("book", "1", "2026-12-05T09:00", "--client", "1"), NOW, 5, "outside_availability"),
        (("book", "2", f"{TUESDAY}T09:00", "--client", "1"), NOW, 5, "notice_window"),
        (("book", "1", "2026-11-30T06:30", "--client", "1"), NOW, 5, "in_the_past"),
        (("book", "1", "2026-11-30T06:30", "--client", "1", "--force"), NOW, 5, "in_the_past"),
        (("cancel", r("confirmed")), H23, 5, "notice_window"),
        (("cancel", r("done")), LATER, 5, "invalid_transition"),
        (("cancel", r("done"), "--as", "provider"), LATER, 5, "invalid_transition"),
        (("reschedule", r("confirmed"), "2026-12-02T11:00"), H23, 5, "notice_window"),
        (("reschedule", r("cancelled"), "2026-12-02T11:00"), NOW, 5, "invalid_transition"),
        (("reschedule", r("done"), "2026-12-02T11:00", "--as", "provider"), NOW, 5,
         "invalid_transition"),
        (("reschedule", r("confirmed"), "2026-12-02T13:00"), NOW, 5, "outside_availability"),
        (("reschedule", r("confirmed"), "2026-11-30T06:00", "--as", "provider"), NOW, 5,
         "in_the_past"),
        (("complete", r("confirmed")), NOW, 5, "invalid_transition"),
        (("no-show", r("confirmed")), NOW, 5, "invalid_transition"),
        (("complete", r("pending")), "2026-12-02T15:00:00Z", 5, "invalid_transition"),
        (("complete", r("cancelled")), STARTED, 5, "invalid_transition"),
        (("no-show", r("done")), STARTED, 5, "invalid_transition"),
        (("complete", r("done")), STARTED, 5, "invalid_transition"),
        (("provider", "remove", "1"), NOW, 5, "active_appointments"),
        # not found
        (("book", "9", f"{TUESDAY}T09:30", "--client", "1"), NOW, 3, "not_found"),
        (("book", "1", f"{TUESDAY}T09:30", "--client", "9"), NOW, 3, "not_found"),
        (("cancel", "2345-6789-ABCDE"), NOW, 3, "not_found"),
        (("reschedule", "2345-6789-ABCDE", f"{TUESDAY}T09:30"), NOW, 3, "not_found"),
        (("complete", "2345-6789-ABCDE"), STARTED, 3, "not_found"),
        (("override", "remove", "99"), NOW, 3, "not_found"),
        (("availability", "set", "9", "--rule", "mon 09:00-10:00"), NOW, 3, "not_found"),
        (("provider", "update", "9", "--buffer", "5"), NOW, 3, "not_found"),
        # bad input: a PUT whose second rule is malformed keeps every old rule
        (("availability", "set", "1", "--rule", "tue 09:00-10:00", "--rule", "wed 10-11"), NOW,
         2, "invalid_input"),
        (("provider", "update", "1", "--buffer", "5", "--timezone", "Moon/Base"), NOW, 2,
         "unknown_timezone"),
        (("reschedule", r("confirmed"), "2027-03-14T02:30", "--as", "provider"), NOW, 2,
         "invalid_input"),
        (("book", "1", f"{TUESDAY}T09:30", "--client", "1", "--duration", "0"), NOW, 2,
         "invalid_input"),
    ]  # fmt: skip
    failures: list[str] = []
    for args, now, exit_code, code in refusals:
        before = dump(isolated_env)
        res = cli(*args, "--json", now=now)
        got = (res.exit_code, res.error["code"] if res.exit_code else None)
        if got != (exit_code, code):
            failures.append(f"{' '.join(args)}: {got} != {(exit_code, code)}: {res.stderr}")
        elif dump(isolated_env) != before:
            failures.append(f"{' '.join(args)}: refused but changed the database")
    assert failures == []


def test_a_refused_reschedule_keeps_the_appointment_its_jobs_and_its_history(
    cli: Run, isolated_env: Path
) -> None:
    refs = scenario(cli)
    ref = refs["pending"]
    before = dump(isolated_env)
    shown = ok(cli("show", ref, "--json"))
    events = ok(cli("history", ref, "--json"))
    res = cli("reschedule", ref, f"{TUESDAY}T09:00", "--json", now=NOW)
    assert (res.exit_code, res.error["code"]) == (4, "slot_taken")
    assert ok(cli("show", ref, "--json")) == shown
    assert ok(cli("history", ref, "--json")) == events
    assert dump(isolated_env) == before
