"""`reminders list`, `reminders stats` (on-time figures measured at the server's acceptance)
and `config show` (secrets masked; no secret in any output or log line)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from conftest import Run
from test_notify_email import SmtpServer, smtp_server  # noqa: F401 (fixture)
from test_worker import T0, book, job_list, ok, practice, run_once

PASSWORD = "pa55-w0rd-never-shown"
SECRET = "whsec_" + base64.b64encode(b"the webhook secret, never shown").decode()
JOB_FIELDS = {
    "job_id",
    "appointment_id",
    "kind",
    "channel",
    "send_at",
    "status",
    "attempts",
    "sent_at",
    "last_error",
}


def test_list_shape_and_filters(cli: Run, smtp_server: SmtpServer) -> None:  # noqa: F811
    practice(cli)
    ok(cli("client", "add", "Ann", "--json"))  # no email, no webhook: nothing to send
    assert job_list(cli) == []
    ref = book(cli, "2026-12-02T10:00")["booking_ref"]
    jobs = job_list(cli)
    assert all(set(j) >= JOB_FIELDS for j in jobs)
    assert [(j["kind"], j["send_at"], j["status"]) for j in jobs] == [
        ("confirmation", "2026-11-30T12:00:00Z", "scheduled"),
        ("reminder", "2026-12-01T15:00:00Z", "scheduled"),
        ("reminder", "2026-12-02T14:00:00Z", "scheduled"),
    ]
    assert {j["booking_ref"] for j in jobs} == {ref}
    assert len(job_list(cli, "--status", "scheduled", "--kind", "reminder")) == 2
    assert job_list(cli, "--status", "sent") == []
    bad = cli("reminders", "list", "--status", "done", "--json")
    assert bad.exit_code == 2 and bad.error["code"] == "invalid_input"
    human = cli("reminders", "list")
    assert human.exit_code == 0 and "Jobs" in human.stdout


def test_stats_report_on_time_rate_and_lateness_honestly(
    cli: Run,
    smtp_server: SmtpServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for k, v in smtp_server.env().items():
        monkeypatch.setenv(k, v)
    practice(cli, reminders="1h:email")
    empty = ok(cli("reminders", "stats", "--json"))
    assert (empty["sent"], empty["on_time_rate"], empty["p50_lateness_seconds"]) == (0, None, None)
    for start in ("2026-12-02T09:00", "2026-12-02T10:00", "2026-12-02T11:00"):
        book(cli, start)
    run_once(cli, T0)
    # reminders due at 13:00Z, 14:00Z, 15:00Z; the worker runs 10 s, 10 s and 5 min late
    run_once(cli, "2026-12-02T13:00:10Z")
    run_once(cli, "2026-12-02T14:00:10Z")
    run_once(cli, "2026-12-02T15:05:00Z")
    stats = ok(cli("reminders", "stats", "--json"))
    assert (stats["sent"], stats["failed"], stats["expired"], stats["pending"]) == (3, 0, 0, 0)
    assert stats["on_time"] == 2
    assert stats["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)
    # lateness is acceptance minus send_at on the BOOKCTL_NOW clock (plus the run's seconds)
    assert 10 <= stats["p50_lateness_seconds"] < 40
    assert 300 <= stats["p99_lateness_seconds"] < 330
    assert stats["by_kind"]["confirmation"]["sent"] == 3
    human = cli("reminders", "stats")
    assert human.exit_code == 0 and "66.67% of sent" in human.stdout


def test_config_show_masks_secrets_and_no_secret_reaches_any_output(
    cli: Run,
    smtp_server: SmtpServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    (tmp_path / "config.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\ntls = "none"\n'
        f'user = "desk"\npassword = "{PASSWORD}"\n'
        f'[webhook]\nurl = "http://127.0.0.1:9/hook"\nsecret = "{SECRET}"\n'
    )
    monkeypatch.setenv("BOOKCTL_SMTP_FROM", "desk@practice.example")
    shown = ok(cli("config", "show", "--json"))
    assert shown["smtp_password"] == shown["webhook_secret"] == "********"
    assert shown["smtp_host"] == "127.0.0.1" and shown["smtp_user"] == "desk"
    assert shown["smtp_from"] == "desk@practice.example"  # the environment joins the file
    assert shown["config_file"] == str(tmp_path / "config.toml")
    outputs = [cli("config", "show"), cli("config", "show", "--json")]
    practice(cli, reminders="1h:email")
    book(cli, "2026-12-02T10:00")
    # the server does not offer AUTH: the send fails; neither output nor log may leak
    outputs.append(cli("reminders", "run", "--once", now=T0))
    outputs.append(cli("reminders", "list", "--json"))
    outputs.append(cli("reminders", "list"))
    assert outputs[2].exit_code == 0 and " job=" in outputs[2].stderr
    for r in outputs:
        for secret in (PASSWORD, SECRET, SECRET[len("whsec_") :]):
            assert secret not in r.stdout and secret not in r.stderr


def test_run_without_any_channel_is_refused(cli: Run) -> None:
    r = cli("reminders", "run", "--once", "--json")
    assert r.exit_code == 2 and r.error["code"] == "invalid_input"
    assert "BOOKCTL_SMTP_HOST" in r.error["message"]
