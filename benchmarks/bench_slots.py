"""Slot queries: one provider, the default window (today through 7 days on), random providers.

    .venv/bin/python benchmarks/bench_slots.py --db /tmp/bookctl-seed.db

Measures, over --queries random providers (each query its own provider):
* in-process: Service(conn, now).free_slots(pid, None, None), what `bookctl slots` runs;
* the floor beside it: the bare indexed SELECT of that provider's active appointments in the
  same window (start_at, end_at), on its own connection, in alternating order so neither
  side warms the cache for the other; the ratio of the two;
* the whole process: `bookctl slots ID --json` (BOOKCTL_NOW = the generator's clock), its
  median wall time over --cli-runs runs, beside the same floor as a process (python +
  sqlite3 + that SELECT + json) and a bare `python -c pass`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    add_common_args,
    bookctl_cmd,
    iso,
    load_meta,
    percentile,
    print_table,
    ratio,
    set_cache,
    summary,
    write_report,
)

from bookctl.service import Service  # noqa: E402
from bookctl.store import connect  # noqa: E402

FLOOR_SQL = (
    "SELECT start_at, end_at FROM appointments WHERE provider_id = ?"
    " AND status IN ('pending', 'confirmed') AND start_at >= ? AND start_at < ?"
)

FLOOR_PROCESS = f"""
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute({FLOOR_SQL!r}, (int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
print(json.dumps([{{"start_at": s, "end_at": e}} for s, e in rows]))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="slot query benchmark")
    add_common_args(ap, report="slots", seed=1)
    ap.add_argument("--queries", type=int, default=1000, help="random providers, in-process")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--cli-runs", type=int, default=30, help="whole `bookctl slots` processes")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    meta = load_meta(args.db)
    os_cache = set_cache(args.db, args.cache)
    now = int(meta["now"])
    n_providers = int(meta["providers"])
    rng = random.Random(args.seed)

    def pick(k: int) -> list[int]:
        if k <= n_providers:
            return rng.sample(range(1, n_providers + 1), k)
        return [rng.randrange(1, n_providers + 1) for _ in range(k)]

    svc_conn = connect(args.db)
    floor_conn = connect(args.db)
    svc = Service(svc_conn, now)

    def one(pid: int, svc_first: bool) -> tuple[float, float, int, int, tuple[int, int]]:
        def service() -> tuple[float, int, tuple[int, int]]:
            t0 = time.perf_counter()
            ans = svc.free_slots(pid, None, None)
            return time.perf_counter() - t0, len(ans.expansion.slots), ans.window

        def floor(window: tuple[int, int]) -> tuple[float, int]:
            t0 = time.perf_counter()
            rows = floor_conn.execute(FLOOR_SQL, (pid, *window)).fetchall()
            return time.perf_counter() - t0, len(rows)

        if svc_first:
            ts, n_slots, window = service()
            tf, n_rows = floor(window)
        else:
            # the window is known before the query runs: it is computed from the clock
            window = _window(svc, pid)
            tf, n_rows = floor(window)
            ts, n_slots, window2 = service()
            assert window2 == window
        return ts, tf, n_slots, n_rows, window

    for i, pid in enumerate(pick(args.warmup)):
        one(pid, i % 2 == 0)

    t_service: list[float] = []
    t_floor: list[float] = []
    n_slots: list[int] = []
    n_rows: list[int] = []
    for i, pid in enumerate(pick(args.queries)):
        ts, tf, ns, nr, _ = one(pid, i % 2 == 0)
        t_service.append(ts)
        t_floor.append(tf)
        n_slots.append(ns)
        n_rows.append(nr)

    # ---- whole processes -------------------------------------------------------------------
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKCTL_")}
    env["BOOKCTL_NOW"] = iso(now)
    env["BOOKCTL_CONFIG"] = str(args.db) + ".no-config.toml"
    cmd = bookctl_cmd()
    # Byte-compile bookctl first, as a regular `pip install` does: an editable install on a
    # machine with PYTHONDONTWRITEBYTECODE=1 (this one) would otherwise recompile every
    # module in every process and measure the compiler, not the command.
    import bookctl

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(bookctl.__file__).parent)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    t_cli: list[float] = []
    t_proc_floor: list[float] = []
    t_python: list[float] = []
    mismatches = 0
    for pid in pick(args.cli_runs):
        window = _window(svc, pid)
        t0 = time.perf_counter()
        out = subprocess.run(
            [*cmd, "--db", str(args.db), "slots", str(pid), "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        t_cli.append(time.perf_counter() - t0)
        if out.returncode != 0:
            raise SystemExit(f"bookctl slots {pid} failed: {out.stderr.strip()}")
        expected = len(svc.free_slots(pid, None, None).expansion.slots)
        if len(json.loads(out.stdout)) != expected:
            mismatches += 1
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", FLOOR_PROCESS, str(args.db), str(pid), *map(str, window)],
            env=env,
            capture_output=True,
            check=True,
        )
        t_proc_floor.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        t_python.append(time.perf_counter() - t0)

    s_service, s_floor = summary(t_service), summary(t_floor)
    s_cli, s_pfloor, s_py = summary(t_cli), summary(t_proc_floor), summary(t_python)
    results: dict[str, object] = {
        "in_process": s_service,
        "floor_select": s_floor,
        "ratio_p50": ratio(s_service["p50_ms"], s_floor["p50_ms"]),
        "ratio_p99": ratio(s_service["p99_ms"], s_floor["p99_ms"]),
        "slots_per_query": {
            "mean": round(sum(n_slots) / max(1, len(n_slots)), 1),
            "p50": percentile(n_slots, 50),
        },
        "busy_rows_per_query": {
            "mean": round(sum(n_rows) / max(1, len(n_rows)), 1),
            "p50": percentile(n_rows, 50),
        },
        "cli": s_cli,
        "cli_process_floor": s_pfloor,
        "python_startup": s_py,
        "cli_ratio_p50": ratio(s_cli.get("p50_ms", 0), s_pfloor.get("p50_ms", 0)),
        "cli_slot_count_mismatches": mismatches,
        "targets": {
            "in_process_p99_under_10ms": s_service["p99_ms"] < 10,
            "in_process_within_5x_floor_p99": (ratio(s_service["p99_ms"], s_floor["p99_ms"]) or 0)
            <= 5,
            "cli_median_under_150ms": s_cli.get("p50_ms", 1e9) < 150,
            "spec_p99_under_200ms": s_service["p99_ms"] < 200,
        },
    }
    params = {
        "db": str(args.db),
        "db_bytes": os.path.getsize(args.db),
        "providers": n_providers,
        "days": meta["days"],
        "per_day": meta["per_day"],
        "now": iso(now),
        "queries": args.queries,
        "warmup": args.warmup,
        "cli_runs": args.cli_runs,
        "seed": args.seed,
        "os_cache": os_cache,
        "bytecode": "compiled first (python -m compileall), as a regular install does",
        "window": "default: provider-local today through 7 days on",
    }
    path = write_report(args.report_name, params, results, args.results)
    print_table(
        f"slot queries: {args.queries} random providers of {n_providers:,}",
        [
            ("in-process p50 / p99 ms", f"{s_service['p50_ms']} / {s_service['p99_ms']}"),
            ("floor SELECT p50 / p99 ms", f"{s_floor['p50_ms']} / {s_floor['p99_ms']}"),
            ("ratio p50 / p99", f"{results['ratio_p50']} / {results['ratio_p99']}"),
            (
                "busy rows / free slots per query",
                f"{results['busy_rows_per_query']['mean']} / {results['slots_per_query']['mean']}",
            ),
            (f"`bookctl slots --json` median ms ({len(t_cli)} runs)", s_cli.get("p50_ms")),
            ("process floor median ms", s_pfloor.get("p50_ms")),
            ("python -c pass median ms", s_py.get("p50_ms")),
            ("report", str(path)),
        ],
    )
    return results


def _window(svc: Service, pid: int) -> tuple[int, int]:
    """The window free_slots uses by default (provider-local today .. 7 days on)."""
    from datetime import timedelta

    from bookctl.timeutil import day_bounds, local_date, zone

    tz = zone(svc.provider(pid).timezone)
    today = local_date(svc.now, tz)
    return day_bounds(today, tz)[0], day_bounds(today + timedelta(days=7), tz)[1]


if __name__ == "__main__":
    main()
