"""Reminder burst: --jobs reminder jobs all due at the same instant, sent by `bookctl reminders
run` through a local SMTP server (aiosmtpd) and a local webhook receiver.

    .venv/bin/python benchmarks/bench_reminders.py --db /tmp/bookctl-seed.db

* The burst: --jobs (20,000) 'reminder' jobs of confirmed future appointments, all with
  send_at = T0 (a few seconds after the daemon starts: it is idle and waiting when they come
  due), --webhook-share of them on the webhook channel, the rest by email.
* `bookctl reminders run` (the daemon, real clock) sends them; the script waits until every
  job of the burst is settled (sent, failed or expired) or --timeout passes, then stops it
  with SIGTERM and reads its peak memory (ru_maxrss from wait4).
* Figures: share of the burst sent within 60 s of T0 and p50/p99 lateness, both as the
  database records them (sent_at - send_at, whole seconds, what `reminders stats` reports)
  and as the receivers saw them (arrival - T0, sub-second); duplicates and missing ones;
  peak RSS of the daemon.
* The floor beside it: plain smtplib sends per second to the same server over one reused
  connection, and over as many connections in parallel as the daemon's --concurrency,
  building an EmailMessage per send; and the transport alone: bytes built beforehand,
  one connection (the daemon writes its emails as bytes, so it beats the first floor).

The burst's jobs stay in the database as 'sent' rows. Jobs already due that are not part of
the burst (e.g. confirmations queued by bench_booking.py) are parked (next_attempt_at moved
far ahead) while the burst runs and put back afterwards; --send-backlog sends them too.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.policy import SMTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bookctl_cmd, percentile, print_table, ratio, summary, write_report  # noqa: E402

JOB_RE = re.compile(rb"(\d+)")  # webhook-id "123", Message-ID "<job-123.REF@host>"
PARK = 10**10  # seconds added to a parked job's next_attempt_at
WEBHOOK_SECRET = "whsec_" + "YmVuY2htYXJrLXNlY3JldC1ub3QtYS1yZWFsLW9uZQ=="


class Arrivals:
    """Arrival time of each message, by job id; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first: dict[int, float] = {}
        self.duplicates = 0
        self.unparsed = 0
        self.count = 0

    def add(self, job_id: int | None) -> None:
        t = time.time()
        with self.lock:
            self.count += 1
            if job_id is None:
                self.unparsed += 1
            elif job_id in self.first:
                self.duplicates += 1
            else:
                self.first[job_id] = t

    def reset(self) -> None:
        with self.lock:
            self.first.clear()
            self.duplicates = self.unparsed = self.count = 0


def _job_of(text: bytes | str | None) -> int | None:
    if not text:
        return None
    m = JOB_RE.search(text.encode() if isinstance(text, str) else text)
    return int(m[1]) if m else None


def start_smtp(arrivals: Arrivals) -> tuple[Any, int]:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            content = envelope.original_content or envelope.content or b""
            head = content.split(b"\r\n\r\n", 1)[0]
            mid = re.search(rb"(?im)^message-id:\s*(\S+)", head)
            arrivals.add(_job_of(mid[1]) if mid else None)
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def start_webhook(arrivals: Arrivals) -> tuple[ThreadingHTTPServer, int]:
    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would allow

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            arrivals.add(_job_of(self.headers.get("webhook-id")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _floor_message(k: int, i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "bench@example.org"
    msg["To"] = f"client{i}@example.org"
    msg["Subject"] = "Reminder: your appointment tomorrow at 09:00"
    msg["Message-ID"] = f"<floor-{k}-{i}@example.org>"
    msg.set_content("Your appointment ABCD-EFGH-JKLMN is at 09:00.\n" * 12)
    return msg


def smtp_floor(
    port: int, messages: int, connections: int, prebuilt: bool = False
) -> dict[str, Any]:
    """Plain smtplib sends/s to the same server: `connections` reused connections in
    parallel, `messages` in all. Each message is an EmailMessage built in the timed loop,
    or with `prebuilt`, bytes built beforehand (the transport alone: the daemon writes its
    messages as bytes, so it can beat the first floor)."""

    per = max(1, messages // connections)
    built = [
        [_floor_message(k, i).as_bytes(policy=SMTP) for i in range(per)] if prebuilt else []
        for k in range(connections)
    ]

    def one_conn(n: int, k: int) -> list[float]:
        lat = []
        ready = built[k]
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for i in range(n):
                if prebuilt:
                    t0 = time.perf_counter()
                    smtp.sendmail("bench@example.org", [f"client{i}@example.org"], ready[i])
                else:
                    msg = _floor_message(k, i)
                    t0 = time.perf_counter()
                    smtp.send_message(msg)
                lat.append(time.perf_counter() - t0)
        return lat

    t0 = time.perf_counter()
    with ThreadPoolExecutor(connections) as ex:
        lats = list(ex.map(one_conn, [per] * connections, range(connections)))
    elapsed = time.perf_counter() - t0
    flat = [x for lat in lats for x in lat]
    return {
        "connections": connections,
        "messages": len(flat),
        "seconds": round(elapsed, 3),
        "sends_per_s": round(len(flat) / elapsed, 1),
        "latency": summary(flat),
    }


def _self_cpu() -> float:
    import resource

    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="reminder burst benchmark")
    ap.add_argument("--db", type=Path, default=Path("/tmp/bookctl-seed.db"))
    ap.add_argument("--jobs", type=int, default=20_000)
    ap.add_argument("--webhook-share", type=float, default=0.5)
    ap.add_argument("--lead-seconds", type=float, default=8.0, help="daemon start -> T0")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds after T0")
    ap.add_argument("--floor-messages", type=int, default=4000)
    ap.add_argument("--daemons", type=int, default=1, help="`reminders run` processes")
    ap.add_argument("--daemon-args", default="", help="extra options, e.g. '--concurrency 8'")
    ap.add_argument("--concurrency", type=int, default=4, help="floor's parallel connections")
    ap.add_argument(
        "--send-backlog",
        action="store_true",
        help="also send jobs already due before the burst (default: park them meanwhile)",
    )
    ap.add_argument("--report-name", default="reminders", help="results/<name>.json")
    ap.add_argument("--results", type=Path, default=None, help="report directory")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    from bookctl.store import connect, write

    arrivals = Arrivals()
    controller, smtp_port = start_smtp(arrivals)
    server, http_port = start_webhook(arrivals)

    # ---- the floor first, on the same server ------------------------------------------
    floor_1 = smtp_floor(smtp_port, args.floor_messages, 1)
    floor_n = smtp_floor(smtp_port, args.floor_messages, args.concurrency)
    floor_raw = smtp_floor(smtp_port, args.floor_messages, 1, prebuilt=True)
    arrivals.reset()

    # ---- the burst -----------------------------------------------------------------------
    conn = connect(args.db)
    real_now = int(time.time())
    t0 = real_now + int(args.lead_seconds) + 1
    with write(conn):
        rows = conn.execute(
            "SELECT appointment_id, start_at FROM appointments WHERE start_at > ?"
            " AND status = 'confirmed' ORDER BY start_at LIMIT ?",
            (t0 + 3 * 3600, args.jobs),
        ).fetchall()
        if len(rows) < args.jobs:
            raise SystemExit(f"only {len(rows)} future confirmed appointments in {args.db}")
        other_due = conn.execute(
            "SELECT count(*) FROM jobs WHERE status IN ('scheduled', 'sending')"
            " AND next_attempt_at <= ?",
            (t0 + 60,),
        ).fetchone()[0]
        first_id = (conn.execute("SELECT max(job_id) FROM jobs").fetchone()[0] or 0) + 1
        if other_due and not args.send_backlog:
            # park the backlog (e.g. bench_booking's confirmations) out of the way; restored
            # below, so the burst is measured alone
            conn.execute(
                "UPDATE jobs SET next_attempt_at = next_attempt_at + ? WHERE job_id < ?"
                " AND status IN ('scheduled', 'sending') AND next_attempt_at <= ?",
                (PARK, first_id, t0 + int(args.timeout)),
            )
        every = round(1 / args.webhook_share) if args.webhook_share > 0 else 0
        conn.executemany(
            "INSERT INTO jobs (job_id, appointment_id, kind, channel, lead_minutes, send_at,"
            " status, next_attempt_at, created_at, updated_at)"
            " VALUES (?, ?, 'reminder', ?, ?, ?, 'scheduled', ?, ?, ?)",
            [
                (
                    first_id + i,
                    aid,
                    "webhook" if every and i % every == 0 else "email",
                    (start - t0) // 60,
                    t0,
                    t0,
                    real_now,
                    real_now,
                )
                for i, (aid, start) in enumerate(rows)
            ],
        )
    last_id = first_id + args.jobs - 1
    n_webhook = sum(1 for i in range(args.jobs) if every and i % every == 0)

    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKCTL_")}
    env.update(
        BOOKCTL_SMTP_HOST="127.0.0.1",
        BOOKCTL_SMTP_PORT=str(smtp_port),
        BOOKCTL_SMTP_TLS="none",
        BOOKCTL_SMTP_FROM="bookings@example.org",
        BOOKCTL_WEBHOOK_URL=f"http://127.0.0.1:{http_port}/hook",
        BOOKCTL_WEBHOOK_SECRET=WEBHOOK_SECRET,
        BOOKCTL_CONFIG=str(args.db) + ".no-config.toml",
    )
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed once the daemons exit)
        prefix="bench-reminders-", suffix=".log", delete=False
    )
    cmd = [*bookctl_cmd(), "--db", str(args.db), "reminders", "run", *args.daemon_args.split()]
    rx_cpu0 = _self_cpu()
    daemons = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
        for _ in range(args.daemons)
    ]
    settled_sql = (
        "SELECT count(*) FROM jobs WHERE job_id BETWEEN ? AND ?"
        " AND status IN ('sent', 'failed', 'expired', 'cancelled')"
    )
    deadline = t0 + args.timeout
    settled = 0
    all_settled_at = None
    while time.time() < deadline:
        settled = conn.execute(settled_sql, (first_id, last_id)).fetchone()[0]
        if settled >= args.jobs:
            all_settled_at = time.time()
            break
        if any(d.poll() is not None for d in daemons):
            break
        time.sleep(0.5)
    cpu_s: list[float] = []
    rss_kb: list[int] = []
    exit_codes: list[int] = []
    for d in daemons:
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(d.pid, 0)
        d.returncode = os.waitstatus_to_exitcode(status)
        exit_codes.append(d.returncode)
        rss_kb.append(usage.ru_maxrss)
        cpu_s.append(usage.ru_utime + usage.ru_stime)
    rx_cpu = _self_cpu() - rx_cpu0
    log.close()
    if other_due and not args.send_backlog:
        with write(conn):
            conn.execute(
                "UPDATE jobs SET next_attempt_at = next_attempt_at - ? WHERE job_id < ?"
                " AND next_attempt_at > ?",
                (PARK, first_id, PARK),
            )

    # ---- figures ---------------------------------------------------------------------------
    rows = conn.execute(
        "SELECT job_id, status, sent_at - send_at, attempts FROM jobs WHERE job_id BETWEEN ? AND ?",
        (first_id, last_id),
    ).fetchall()
    by_status: dict[str, int] = {}
    for _, st, _, _ in rows:
        by_status[st] = by_status.get(st, 0) + 1
    late_db = [float(r[2]) for r in rows if r[1] == "sent" and r[2] is not None]
    on_time_db = sum(1 for x in late_db if x <= 60)
    ours = {j: t for j, t in arrivals.first.items() if first_id <= j <= last_id}
    late_rx = [t - t0 for t in ours.values()]
    on_time_rx = sum(1 for x in late_rx if x <= 60)
    span = (max(ours.values()) - min(ours.values())) if ours else 0.0
    results: dict[str, object] = {
        "burst": {
            "jobs": args.jobs,
            "webhook_jobs": n_webhook,
            "email_jobs": args.jobs - n_webhook,
            "other_due_jobs": other_due,
            "other_due_jobs_parked": bool(other_due and not args.send_backlog),
            "by_status": by_status,
            "all_settled": settled >= args.jobs,
            "all_settled_after_s": round(all_settled_at - t0, 2) if all_settled_at else None,
        },
        "db": {
            "sent_within_60s_share": round(on_time_db / args.jobs, 6),
            "p50_lateness_s": round(percentile(late_db, 50), 2) if late_db else None,
            "p99_lateness_s": round(percentile(late_db, 99), 2) if late_db else None,
            "max_lateness_s": max(late_db) if late_db else None,
        },
        "receivers": {
            "received": len(ours),
            "missing": args.jobs - len(ours),
            "duplicates": arrivals.duplicates,
            "unparsed": arrivals.unparsed,
            "within_60s_share": round(on_time_rx / args.jobs, 6),
            "p50_lateness_s": round(percentile(late_rx, 50), 3) if late_rx else None,
            "p99_lateness_s": round(percentile(late_rx, 99), 3) if late_rx else None,
            "first_arrival_s": round(min(late_rx), 3) if late_rx else None,
            "last_arrival_s": round(max(late_rx), 3) if late_rx else None,
            "sends_per_s": round(len(ours) / span, 1) if span else None,
        },
        "daemon": {
            "processes": args.daemons,
            "command": " ".join(cmd),
            "exit_codes": exit_codes,
            "peak_rss_mb": [round(kb / 1024, 1) for kb in rss_kb],
            "cpu_s": [round(c, 2) for c in cpu_s],
            "cpu_ms_per_job": round(sum(cpu_s) * 1000 / args.jobs, 3),
            # the receivers (aiosmtpd, http.server) run in this process, on the same cores
            "receivers_cpu_s": round(rx_cpu, 2),
            "log": log.name,
        },
        "floor_smtplib_1_connection": floor_1,
        f"floor_smtplib_{args.concurrency}_connections": floor_n,
        "floor_smtplib_prebuilt_1_connection": floor_raw,
    }
    rx = results["receivers"]
    assert isinstance(rx, dict)
    results["ratio_floor_over_daemon_sends_per_s"] = ratio(
        floor_1["sends_per_s"], rx["sends_per_s"] or 0
    )
    results["ratio_prebuilt_floor_over_daemon_sends_per_s"] = ratio(
        floor_raw["sends_per_s"], rx["sends_per_s"] or 0
    )
    params = {
        "db": str(args.db),
        "jobs": args.jobs,
        "webhook_share": args.webhook_share,
        "t0": t0,
        "lead_seconds": args.lead_seconds,
        "timeout": args.timeout,
        "daemons": args.daemons,
        "daemon_args": args.daemon_args,
        "floor_messages": args.floor_messages,
    }
    controller.stop()
    server.shutdown()
    path = write_report(args.report_name, params, results, args.results)
    db = results["db"]
    assert isinstance(db, dict)
    print_table(
        f"reminder burst: {args.jobs:,} jobs due at the same second",
        [
            ("sent within 60 s (db)", f"{db['sent_within_60s_share']:.2%}"),
            ("lateness p50 / p99 s (db)", f"{db['p50_lateness_s']} / {db['p99_lateness_s']}"),
            (
                "lateness p50 / p99 s (receivers)",
                f"{rx['p50_lateness_s']} / {rx['p99_lateness_s']}",
            ),
            ("missing / duplicates", f"{rx['missing']} / {rx['duplicates']}"),
            ("daemon sends/s", rx["sends_per_s"]),
            ("daemon peak RSS MB", results["daemon"]["peak_rss_mb"]),  # type: ignore[index]
            ("daemon CPU ms per job", results["daemon"]["cpu_ms_per_job"]),  # type: ignore[index]
            ("floor smtplib sends/s (1 conn)", floor_1["sends_per_s"]),
            (f"floor smtplib sends/s ({args.concurrency} conns)", floor_n["sends_per_s"]),
            ("floor smtplib, prebuilt bytes (1 conn)", floor_raw["sends_per_s"]),
            ("report", str(path)),
        ],
    )
    return results


if __name__ == "__main__":
    main()
