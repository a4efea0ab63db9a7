"""Where things live and the notification settings: platformdirs paths, a TOML config file,
and BOOKCTL_* environment variables, which win."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bookctl.errors import InvalidInput

APP = "bookctl"


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP, appauthor=False)) / "bookctl.db"


def db_path(option: str | None) -> Path:
    """--db, else BOOKCTL_DB, else the platform's user data directory."""
    chosen = option or os.environ.get("BOOKCTL_DB")
    return Path(chosen).expanduser() if chosen else default_db_path()


def config_path() -> Path:
    chosen = os.environ.get("BOOKCTL_CONFIG")
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP, appauthor=False)) / "config.toml"


SECRET_FIELDS = ("smtp_password", "webhook_secret")


@dataclass(frozen=True)
class Settings:
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_from: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "starttls"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_timeout: float = 10.0
    config_file: str | None = None

    def masked(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "********" if f.name in SECRET_FIELDS and value else value
        return out


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """The TOML file ([smtp] host/port/from/user/password/tls, [webhook] url/secret/timeout),
    then the environment on top."""
    import tomllib  # lazy: most commands never read the settings

    env = os.environ if environ is None else environ
    path = config_path()
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise InvalidInput(f"invalid config file {str(path)!r}: {exc}") from None
        for section in ("smtp", "webhook"):
            table = data.get(section, {})
            if not isinstance(table, dict):
                raise InvalidInput(f"invalid config file {str(path)!r}: [{section}] is a table")
            for key, value in table.items():
                values[f"{section}_{key}"] = value
        values["config_file"] = str(path)
    for f in fields(Settings):
        name = "BOOKCTL_" + f.name.upper()
        if f.name != "config_file" and env.get(name):
            values[f.name] = env[name]
    known = {f.name for f in fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise InvalidInput(f"unknown config setting(s): {', '.join(sorted(unknown))}")
    if values.get("smtp_port") is not None:
        try:
            values["smtp_port"] = int(values["smtp_port"])
        except (TypeError, ValueError):
            raise InvalidInput(f"invalid SMTP port {values['smtp_port']!r}") from None
    if "webhook_timeout" in values:
        try:
            values["webhook_timeout"] = float(values["webhook_timeout"])
        except (TypeError, ValueError):
            raise InvalidInput(f"invalid webhook timeout {values['webhook_timeout']!r}") from None
    tls = values.get("smtp_tls", "starttls")
    if tls not in ("none", "starttls", "ssl"):
        raise InvalidInput(f"invalid SMTP TLS mode {tls!r}: none, starttls or ssl")
    return Settings(**values)
