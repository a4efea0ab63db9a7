"""Fill a bookctl database at seed scale: N providers, 100 bookings per provider per day.

    .venv/bin/python benchmarks/generate.py --db /tmp/bookctl-seed.db            # 10,000 x 30 days
    .venv/bin/python benchmarks/generate.py --db /tmp/small.db --providers 50 --days 4

The schema is bookctl's own: the file is created by `bookctl.store.connect`, which runs the
real migrations. What the data looks like, and why:

* Time zones: a dozen real IANA zones, with and without DST, north and south, whole and
  half-hour offsets (America/Santiago's DST change happens at local midnight).
* Weekly rules: 100 bookings a day need more than 100 slots a day, and one provider holds
  one appointment at a time (the overlap trigger), so parallel windows would not add
  capacity. Each provider gets one of four profiles, all seven days a week:
    clinic5  08:00-12:00 and 13:00-18:00, 5-min slots                     108 slots/day
    long10   06:00-23:00, 10-min slots                                    102 slots/day
    desk6    Mon-Fri 08:00-19:00, Sat-Sun 09:00-20:00, 6-min slots        110 slots/day
    buffer5  07:00-19:00, 5-min slots with a 1-min buffer (grid step 6)   120 slots/day
* Overrides: half of the providers "move an hour" on one day inside the booked range (a
  block of one hour plus an extend of the same size after hours, so the day still has more
  than 100 slots), and 30% take a whole day off (a block without times) after the booked
  range, where no bookings exist.
* Bookings: 100 per provider per local day, over D days centred on "now" (--now, default
  the current minute), so a 7-day slot query from now meets fully booked days. They are
  'confirmed', with unique booking references, at random free grid slots. Rows are
  inserted day by day, interleaved across providers (slot k of every provider, then slot
  k+1): that is how a busy system fills its table over time, so one provider's rows are
  scattered over many pages, as they would be in production. A layout sorted by provider
  would flatter every query.
* Jobs: none by default. A past booking's jobs would be sent/expired rows that nothing
  measured here reads (the daemon reads only due rows, through a partial index);
  bench_reminders.py writes its own burst. `--jobs` adds the 24h and 1h reminder jobs
  (status 'scheduled') of every future booking, for a realistic outbox.

Loading speed: the appointments table's indexes and triggers are dropped during the load
and re-created afterwards with their exact SQL from sqlite_master (one sort per index
instead of 30M random B-tree inserts; the overlap trigger would run one EXISTS per row).
The data cannot break them: starts are unique and non-overlapping by construction, and the
unique index is checked when it is re-created. While loading: journal_mode=OFF,
synchronous=OFF, foreign_keys=OFF and a big page cache; bookctl's settings (WAL,
synchronous=FULL) are restored at the end. The clock used is written to DB.meta.json for
the benchmark scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import iso, meta_path  # noqa: E402

from bookctl import slots  # noqa: E402
from bookctl.domain import Override, Rule  # noqa: E402
from bookctl.policy import REF_ALPHABET  # noqa: E402
from bookctl.store import connect  # noqa: E402
from bookctl.timeutil import day_bounds, local_date, parse_now, zone  # noqa: E402

ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Santiago",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Africa/Johannesburg",
]


def _m(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


@dataclass(frozen=True)
class Profile:
    name: str
    slot: int
    buffer: int
    # (days, start, end): days as weekday numbers
    windows: tuple[tuple[tuple[int, ...], str, str], ...]
    moved_block: tuple[str, str]  # one hour blocked ...
    moved_extend: tuple[str, str]  # ... and the same number of slots added after hours

    def rules(self) -> list[Rule]:
        return [Rule(d, _m(s), _m(e), self.slot) for days, s, e in self.windows for d in days]


ALL = (0, 1, 2, 3, 4, 5, 6)
PROFILES = [
    Profile(
        "clinic5",
        5,
        0,
        ((ALL, "08:00", "12:00"), (ALL, "13:00", "18:00")),
        ("08:00", "09:00"),
        ("18:00", "19:00"),
    ),
    Profile("long10", 10, 0, ((ALL, "06:00", "23:00"),), ("12:00", "13:00"), ("23:00", "24:00")),
    Profile(
        "desk6",
        6,
        0,
        (((0, 1, 2, 3, 4), "08:00", "19:00"), ((5, 6), "09:00", "20:00")),
        ("13:00", "14:00"),
        ("20:00", "21:00"),
    ),
    Profile("buffer5", 5, 1, ((ALL, "07:00", "19:00"),), ("12:00", "13:00"), ("19:00", "20:00")),
]


class Refs:
    """Unique, random-looking booking references from a counter: i -> i*M + C mod 31**13 is a
    bijection (M is prime to 31), written in bookctl's alphabet as XXXX-XXXX-XXXXX."""

    N = 31**13
    M = 0x9E3779B97F4A7C15 % N
    C = 0x1234567
    B4 = 31**4

    def __init__(self) -> None:
        a = REF_ALPHABET
        assert self.M % 31
        self.t4 = [
            a[i // 29791] + a[i // 961 % 31] + a[i // 31 % 31] + a[i % 31] for i in range(self.B4)
        ]
        self.t1 = list(a)

    def __call__(self, i: int) -> str:
        x = (i * self.M + self.C) % self.N
        c = x % (self.B4 * 31)
        x //= self.B4 * 31
        b = x % self.B4
        a = x // self.B4
        return f"{self.t4[a]}-{self.t4[b]}-{self.t4[c // 31]}{self.t1[c % 31]}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/bookctl-seed.db"))
    ap.add_argument("--providers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30, help="days of bookings, centred on now")
    ap.add_argument("--per-day", type=int, default=100, help="bookings per provider per day")
    ap.add_argument("--clients", type=int, default=None, help="default: 10 per provider")
    ap.add_argument("--now", default=None, help="ISO instant (default: the current minute)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--jobs", action="store_true", help="add reminder jobs of future bookings")
    ap.add_argument("--force", action="store_true", help="replace an existing database")
    ap.add_argument("--no-check", action="store_true", help="skip the overlap check at the end")
    return ap.parse_args(argv)


def _progress():  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    db: Path = args.db
    if db.exists():
        if not args.force:
            raise SystemExit(f"{db} exists: pass --force to replace it")
        for suffix in ("", "-wal", "-shm", ".meta.json"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    now = parse_now(args.now) if args.now else int(time.time()) // 60 * 60
    n_clients = args.clients or max(100, args.providers * 10)
    t_start = time.perf_counter()

    # The real schema, by bookctl itself.
    connect(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB, for the index sorts
    conn.execute("PRAGMA temp_store = FILE")
    saved = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'appointments'"
        " AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    for kind, name, _ in saved:
        conn.execute(f"DROP {kind.upper()} {name}")

    profiles_of: list[Profile] = []
    zones_of: list[str] = []
    stats = {"appointments": 0, "overrides": 0, "rules": 0, "jobs": 0}
    refs = Refs()
    with _progress() as progress:
        # ---- clients and providers --------------------------------------------------------
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO clients (client_id, name, email, created_at) VALUES (?, ?, ?, ?)",
            (
                (i, f"Client {i:06d}", f"client{i}@example.org", now - 400 * 86400)
                for i in range(1, n_clients + 1)
            ),
        )
        task = progress.add_task("providers", total=args.providers)
        provider_rows = []
        rule_rows = []
        for pid in range(1, args.providers + 1):
            prof = PROFILES[rng.randrange(len(PROFILES))]
            tzname = ZONES[rng.randrange(len(ZONES))]
            profiles_of.append(prof)
            zones_of.append(tzname)
            provider_rows.append(
                (
                    pid,
                    f"Provider {pid:05d} ({prof.name})",
                    tzname,
                    prof.buffer,
                    60,
                    24,
                    24,
                    rng.choice((0, 0, 0, 60)),
                    prof.slot,
                    f"provider{pid}@example.org",
                    now - 400 * 86400,
                )
            )
            for r in prof.rules():
                rule_rows.append(
                    (pid, r.day_of_week, _hhmm(r.start_minute), _hhmm(r.end_minute), prof.slot)
                )
        conn.executemany(
            "INSERT INTO providers (provider_id, name, timezone, buffer_minutes,"
            " max_advance_days, cancellation_notice_hours, reschedule_notice_hours,"
            " min_notice_minutes, default_slot_minutes, email, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            provider_rows,
        )
        conn.executemany(
            "INSERT INTO availability_rules (provider_id, day_of_week, start_time, end_time,"
            " slot_duration_minutes) VALUES (?, ?, ?, ?, ?)",
            rule_rows,
        )
        stats["rules"] = len(rule_rows)

        # ---- overrides --------------------------------------------------------------------
        # local "today" differs by zone; day offsets are relative to each provider's today
        first_off = -(args.days // 2)
        offsets = range(first_off, first_off + args.days)
        moved: dict[int, tuple[date, list[Override]]] = {}
        ov_rows = []
        for pid in range(1, args.providers + 1):
            prof, tz = profiles_of[pid - 1], zone(zones_of[pid - 1])
            today = local_date(now, tz)
            if rng.random() < 0.5 and args.days > 0:
                d = today + timedelta(days=rng.choice(offsets))
                ovs = [
                    Override(d, "block", _m(prof.moved_block[0]), _m(prof.moved_block[1])),
                    Override(
                        d, "extend", _m(prof.moved_extend[0]), _m(prof.moved_extend[1]), prof.slot
                    ),
                ]
                moved[pid] = (d, ovs)
                for ov in ovs:
                    ov_rows.append(
                        (
                            pid,
                            d.isoformat(),
                            ov.type,
                            _hhmm(ov.start_minute),
                            _hhmm(ov.end_minute),
                            ov.slot_duration_minutes,
                            now - 30 * 86400,
                        )
                    )
            if rng.random() < 0.3:
                d = (
                    today + timedelta(days=offsets[-1] + 1 + rng.randrange(30))
                    if args.days
                    else today + timedelta(days=1 + rng.randrange(30))
                )
                ov_rows.append((pid, d.isoformat(), "block", None, None, None, now - 30 * 86400))
        conn.executemany(
            "INSERT INTO overrides (provider_id, date, type, start_time, end_time,"
            " slot_duration_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ov_rows,
        )
        stats["overrides"] = len(ov_rows)
        conn.execute("COMMIT")
        progress.update(task, completed=args.providers)

        # ---- appointments: day by day, slot k of every provider then slot k+1 -------------
        cache: dict[tuple[str, str, date], list[tuple[int, int]]] = {}

        def candidates(pid: int, day: date) -> list[tuple[int, int]]:
            prof, tzname = profiles_of[pid - 1], zones_of[pid - 1]
            mv = moved.get(pid)
            if mv is not None and mv[0] == day:
                return _expand(prof, zone(tzname), day, mv[1])
            key = (prof.name, tzname, day)
            if key not in cache:
                cache[key] = _expand(prof, zone(tzname), day, [])
            return cache[key]

        todays = [local_date(now, zone(z)) for z in zones_of]
        total = args.providers * args.days * args.per_day
        task = progress.add_task("appointments", total=total)
        sql = (
            "INSERT INTO appointments (booking_ref, provider_id, client_id, start_at, end_at,"
            " status, created_at, updated_at, version, forced, sequence)"
            " VALUES (?1, ?2, ?3, ?4, ?5, 'confirmed', ?6, ?6, 1, 0, 0)"
        )
        job_sql = (
            "INSERT INTO jobs (appointment_id, kind, channel, lead_minutes, send_at, status,"
            " next_attempt_at, created_at, updated_at)"
            " VALUES (?1, 'reminder', 'email', ?2, ?3, 'scheduled', ?3, ?4, ?4)"
        )
        short = 0
        n = 0
        randrange = rng.randrange
        for off in offsets:
            chosen: list[list[tuple[int, int]]] = []
            for pid in range(1, args.providers + 1):
                cands = candidates(pid, todays[pid - 1] + timedelta(days=off))
                k = min(args.per_day, len(cands))
                short += args.per_day - k
                picked = rng.sample(cands, k)
                chosen.append(picked)
            rows = []
            for k in range(args.per_day):
                for pid, picked in enumerate(chosen, start=1):
                    if k >= len(picked):
                        continue
                    s, e = picked[k]
                    n += 1
                    created = min(now, s - 86400 * (1 + (n % 14)))
                    rows.append((refs(n), pid, 1 + randrange(n_clients), s, e, created))
            conn.execute("BEGIN")
            first_id = (
                conn.execute("SELECT max(appointment_id) FROM appointments").fetchone()[0] or 0
            ) + 1
            conn.executemany(sql, rows)
            if args.jobs:
                jobs = []
                for i, (_, _, _, s, _, created) in enumerate(rows):
                    for lead in (1440, 60):
                        if s - lead * 60 >= now:
                            jobs.append((first_id + i, lead, s - lead * 60, created))
                conn.executemany(job_sql, jobs)
                stats["jobs"] += len(jobs)
            conn.execute("COMMIT")
            stats["appointments"] += len(rows)
            progress.update(task, advance=len(rows) + sum(args.per_day - len(c) for c in chosen))
            if not progress.console.is_terminal:  # a log line per day when not on a terminal
                print(
                    f"day {off:+d}: {stats['appointments']:,}/{total:,} appointments,"
                    f" {time.perf_counter() - t_start:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )

        # ---- indexes and triggers back, exactly as the migration wrote them ----------------
        task = progress.add_task("indexes", total=len(saved))
        t_idx = time.perf_counter()
        for _, _, ddl in saved:
            conn.execute(ddl)
            progress.advance(task)
        t_idx = time.perf_counter() - t_idx

    overlaps = None
    if not args.no_check:
        overlaps = conn.execute(
            "SELECT count(*) FROM (SELECT end_at, lead(start_at) OVER"
            " (PARTITION BY provider_id ORDER BY start_at) AS nxt FROM appointments"
            " WHERE status IN ('pending', 'confirmed')) WHERE nxt < end_at"
        ).fetchone()[0]
        if overlaps:
            raise SystemExit(f"generator bug: {overlaps} overlapping appointments")
    # No ANALYZE: bookctl never runs it, so the planner sees what it sees in production.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.close()
    connect(db).close()  # bookctl opens it as usual: WAL, schema current

    elapsed = time.perf_counter() - t_start
    size = os.path.getsize(db)
    meta = {
        "now": now,
        "now_iso": iso(now),
        "providers": args.providers,
        "days": args.days,
        "per_day": args.per_day,
        "clients": n_clients,
        "seed": args.seed,
        "jobs": args.jobs,
        "zones": ZONES,
        "profiles": [p.name for p in PROFILES],
        "day_offsets": [offsets[0], offsets[-1]] if args.days else [],
        "stats": {**stats, "short_days_slots": short, "overlaps": overlaps},
        "seconds": round(elapsed, 1),
        "index_seconds": round(t_idx, 1),
        "db_bytes": size,
    }
    meta_path(db).write_text(json.dumps(meta, indent=2) + "\n")
    print(
        f"{db}: {stats['appointments']:,} appointments, {args.providers:,} providers,"
        f" {stats['overrides']:,} overrides, {stats['jobs']:,} jobs;"
        f" {size / 2**30:.2f} GiB in {elapsed:.0f} s (indexes {t_idx:.0f} s)",
        file=sys.stderr,
    )
    return meta


def _hhmm(minute: int | None) -> str | None:
    if minute is None:
        return None
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _expand(prof: Profile, tz, day: date, overrides: list[Override]) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Free grid slots of one local day, through bookctl's own engine."""
    start, end = day_bounds(day, tz)
    exp = slots.expand(
        tz=tz,
        rules=prof.rules(),
        overrides=overrides,
        busy=[],
        window_start=start,
        window_end=end,
        now=0,
        settings=slots.Settings(
            buffer_minutes=prof.buffer,
            min_notice_minutes=0,
            max_advance_days=10**6,
            default_slot_minutes=prof.slot,
        ),
    )
    return [(s.start, s.end) for s in exp.slots]


if __name__ == "__main__":
    main()
