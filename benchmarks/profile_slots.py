"""Where a slot query's time goes: query plans, an in-process profile, start-up imports.

    .venv/bin/python benchmarks/profile_slots.py --db /tmp/bookctl-seed.db

* EXPLAIN QUERY PLAN of the statements a slot query runs (busy_intervals, get_rules,
  list_overrides, get_provider), with the parameters of a real provider;
* a split of Service.free_slots over --queries random providers: time in the SQL of each
  store function vs the pure engine (slots.expand), as medians;
* pyinstrument over the same queries (text report in the JSON, --html to keep a page);
* `python -X importtime -m bookctl slots ID --json`, --import-runs times: the median
  cumulative import time of the heaviest modules (one run is noise on a shared box).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import iso, load_meta, print_table, set_cache, summary, write_report  # noqa: E402

from bookctl.service import Service  # noqa: E402
from bookctl.store import appointments, catalog, connect  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="slot query profile")
    ap.add_argument("--db", type=Path, default=Path("/tmp/bookctl-seed.db"))
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--import-runs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--html", type=Path, default=None, help="write pyinstrument's HTML here")
    ap.add_argument("--cache", choices=("warm", "cold", "asis"), default="warm")
    ap.add_argument("--results", type=Path, default=None)
    return ap.parse_args(argv)


def plans(conn: Any, pid: int, window: tuple[int, int]) -> dict[str, list[str]]:
    start, end = window
    day = 86400
    stmts = {
        "busy_intervals": (
            "SELECT start_at, end_at FROM appointments"
            " WHERE provider_id = ? AND status IN ('pending', 'confirmed')"
            " AND start_at < ? AND start_at > ? AND end_at > ?",
            (pid, end + 2 * day, start - day, start),
        ),
        "get_rules": (
            "SELECT rule_id, provider_id, day_of_week, start_time, end_time,"
            " slot_duration_minutes, effective_from, effective_until FROM availability_rules"
            " WHERE provider_id = ? ORDER BY day_of_week, start_time, rule_id",
            (pid,),
        ),
        "list_overrides": (
            "SELECT override_id, provider_id, date, type, start_time, end_time,"
            " slot_duration_minutes FROM overrides WHERE provider_id = ?"
            " AND date >= ? AND date <= ? ORDER BY date, start_time, override_id",
            (pid, "2026-01-01", "2026-12-31"),
        ),
        "get_provider": (
            "SELECT * FROM providers WHERE provider_id = ? AND removed_at IS NULL",
            (pid,),
        ),
        "overlap_trigger_probe": (
            "SELECT 1 FROM appointments WHERE provider_id = ?"
            " AND status IN ('pending', 'confirmed') AND start_at < ? AND start_at > ?"
            " AND end_at > ?",
            (pid, start + 600, start - day, start),
        ),
    }
    out = {}
    for name, (sql, params) in stmts.items():
        rows = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        out[name] = [r[3] for r in rows]
    return out


def split(db: Path, now: int, pids: list[int]) -> dict[str, Any]:
    """Time each store call and the engine inside free_slots by wrapping them."""
    import bookctl.service as service_mod
    from bookctl import slots

    times: dict[str, list[float]] = defaultdict(list)
    current: dict[str, float] = defaultdict(float)

    def wrap(owner: Any, name: str, label: str) -> Any:
        orig = getattr(owner, name)

        def inner(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                current[label] += time.perf_counter() - t0

        setattr(owner, name, inner)
        return orig

    saved = [
        (appointments, "busy_intervals", wrap(appointments, "busy_intervals", "sql_busy")),
        (catalog, "get_rules", wrap(catalog, "get_rules", "sql_rules")),
        (catalog, "list_overrides", wrap(catalog, "list_overrides", "sql_overrides")),
        (catalog, "get_provider", wrap(catalog, "get_provider", "sql_provider")),
        (slots, "expand", wrap(slots, "expand", "engine_expand")),
    ]
    try:
        svc = Service(connect(db), now)
        for pid in pids:
            current.clear()
            t0 = time.perf_counter()
            svc.free_slots(pid, None, None)
            total = time.perf_counter() - t0
            times["total"].append(total)
            for k, v in current.items():
                times[k].append(v)
            times["other"].append(total - sum(current.values()))
    finally:
        for owner, name, orig in saved:
            setattr(owner, name, orig)
        del service_mod
    return {k: summary(v) for k, v in times.items()}


def profile(db: Path, now: int, pids: list[int], html: Path | None) -> str:
    from pyinstrument import Profiler

    svc = Service(connect(db), now)
    prof = Profiler(interval=0.0002)
    prof.start()
    for pid in pids:
        svc.free_slots(pid, None, None)
    prof.stop()
    if html:
        html.write_text(prof.output_html())
    return str(prof.output_text(unicode=False, color=False, show_all=False))


def import_times(db: Path, now: int, pid: int, runs: int) -> dict[str, Any]:
    cum: dict[str, list[int]] = defaultdict(list)
    self_: dict[str, list[int]] = defaultdict(list)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKCTL_")}
    env["BOOKCTL_NOW"] = iso(now)
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "bookctl", "--db", str(db), "slots",
             str(pid), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )  # fmt: skip
        walls.append(time.perf_counter() - t0)
        for line in out.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            parts = line[len("import time:") :].split("|")
            try:
                s, c = int(parts[0]), int(parts[1])
            except ValueError:
                continue
            name = parts[2].strip()
            cum[name].append(c)
            self_[name].append(s)
    med = {name: statistics.median(v) / 1000 for name, v in cum.items()}
    top = sorted(med.items(), key=lambda kv: -kv[1])[:40]
    total_self = sum(statistics.median(v) for v in self_.values()) / 1000
    return {
        "runs": runs,
        "wall_with_importtime": summary(walls),
        "sum_of_self_import_ms_median": round(total_self, 1),
        "top_cumulative_ms_median": {k: round(v, 2) for k, v in top},
        "bookctl_modules_ms_median": {
            k: round(v, 2) for k, v in sorted(med.items()) if k.startswith("bookctl")
        },
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    meta = load_meta(args.db)
    now = int(meta["now"])
    os_cache = set_cache(args.db, args.cache)
    rng = random.Random(args.seed)
    n = int(meta["providers"])
    pids = [rng.randrange(1, n + 1) for _ in range(args.queries)]
    conn = connect(args.db)
    svc = Service(conn, now)
    window = svc.free_slots(pids[0], None, None).window
    results: dict[str, object] = {
        "plans": plans(conn, pids[0], window),
        "split": split(args.db, now, pids),
        "pyinstrument": profile(args.db, now, pids, args.html),
        "imports": import_times(args.db, now, pids[0], args.import_runs),
        "indexes": [
            r[0]
            for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        ],
        "page_size": conn.execute("PRAGMA page_size").fetchone()[0],
        "page_count": conn.execute("PRAGMA page_count").fetchone()[0],
        "cache_size": conn.execute("PRAGMA cache_size").fetchone()[0],
    }
    try:
        results["dbstat"] = [
            {"name": r[0], "pages": r[1], "mb": round(r[2] / 2**20, 1)}
            for r in conn.execute(
                "SELECT name, count(*), sum(pgsize) FROM dbstat GROUP BY name ORDER BY 3 DESC"
            )
        ]
    except Exception as exc:  # dbstat is a compile-time option of SQLite
        results["dbstat"] = f"unavailable: {exc}"
    params = {"db": str(args.db), "queries": args.queries, "import_runs": args.import_runs,
              "seed": args.seed, "now": iso(now), "os_cache": os_cache}  # fmt: skip
    path = write_report("profile_slots", params, results, args.results)
    sp = results["split"]
    assert isinstance(sp, dict)
    rows = [(f"{k} p50 / p99 ms", f"{v['p50_ms']} / {v['p99_ms']}") for k, v in sp.items()]
    imp = results["imports"]
    assert isinstance(imp, dict)
    rows.append(("start-up: bookctl.cli import ms (median)",
                 imp["top_cumulative_ms_median"].get("bookctl.cli")))  # fmt: skip
    for name, plan in results["plans"].items():  # type: ignore[attr-defined]
        rows.append((f"plan {name}", " / ".join(plan)))
    rows.append(("report", str(path)))
    print_table("slot query profile", rows)
    return results


if __name__ == "__main__":
    main()
