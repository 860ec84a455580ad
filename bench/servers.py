"""Serving an app under test and loading it: server processes (uvicorn, granian), databases, wrk."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PORTAL_FACTORY = "portal.app:create_app"
BARE_FACTORY = "bench.bare:create_app"
PG_ADMIN_URL = os.environ.get("PORTAL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"socket_errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class ServerConfig:
    server: str  # "uvicorn" or "granian"
    workers: int

    @property
    def label(self) -> str:
        return f"{self.server} {self.workers}w"


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(config: ServerConfig, factory: str, port: int) -> list[str]:
    if config.server == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(config.workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    if config.server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(config.workers),
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
            factory,
        ]
    raise ValueError(f"unknown server {config.server!r}")


@contextmanager
def serving(
    config: ServerConfig, factory: str, env: dict[str, str], log_path: Path, health_path: str
) -> Iterator[str]:
    """Start the server in its own process group, wait for ``health_path``, yield the base URL."""
    with serving_process(config, factory, env, log_path, health_path) as (base_url, _proc):
        yield base_url


def rss_by_process(proc: subprocess.Popen) -> list[tuple[int, str, float]]:
    """(pid, "supervisor" or "worker", resident MiB) of every live process in the server's
    process group (read from ``/proc``, Linux only)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # The command may contain spaces and parentheses: fields start after the last ")".
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != proc.pid:  # the process group id
                continue
            status = (entry / "status").read_text()
            kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        except (OSError, ValueError, StopIteration):
            continue
        pid = int(entry.name)
        out.append((pid, "supervisor" if pid == proc.pid else "worker", kib / 1024))
    return sorted(out)


@contextmanager
def serving_process(
    config: ServerConfig, factory: str, env: dict[str, str], log_path: Path, health_path: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """:func:`serving`, yielding the supervisor process too (its process group holds the workers)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            server_command(config, factory, port),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{config.label} exited with {proc.returncode}; see {log_path}")
            try:
                if httpx.get(base_url + health_path, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{config.label} did not answer {health_path} within 60 s; see {log_path}")
            time.sleep(0.1)
        yield base_url, proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (its workers included), SIGKILL if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:  # workers that outlived their supervisor
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    lua: Path,
    headers: dict[str, str] | None = None,
) -> Result:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(lua)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^BENCH (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode or not match:
        raise RuntimeError(f"wrk failed on {url}: {done.stdout}\n{done.stderr}")
    data = json.loads(match.group(1))
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non2xx=data["non2xx"],
        socket_errors=data["socket_errors"],
    )


# --- databases ------------------------------------------------------------------------------------


def _pg_url(dbname: str) -> str:
    return re.sub(r"/[^/?]*(\?|$)", f"/{dbname}\\1", PG_ADMIN_URL, count=1)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _pg_fetch(url: str, sql: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval(sql))
    finally:
        await conn.close()


def postgres_version() -> str:
    return asyncio.run(_pg_fetch(PG_ADMIN_URL, "SHOW server_version"))


@contextmanager
def database(engine: str, work_dir: Path) -> Iterator[str]:
    """A new database for ``engine``, migrated, with the demo customer; dropped afterwards."""
    if engine == "sqlite":
        url = f"sqlite:///{work_dir / 'bench.sqlite3'}"
        name = None
    else:
        name = f"portal_bench_{uuid.uuid4().hex[:12]}"
        asyncio.run(
            _pg_admin(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'"
            )
        )
        url = _pg_url(name)
    try:
        set_up(engine, url, work_dir)
        yield url
    finally:
        if name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def set_up(engine: str, url: str, work_dir: Path) -> None:
    """Migrate the database and add the benchmark customer if missing (``bench.setup_db``)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.setup_db"],
        env=portal_env(url, work_dir, "http://x"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise RuntimeError(f"setting up the {engine} database failed:\n{done.stdout}\n{done.stderr}")


async def _pg_exists(name: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def kept_database(engine: str, name: str, work_dir: Path, *, keep: bool) -> tuple[str, bool]:
    """A database that outlives the run: ``(url, existed)``. PostgreSQL: the database ``name``;
    SQLite: ``work_dir/<name>.sqlite3``. With ``keep`` an existing one is kept (and migrated),
    otherwise it is dropped and made anew; either way it is set up (:func:`set_up`)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        path = work_dir / f"{name}.sqlite3"
        existed = keep and path.exists()
        if not existed:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        existed = keep and asyncio.run(_pg_exists(name))
        if not existed:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            asyncio.run(
                _pg_admin(
                    f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                    "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'"
                )
            )
        url = _pg_url(name)
    set_up(engine, url, work_dir)
    return url, existed


def portal_env(database_url: str, var_dir: Path, base_url: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PORTAL_") or k == "PORTAL_BENCH_POSTGRES_URL"
    }
    env.update(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_VAR_DIR": str(var_dir),
            "PORTAL_BASE_URL": base_url,
            "PORTAL_SECRET_KEY": secrets.token_hex(32),
            "PORTAL_ENV_FILE": str(var_dir / "none.env"),  # a developer's .env must not change the figures
        }
    )
    return env


def log_in(base_url: str, email: str, password: str, path: str = "/login") -> str:
    """Log in like a browser (CSRF cookie, form post) and return the ``Cookie`` header a logged-in
    browser sends: the session and the CSRF cookie (without it every GET would mint a new
    token and set a cookie, which no real browser causes)."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        client.get(path)
        token = client.cookies.get("portal_csrf")
        response = client.post(path, data={"_csrf_token": token, "email": email, "password": password})
        if response.status_code != 303:
            raise RuntimeError(
                f"log-in for the benchmark failed with {response.status_code}: {response.text[:300]}"
            )
        session = client.cookies.get("portal_session")
        if not session:
            raise RuntimeError("log-in for the benchmark set no portal_session cookie")
        return f"portal_session={session}; portal_csrf={client.cookies.get('portal_csrf')}"


def check_page(base_url: str, path: str, cookie: str | None = None) -> httpx.Response:
    """One request as wrk will send it (no Accept-Encoding, so the body is not compressed);
    ``cookie`` is a whole ``Cookie`` header as :func:`log_in` returns it."""
    headers = {"Cookie": cookie} if cookie else {}
    headers["Accept-Encoding"] = "identity"
    return httpx.get(base_url + path, headers=headers, timeout=30, follow_redirects=False)


def which_wrk() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("bench: wrk is not installed (Debian: apt-get install wrk)")
    return path


def inprocess_costs(database_url: str, var_dir: Path, email: str, password: str) -> dict[str, float]:
    """Microseconds per request inside the app (see ``bench/inprocess.py``), in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", email, password],
        env=portal_env(database_url, var_dir, "http://127.0.0.1"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    match = re.search(r"^INPROCESS (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode or not match:
        raise RuntimeError(f"in-process measurement failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(match.group(1))
