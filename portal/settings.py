"""One typed, frozen Settings object, read once from the environment (and `.env`).

This module is the only reader of ``os.environ`` for portal's configuration. A bad value
raises :class:`ConfigError`, whose message is one line naming the variable; the CLI prints
that line and exits, so a misconfigured deployment never half-starts.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("tr", "en")
ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A configuration value is wrong; the message names the variable."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError(f"PORTAL_SMTP_URL must look like smtp://user:pass@host:port, got {url!r}")
        query = parse_qs(parts.query)
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError as exc:
            raise ConfigError(f"PORTAL_SMTP_URL has a bad port: {exc}") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=parts.scheme == "smtps",
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        )


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/portal.sqlite3"
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    smtp: SmtpConfig | None = None
    mail_from: str = "Portal <support@localhost>"
    redis_url: str | None = None
    redis_prefix: str = "portal"  # keys and channels in Redis start with "<prefix>:"
    default_locale: str = "tr"
    timezone: str = "Europe/Istanbul"
    workers: int = 1
    hash_niceness: int = 19  # the password-hashing threads' nice value (portal.security)
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = ROOT / "var"
    # Not from the environment: tuning knobs for tests and benchmarks.
    inprocess_worker: bool = False
    password_time_cost: int = 3
    password_memory_cost: int = 65536
    hash_concurrency: int = 2
    max_body_bytes: int = 12 * 1024 * 1024
    debug: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, read_dotenv: bool = True) -> Settings:
        if environ is None:
            if read_dotenv:
                from dotenv import dotenv_values

                env_file = Path(os.environ.get("PORTAL_ENV_FILE", ROOT / ".env"))
                values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
                environ = {**values, **os.environ}
            else:
                environ = dict(os.environ)
        env = {k: v for k, v in environ.items() if k.startswith("PORTAL_")}
        var_dir = Path(env.get("PORTAL_VAR_DIR", str(ROOT / "var")))

        database_url = env.get("PORTAL_DATABASE_URL", "sqlite:///var/portal.sqlite3")
        _check_database_url(database_url)

        base_url = env.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            raise ConfigError(f"PORTAL_BASE_URL must be an http(s) URL, got {base_url!r}")

        smtp = SmtpConfig.parse(env["PORTAL_SMTP_URL"]) if env.get("PORTAL_SMTP_URL") else None

        mail_from = env.get("PORTAL_MAIL_FROM", "Portal <support@localhost>")
        if "\n" in mail_from or "\r" in mail_from or "@" not in mail_from:
            raise ConfigError(
                f"PORTAL_MAIL_FROM must be an address like 'Portal <support@example.com>', got {mail_from!r}")

        redis_url = env.get("PORTAL_REDIS_URL") or None
        if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(f"PORTAL_REDIS_URL must be a redis:// URL, got {redis_url!r}")
        redis_prefix = env.get("PORTAL_REDIS_PREFIX") or "portal"
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", redis_prefix):
            raise ConfigError("PORTAL_REDIS_PREFIX must be 1 to 64 letters, digits, '.', '_' or '-', "
                              f"got {redis_prefix!r}")

        locale = env.get("PORTAL_DEFAULT_LOCALE", "tr")
        if locale not in LOCALES:
            raise ConfigError(f"PORTAL_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}, got {locale!r}")

        timezone = env.get("PORTAL_TIMEZONE", "Europe/Istanbul")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"PORTAL_TIMEZONE is not a known time zone: {timezone!r}") from None

        workers = _int(env, "PORTAL_WORKERS", 1, minimum=1, maximum=64)
        hash_niceness = _int(env, "PORTAL_HASH_NICENESS", 19, minimum=0, maximum=19)
        port = _int(env, "PORTAL_PORT", 8000, minimum=1, maximum=65535)
        host = env.get("PORTAL_HOST", "127.0.0.1")

        secret_key = env.get("PORTAL_SECRET_KEY") or _stored_secret(var_dir)
        if len(secret_key) < 32:
            raise ConfigError("PORTAL_SECRET_KEY must be at least 32 characters long")

        inprocess_worker = env.get("PORTAL_RUN_WORKER", "0") == "1"  # set by `portal run`

        return cls(
            inprocess_worker=inprocess_worker,
            hash_niceness=hash_niceness,
            database_url=database_url,
            secret_key=secret_key,
            base_url=base_url,
            smtp=smtp,
            mail_from=mail_from,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            default_locale=locale,
            timezone=timezone,
            workers=workers,
            host=host,
            port=port,
            var_dir=var_dir,
        )


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _check_database_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if not (parts.path or parts.netloc):
            raise ConfigError(f"PORTAL_DATABASE_URL has no file path: {url!r}")
        return
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname and "host=" not in parts.query:
            raise ConfigError(f"PORTAL_DATABASE_URL has no host: {url!r}")
        return
    raise ConfigError(f"PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}")


def sqlite_path(url: str) -> Path:
    """`sqlite:///var/x.db` is relative to the project root; `sqlite:////abs/x.db` is absolute."""
    raw = url.split("sqlite://", 1)[1]
    path = raw[1:] if raw.startswith("/") else raw
    p = Path(path)
    if raw.startswith("//"):
        return Path(raw[1:])
    return p if p.is_absolute() else ROOT / p


def _stored_secret(var_dir: Path) -> str:
    """Generate the secret once into var/secret.key, so restarts keep sessions and links valid."""
    path = var_dir / "secret.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    try:
        var_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        return secret
    except FileExistsError:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"PORTAL_SECRET_KEY is unset and {path} cannot be written: {exc.strerror}") from None
