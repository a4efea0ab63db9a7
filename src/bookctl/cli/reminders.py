"""`reminders run|list|stats` (the outbox daemon and its figures) and `config show`."""

from __future__ import annotations

import os
from typing import Any

import typer

from bookctl.cli.common import JSON_OPTION, State, handles_errors, now

reminders_app = typer.Typer(help="Send confirmations and reminders; list jobs; on-time figures.")
config_app = typer.Typer(help="Show the effective settings (secrets masked).")

ON_TIME_SECONDS = 60


def _env_float(name: str, default: float) -> float:
    from bookctl.errors import InvalidInput

    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"invalid {name} {text!r}: a number of seconds") from None
    if value < 0:
        raise InvalidInput(f"invalid {name} {text!r}: must be >= 0")
    return value


def _describe(settings: Any, channels: list[str]) -> str:
    """What the daemon sends through, without secrets (a webhook URL may carry a token in
    its path or query, so only its scheme and host are shown)."""
    from urllib.parse import urlsplit

    parts = []
    if "email" in channels:
        parts.append(
            f"email via {settings.smtp_host}:{settings.smtp_port or '-'} ({settings.smtp_tls})"
        )
    if "webhook" in channels:
        u = urlsplit(settings.webhook_url)
        parts.append(f"webhook to {u.scheme}://{u.hostname}")
    return ", ".join(parts)


@reminders_app.command("run")
@handles_errors
def run(
    once: bool = typer.Option(False, "--once", help="Send what is due, then exit (for cron)."),
    batch: int = typer.Option(20, "--batch", min=1, max=1000, help="Jobs claimed at a time."),
    lease_seconds: float = typer.Option(
        30.0,
        "--lease-seconds",
        min=0.5,
        help="How long a claim holds before another worker may take the job (renewed while"
        " sending; it matters only when a worker dies).",
    ),
    concurrency: int = typer.Option(4, "--concurrency", min=1, max=64, help="Sending threads."),
    as_json: bool = typer.Option(
        False, "--json", help="On exit, print what was done as one JSON document."
    ),
) -> None:
    """The reminder daemon: claims due jobs and sends them; SIGTERM/SIGINT finish what is in
    flight and exit 0. Several may run at once. Retry backoff base: BOOKCTL_RETRY_BASE_SECONDS
    (default 5: retries after ~5 s and ~20 s)."""
    from bookctl.config import db_path, load_settings
    from bookctl.errors import InvalidInput
    from bookctl.notify.worker import Clock, Options, Worker, configured_channels, stderr_log
    from bookctl.store import connect

    settings = load_settings()
    channels = configured_channels(settings)
    if not channels:
        raise InvalidInput(
            "nothing to send with: set BOOKCTL_SMTP_HOST and/or BOOKCTL_WEBHOOK_URL"
            " (or [smtp] / [webhook] in the config file; see `bookctl config show`)"
        )
    options = Options(
        batch=batch,
        lease_seconds=lease_seconds,
        concurrency=concurrency,
        retry_base=_env_float("BOOKCTL_RETRY_BASE_SECONDS", 5.0),
        once=once,
    )
    fixed = now() if os.environ.get("BOOKCTL_NOW") else None
    conn = connect(db_path(State.db))
    stderr_log(
        f"bookctl reminders: {'once' if once else 'running'} (pid {os.getpid()}):"
        f" {_describe(settings, channels)}"
    )
    summary = Worker(conn, settings, options, clock=Clock(fixed)).run()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items())) or "nothing due"
    stderr_log(f"bookctl reminders: stopped: {counts}")
    if as_json:
        from bookctl import output

        output.emit_json(dict(sorted(summary.counts.items())))


@reminders_app.command("list")
@handles_errors
def list_jobs(
    status: str | None = typer.Option(None, "--status", help="Only jobs with this status."),
    kind: str | None = typer.Option(
        None, "--kind", help="Only confirmation, reminder, cancellation or reschedule jobs."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Notification jobs (confirmations, reminders, notices), by send time."""
    from bookctl import output
    from bookctl.config import db_path
    from bookctl.domain import JOB_STATUSES
    from bookctl.errors import InvalidInput
    from bookctl.store import connect, read
    from bookctl.store import jobs as store

    if status is not None and status not in JOB_STATUSES:
        raise InvalidInput(f"invalid status {status!r}: one of {', '.join(JOB_STATUSES)}")
    kinds = ("confirmation", "reminder", "cancellation", "reschedule")
    if kind is not None and kind not in kinds:
        raise InvalidInput(f"invalid kind {kind!r}: one of {', '.join(kinds)}")
    conn = connect(db_path(State.db))
    with read(conn):
        found = store.list_jobs(conn, status=status, kind=kind, limit=limit)
    docs = [{**output.job_json(j), "booking_ref": ref} for j, ref in found]
    if as_json:
        output.emit_json(docs)
        return
    output.table(
        "Jobs",
        ("id", "ref", "kind", "channel", "send at (UTC)", "status", "tries", "sent at", "error"),
        [
            (
                d["job_id"],
                d["booking_ref"],
                d["kind"],
                d["channel"],
                d["send_at"],
                d["status"],
                d["attempts"],
                d["sent_at"],
                d["last_error"],
            )
            for d in docs
        ],
    )


def stats_doc(conn: Any) -> dict[str, Any]:
    from bookctl.store import jobs as store

    by_kind = store.status_counts(conn)
    rem = by_kind.get("reminder", {})
    sent, on_time, (p50, p99) = _lateness(conn)
    failed, expired = rem.get("failed", 0), rem.get("expired", 0)
    return {
        "kind": "reminder",
        "sent": rem.get("sent", 0),
        "failed": failed,
        "expired": expired,
        "cancelled": rem.get("cancelled", 0),
        "pending": rem.get("scheduled", 0) + rem.get("sending", 0),
        "on_time_seconds": ON_TIME_SECONDS,
        "on_time": on_time,
        # the share of SENT reminders accepted within 60 s of send_at ...
        "on_time_rate": round(on_time / sent, 6) if sent else None,
        # ... and, so that failures cannot hide, the share of all that were due and settled
        "delivered_on_time_rate": (
            round(on_time / (sent + failed + expired), 6) if sent + failed + expired else None
        ),
        "p50_lateness_seconds": p50,
        "p99_lateness_seconds": p99,
        "by_kind": by_kind,
    }


def _lateness(conn: Any) -> tuple[int, int, tuple[int | None, int | None]]:
    from bookctl.store import jobs as store

    n, on_time, values = store.lateness_stats(conn, "reminder", ON_TIME_SECONDS, (0.5, 0.99))
    if not n:
        return 0, 0, (None, None)
    return n, on_time, (values[0], values[1])


@reminders_app.command("stats")
@handles_errors
def stats(as_json: bool = JSON_OPTION) -> None:
    """Reminder counts and on-time figures: lateness is the server's acceptance (SMTP 250,
    HTTP 2xx) minus the reminder's send time; on time means within 60 s."""
    from bookctl import output
    from bookctl.config import db_path
    from bookctl.store import connect, read

    conn = connect(db_path(State.db))
    with read(conn):
        doc = stats_doc(conn)
    if as_json:
        output.emit_json(doc)
        return
    rate = doc["on_time_rate"]
    output.record(
        "Reminders",
        {
            "sent": doc["sent"],
            "failed": doc["failed"],
            "expired": doc["expired"],
            "cancelled": doc["cancelled"],
            "pending": doc["pending"],
            "on time (<= 60 s)": "-" if rate is None else f"{rate:.2%} of sent",
            "p50 lateness": _seconds(doc["p50_lateness_seconds"]),
            "p99 lateness": _seconds(doc["p99_lateness_seconds"]),
        },
    )


def _seconds(value: int | None) -> str:
    return "-" if value is None else f"{value} s"


@config_app.command("show")
@handles_errors
def config_show(as_json: bool = JSON_OPTION) -> None:
    """The effective settings: config file, then BOOKCTL_* environment on top. Secrets are
    masked."""
    from bookctl import output
    from bookctl.config import config_path, load_settings

    doc = load_settings().masked()
    doc.setdefault("config_file", None)
    if doc["config_file"] is None:
        doc["config_file_expected_at"] = str(config_path())
    if as_json:
        output.emit_json(doc)
    else:
        output.record("Settings", doc)
