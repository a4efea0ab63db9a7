"""Keep the benchmark scripts working: generate + bench_slots + bench_booking at tiny scale.

Figures are never asserted here (SPEC section 8: performance is measured by the benchmarks,
not by timed tests); only that the scripts run, the data is valid and the reports hold their
fields.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, f"{script} failed:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("bench") / "seed.db"
    _run(
        "generate.py",
        "--db", str(db), "--providers", "5", "--days", "2", "--now", "2026-03-29T12:00:00Z",
    )  # fmt: skip
    return db


def test_generate_fills_the_real_schema(seeded: Path) -> None:
    meta = json.loads(Path(str(seeded) + ".meta.json").read_text())
    assert meta["providers"] == 5 and meta["days"] == 2 and meta["per_day"] == 100
    conn = sqlite3.connect(seeded)
    from bookctl.store.schema import MIGRATIONS

    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    per_provider_day = conn.execute(
        "SELECT count(*) FROM appointments WHERE status = 'confirmed'"
    ).fetchone()[0]
    assert per_provider_day == 5 * 2 * 100
    refs = conn.execute("SELECT count(DISTINCT booking_ref) FROM appointments").fetchone()[0]
    assert refs == 5 * 2 * 100
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    # dropped for the load, re-created from the migration's own SQL
    assert {"appointments_one_active_start", "appointments_no_overlap_insert"} <= names
    assert conn.execute("SELECT count(*) FROM overrides").fetchone()[0] >= 0
    zones = {r[0] for r in conn.execute("SELECT DISTINCT timezone FROM providers")}
    assert zones


def test_bench_slots_report(seeded: Path, tmp_path: Path) -> None:
    _run(
        "bench_slots.py",
        "--db", str(seeded), "--queries", "10", "--warmup", "2", "--cli-runs", "2",
        "--results", str(tmp_path),
    )  # fmt: skip
    doc = json.loads((tmp_path / "slots.json").read_text())
    assert {"command", "machine", "params", "results"} <= set(doc)
    r = doc["results"]
    for key in ("in_process", "floor_select", "cli", "cli_process_floor"):
        assert {"p50_ms", "p99_ms", "n"} <= set(r[key]), key
    assert r["ratio_p50"] is not None and r["ratio_p99"] is not None
    assert r["cli_slot_count_mismatches"] == 0
    assert r["busy_rows_per_query"]["mean"] > 0


def test_bench_booking_report(seeded: Path, tmp_path: Path) -> None:
    _run(
        "bench_booking.py",
        "--db", str(seeded), "--workers", "2", "--seconds", "0.5", "--providers", "5",
        "--contested-procs", "3", "--contested-rounds", "2", "--results", str(tmp_path),
    )  # fmt: skip
    doc = json.loads((tmp_path / "booking.json").read_text())
    r = doc["results"]
    assert r["booking"]["bookings"] > 0
    assert r["booking"]["outcomes"].get("slot_taken", 0) == 0
    assert r["floor_insert"]["transactions"] > 0
    assert {"p50_ms", "p99_ms"} <= set(r["booking"]["latency"])
    assert r["contested"]["rounds"] == 2
    assert r["contested"]["exactly_one_every_round"] is True
    assert r["contested"]["double_bookings_at_touched_providers"] == 0
