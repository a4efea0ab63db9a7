"""Helpers shared by the benchmark scripts: percentiles, the machine, the JSON report.

Every script writes one report to benchmarks/results/<name>.json (or --results DIR) holding
the machine it ran on, its parameters, the exact command line and its figures, so a
published number can always be traced back to the run that produced it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def summary(values_s: Sequence[float]) -> dict[str, float]:
    """Latency summary in milliseconds from values in seconds."""
    ms = [v * 1000 for v in values_s]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "min_ms": round(min(ms), 3),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty-src" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    """Where the figures come from: a 2-core shared box is not a 32-core server."""
    info: dict[str, Any] = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "git_commit": _git_commit(),
    }
    with contextlib.suppress(OSError):
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_kb"] = int(line.split()[1])
                break
    except OSError:
        pass
    return info


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])


def write_report(
    name: str, params: dict[str, Any], results: dict[str, Any], results_dir: Path | None = None
) -> Path:
    """benchmarks/results/<name>.json: machine, parameters, command line, figures."""
    out_dir = Path(results_dir) if results_dir else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": name,
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command_line(),
        "machine": machine(),
        "params": params,
        "results": results,
    }
    path = out_dir / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    return path


def meta_path(db: Path) -> Path:
    """The generator's side file: the clock it used, the providers and days it filled."""
    return Path(str(db) + ".meta.json")


def load_meta(db: Path) -> dict[str, Any]:
    p = meta_path(db)
    if not p.exists():
        raise SystemExit(f"{p} not found: generate the database first (benchmarks/generate.py)")
    return dict(json.loads(p.read_text()))


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def print_table(title: str, rows: Sequence[tuple[str, Any]]) -> None:
    """A short two-column summary on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in rows:
        table.add_row(key, str(value))
    Console().print(table)


def bookctl_cmd() -> list[str]:
    """The installed console script next to this interpreter, else `python -m bookctl`."""
    script = Path(sys.executable).with_name("bookctl")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bookctl"]


def drop_cache(db: Path) -> None:
    """Evict the database file from the OS page cache (what a minute idle does on the reference
    VM): every page a query needs is then read from the disk."""
    for suffix in ("", "-wal"):
        p = Path(str(db) + suffix)
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def set_cache(db: Path, mode: str) -> str:
    """--cache warm (read the file first), cold (evict it first) or asis."""
    if mode == "warm":
        return f"warm (file read in {prewarm(db)} s)"
    if mode == "cold":
        drop_cache(db)
        return "cold (evicted with posix_fadvise DONTNEED)"
    return "as found"


def prewarm(db: Path) -> float:
    """Read the database file once so the OS page cache holds it; returns the seconds taken.
    Without it a run measures whatever the kernel kept: on the reference VM a DAMON
    'pageout' scheme evicts pages idle for about a minute, so the first queries after a pause
    read from the virtual disk."""
    t0 = time.perf_counter()
    for suffix in ("", "-wal"):
        p = Path(str(db) + suffix)
        if p.exists():
            with open(p, "rb", buffering=0) as f:
                while f.read(8 << 20):
                    pass
    return round(time.perf_counter() - t0, 2)


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0


def add_common_args(ap: argparse.ArgumentParser, report: str, seed: int) -> None:
    """The options every seed-scale benchmark shares: database, seed, cache state, report."""
    ap.add_argument("--db", type=Path, default=Path("/tmp/bookctl-seed.db"))
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument(
        "--cache",
        choices=("warm", "cold", "asis"),
        default="warm",
        help="OS page cache before measuring: warm (read the file), cold (evict it), asis",
    )
    ap.add_argument("--report-name", default=report, help="results/<name>.json")
    ap.add_argument("--results", type=Path, default=None, help="report directory")
