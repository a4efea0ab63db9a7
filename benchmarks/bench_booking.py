"""Booking: throughput of several booking processes, and the contested slot.

    .venv/bin/python benchmarks/bench_booking.py --db /tmp/bookctl-seed.db

* Throughput: --workers processes, each with its own connection, book distinct free slots
  (Service.book, what `bookctl book` runs: BEGIN IMMEDIATE, re-check the slot, insert the
  appointment, its event and its jobs, COMMIT with synchronous=FULL) for --seconds seconds.
  Slots come from the free slots of random providers over the next 7 days; each provider
  belongs to one worker, so no two workers ever want the same slot. Bookings/s and latency.
* The floor beside it: the same number of processes doing raw single-row INSERT
  transactions (BEGIN IMMEDIATE; INSERT; COMMIT) into a scratch file in the same directory
  with bookctl's settings (WAL, synchronous=FULL, the same busy timeout).
* Contested: --contested-procs processes wait on a barrier, then all book the same free
  slot; over --contested-rounds rounds, exactly one must succeed each time, the others get
  slot_taken, and the database must hold exactly one active appointment there.

The bookings made stay in the database (they are real bookings); rerunning picks other
free slots.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    add_common_args,
    iso,
    load_meta,
    print_table,
    ratio,
    set_cache,
    summary,
    write_report,
)

ACTIVE = "status IN ('pending', 'confirmed')"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="booking benchmark")
    add_common_args(ap, report="booking", seed=2)
    ap.add_argument("--workers", type=int, default=4, help="booking processes")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each timed phase")
    ap.add_argument("--providers", type=int, default=300, help="random providers to book at")
    ap.add_argument("--contested-procs", type=int, default=8)
    ap.add_argument("--contested-rounds", type=int, default=20)
    return ap.parse_args(argv)


# ---- worker processes (module level: spawn imports this file) ------------------------------


def _book_worker(
    db: str,
    now: int,
    todo: list[tuple[int, str]],
    clients: list[int],
    seconds: float,
    barrier: Any,
    out: Any,
) -> None:
    from bookctl.errors import BookctlError
    from bookctl.service import Service
    from bookctl.store import connect

    conn = connect(db)
    svc = Service(conn, now)
    lat: list[float] = []
    codes: Counter[str] = Counter()
    barrier.wait()
    t_start = time.perf_counter()
    deadline = t_start + seconds
    for i, (pid, start) in enumerate(todo):
        if time.perf_counter() >= deadline:
            break
        t0 = time.perf_counter()
        try:
            svc.book(pid, start, clients[i % len(clients)])
            codes["ok"] += 1
        except BookctlError as exc:
            codes[exc.code] += 1
        lat.append(time.perf_counter() - t0)
    out.put((lat, dict(codes), time.perf_counter() - t_start, len(todo)))


def _floor_worker(path: str, seconds: float, barrier: Any, out: Any) -> None:
    from bookctl.store.db import BUSY_TIMEOUT_MS

    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    lat: list[float] = []
    barrier.wait()
    t_start = time.perf_counter()
    deadline = t_start + seconds
    i = 0
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO t (provider_id, start_at, end_at, note) VALUES (?, ?, ?, ?)",
            (i, i, i + 600, "floor"),
        )
        conn.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
        i += 1
    out.put((lat, {"ok": len(lat)}, time.perf_counter() - t_start, i))


def _contest_worker(db: str, now: int, client: int, barrier: Any, jobs: Any, out: Any) -> None:
    from bookctl.errors import BookctlError
    from bookctl.service import Service
    from bookctl.store import connect

    conn = connect(db)
    while True:
        job = jobs.get()
        if job is None:
            return
        pid, start = job
        svc = Service(conn, now)
        barrier.wait()
        try:
            svc.book(pid, start, client)
            out.put("ok")
        except BookctlError as exc:
            out.put(exc.code)


def _run(ctx: Any, target: Any, per_worker: list[tuple[Any, ...]]) -> list[Any]:
    barrier = ctx.Barrier(len(per_worker))
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, out)) for a in per_worker]
    for p in procs:
        p.start()
    got = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return got


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    meta = load_meta(args.db)
    os_cache = set_cache(args.db, args.cache)
    now = int(meta["now"])
    n_providers = int(meta["providers"])
    n_clients = int(meta["clients"])
    rng = random.Random(args.seed)
    ctx = mp.get_context("spawn")

    from bookctl.service import Service
    from bookctl.store import connect

    conn = connect(args.db)
    svc = Service(conn, now)
    pool = rng.sample(range(1, n_providers + 1), min(args.providers, n_providers))
    free: dict[int, list[str]] = {}
    for pid in pool:
        starts = [iso(s.start) for s in svc.free_slots(pid, None, None).expansion.slots]
        rng.shuffle(starts)
        free[pid] = starts
    n_contest = args.contested_rounds
    contest_pids = [pid for pid in pool if free[pid]][:n_contest]
    contested = [(pid, free[pid].pop()) for pid in contest_pids]
    clients = [rng.randrange(1, n_clients + 1) for _ in range(1000)]

    # ---- throughput: distinct free slots, providers partitioned between workers ----------
    todo: list[list[tuple[int, str]]] = [[] for _ in range(args.workers)]
    for i, pid in enumerate(pool):
        todo[i % args.workers].extend((pid, s) for s in free[pid])
    for t in todo:
        rng.shuffle(t)
    before = conn.execute(f"SELECT count(*) FROM appointments WHERE {ACTIVE}").fetchone()[0]
    got = _run(
        ctx,
        _book_worker,
        [(str(args.db), now, t, clients, args.seconds) for t in todo],
    )
    lat = [x for g in got for x in g[0]]
    codes: Counter[str] = Counter()
    for g in got:
        codes.update(g[1])
    elapsed = max(g[2] for g in got)
    ran_out = any(len(g[0]) >= g[3] for g in got)
    after = conn.execute(f"SELECT count(*) FROM appointments WHERE {ACTIVE}").fetchone()[0]
    booking = {
        "bookings": codes["ok"],
        "seconds": round(elapsed, 3),
        "bookings_per_s": round(codes["ok"] / elapsed, 1) if elapsed else None,
        "latency": summary(lat),
        "outcomes": dict(codes),
        "rows_added": after - before,
        "ran_out_of_slots": ran_out,
        # SQLite's busy handler is not a queue: a waiting writer sleeps and can be passed over
        "per_worker_bookings": [len(g[0]) for g in got],
        "per_worker_max_ms": [round(max(g[0]) * 1000, 1) if g[0] else None for g in got],
    }

    # ---- the floor: raw single-row INSERT transactions, same settings, same directory ----
    floor_db = Path(str(args.db) + ".floor.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(floor_db) + suffix).unlink(missing_ok=True)
    fc = sqlite3.connect(floor_db, isolation_level=None)
    fc.execute("PRAGMA journal_mode = WAL")
    fc.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, provider_id INTEGER, start_at INTEGER,"
        " end_at INTEGER, note TEXT)"
    )
    fc.close()
    got = _run(ctx, _floor_worker, [(str(floor_db), args.seconds) for _ in range(args.workers)])
    flat = [x for g in got for x in g[0]]
    f_elapsed = max(g[2] for g in got)
    floor = {
        "transactions": len(flat),
        "seconds": round(f_elapsed, 3),
        "transactions_per_s": round(len(flat) / f_elapsed, 1) if f_elapsed else None,
        "latency": summary(flat),
        "per_worker_transactions": [len(g[0]) for g in got],
        "per_worker_max_ms": [round(max(g[0]) * 1000, 1) if g[0] else None for g in got],
    }
    for suffix in ("", "-wal", "-shm"):
        Path(str(floor_db) + suffix).unlink(missing_ok=True)

    # ---- contested: many processes, one slot, exactly one winner -------------------------
    barrier = ctx.Barrier(args.contested_procs)
    out = ctx.Queue()
    queues = [ctx.Queue() for _ in range(args.contested_procs)]
    client = clients[0]
    procs = [
        ctx.Process(target=_contest_worker, args=(str(args.db), now, client, barrier, q, out))
        for q in queues
    ]
    for p in procs:
        p.start()
    rounds = []
    for pid, start in contested:
        for q in queues:
            q.put((pid, start))
        outcome = Counter(out.get() for _ in procs)
        start_at = int(_epoch(start))
        end_at = (
            conn.execute(
                f"SELECT max(end_at) FROM appointments WHERE provider_id = ? AND start_at = ?"
                f" AND {ACTIVE}",
                (pid, start_at),
            ).fetchone()[0]
            or start_at + 1
        )
        in_db = conn.execute(
            f"SELECT count(*) FROM appointments WHERE provider_id = ? AND {ACTIVE}"
            " AND start_at < ? AND end_at > ?",
            (pid, end_at, start_at),
        ).fetchone()[0]
        rounds.append(
            {
                "provider_id": pid,
                "start": start,
                "outcomes": dict(outcome),
                "active_rows_in_db": in_db,
            }
        )
    for q in queues:
        q.put(None)
    for p in procs:
        p.join()
    successes = [r["outcomes"].get("ok", 0) for r in rounds]

    # double bookings anywhere at the providers this run touched
    overlaps = 0
    for pid in pool:
        overlaps += conn.execute(
            "SELECT count(*) FROM (SELECT end_at, lead(start_at) OVER (ORDER BY start_at) AS nxt"
            f" FROM appointments WHERE provider_id = ? AND {ACTIVE}) WHERE nxt < end_at",
            (pid,),
        ).fetchone()[0]
    contest = {
        "processes": args.contested_procs,
        "rounds": len(rounds),
        "successes_per_round": successes,
        "exactly_one_every_round": all(s == 1 for s in successes)
        and all(r["active_rows_in_db"] == 1 for r in rounds),
        "outcomes": dict(sum((Counter(r["outcomes"]) for r in rounds), Counter())),
        "double_bookings_at_touched_providers": overlaps,
    }
    results: dict[str, object] = {
        "booking": booking,
        "floor_insert": floor,
        "ratio_throughput_floor_over_booking": ratio(
            floor["transactions_per_s"] or 0, booking["bookings_per_s"] or 0
        ),
        "ratio_p99_booking_over_floor": ratio(
            booking["latency"].get("p99_ms", 0), floor["latency"].get("p99_ms", 0)
        ),
        "contested": contest,
    }
    params = {
        "db": str(args.db),
        "providers_in_db": n_providers,
        "now": iso(now),
        "workers": args.workers,
        "seconds": args.seconds,
        "providers_booked_at": len(pool),
        "contested_procs": args.contested_procs,
        "contested_rounds": args.contested_rounds,
        "seed": args.seed,
        "os_cache": os_cache,
        "settings": "WAL, synchronous=FULL, busy_timeout 30 s (bookctl.store.connect)",
    }
    path = write_report(args.report_name, params, results, args.results)
    bl, fl = booking["latency"], floor["latency"]
    print_table(
        f"booking: {args.workers} processes for {args.seconds:g} s",
        [
            ("bookings/s", booking["bookings_per_s"]),
            ("booking latency p50 / p99 ms", f"{bl.get('p50_ms')} / {bl.get('p99_ms')}"),
            ("floor INSERT tx/s", floor["transactions_per_s"]),
            ("floor latency p50 / p99 ms", f"{fl.get('p50_ms')} / {fl.get('p99_ms')}"),
            ("floor / booking throughput", results["ratio_throughput_floor_over_booking"]),
            (
                f"contested: successes per round ({args.contested_procs} procs)",
                ",".join(map(str, successes)),
            ),
            ("exactly one winner every round", contest["exactly_one_every_round"]),
            ("double bookings", overlaps),
            ("report", str(path)),
        ],
    )
    return results


def _epoch(text: str) -> int:
    from bookctl.timeutil import parse_instant

    return parse_instant(text, None)


if __name__ == "__main__":
    main()
