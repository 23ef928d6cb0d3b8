"""Services the benchmarks need: the bench database, Redis, subprocesses, /proc memory.

Nothing here imports Django, so `configure_environment` can run before
`django.setup()` (settings read DATABASE_URL and REDIS_URL once, at import).
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kascade_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"


def log_line(tool: str, message: str) -> str:
    """A log line stamped with the UTC time of day.

    Not the local time: once Django's settings are loaded they set the
    process's TZ to TIME_ZONE (Europe/Berlin), and a run's stamps jumped by an
    hour in the middle of its log."""
    return f"[{tool} {time.strftime('%H:%M:%SZ', time.gmtime())}] {message}"


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """One TLS context for every HTTP client a load generator opens (httpx's `verify`).

    Without it httpx builds a context per client and loads the CA bundle into
    it: 40 ms of CPU per client here. `make loadtest` opens 200 clients within
    3 s, so its event loop was blocked for seconds while the players started,
    and every request waiting on that loop counted the block in its client
    latency (docs/benchmarks.md, Load). The runs speak plain HTTP to
    127.0.0.1, so the context is never used for a handshake; it stays a
    verifying one."""
    return ssl.create_default_context()


def is_postgres(url: str) -> bool:
    return urlparse(url).scheme in {"postgres", "postgresql", "pgsql", "postgis"}


def configure_environment() -> dict[str, str]:
    """Choose the bench database and Redis and put them in os.environ (before django.setup).

    DATABASE_URL/REDIS_URL are used when set; a non-PostgreSQL DATABASE_URL is
    replaced by the bench default, because the precompute and quiz benchmarks
    measure PostgreSQL. Returns notes for the report.
    """
    notes = {}
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        database_url = DEFAULT_DATABASE_URL
    elif not is_postgres(database_url):
        notes["database"] = (
            f"DATABASE_URL {database_url} is not PostgreSQL; using {DEFAULT_DATABASE_URL}"
        )
        database_url = DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kascade_game.settings")
    # Production-like servers: no per-query logging (DEBUG=True keeps every SQL in memory).
    os.environ.setdefault("DEBUG", "false")
    notes["database_url"] = _redact(database_url)
    notes["redis_url"] = _redact(redis_url)
    return notes


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database of `url` when it is missing. True when created."""
    import psycopg

    parsed = urlparse(url)
    name = unquote(parsed.path.lstrip("/"))
    params = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    if parsed.password:
        params["password"] = unquote(parsed.password)
    with psycopg.connect(**params, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        connection.execute(f'CREATE DATABASE "{name}"')
        return True


def check_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=3).ping()


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(extra)
    return env


def manage(*args: str, timeout_s: float = 900, log: Path | None = None) -> float:
    """Run `manage.py ARGS` against the bench database in a subprocess; returns seconds."""
    started = time.perf_counter()
    output = log.open("ab") if log else subprocess.DEVNULL
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=child_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
        )
    finally:
        if log:
            output.close()
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}); see {log}")
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- processes and their memory -------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (None when it is gone):
    [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ")".
    return stat.rsplit(")", 1)[1].split()


def _ppid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def descendants(root_pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _ppid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root_pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0.0 when it is gone)."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fdatasync_latency(directory: Path, *, seconds: float) -> dict:
    """Write 8 kB and fdatasync it, again and again for `seconds` (as a commit flushes
    PostgreSQL's WAL): the median, the 99th percentile and the worst wait, in ms."""
    path = Path(directory) / "fdatasync-probe"
    waits = []
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            os.write(descriptor, b"\0" * 8192)
            started = time.perf_counter()
            os.fdatasync(descriptor)
            waits.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)
    waits.sort()
    return {
        "samples": len(waits),
        "p50": round(waits[len(waits) // 2], 2),
        "p99": round(waits[int(len(waits) * 0.99)], 2),
        "max": round(waits[-1], 2),
        "over_100": sum(wait > 100 for wait in waits),
    }


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds a process tree has used so far, including its members that ended.

    Each live process counts its own time and that of its children that ended
    (the kernel adds a reaped child's time to its parent), so a recycled
    gunicorn worker or a PostgreSQL backend that closed is still counted.
    """
    total = 0
    for pid in [root_pid, *descendants(root_pid)]:
        fields = _stat_fields(pid)
        if fields:
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU time used by a set of processes (a worker tree, database backends) since a start.

    On a shared machine wall-clock throughput depends on what else runs; the
    CPU seconds a piece of work costs much less so.
    """

    start: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)

    def sample(self, pids: list[int], *, baseline: bool = False) -> None:
        for pid in pids:
            used = cpu_seconds(pid)
            if baseline:
                self.start.setdefault(pid, used)
            if used:
                self.last[pid] = max(self.last.get(pid, 0.0), used)

    def used(self) -> float:
        return sum(value - self.start.get(pid, 0.0) for pid, value in self.last.items())


def system_cpu_seconds() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, from /proc/stat.

    Busy is user + nice + system + irq + softirq + steal; idle is idle + iowait.
    The difference of two readings says how much of the cores a piece of work
    left unused, whoever else ran.
    """
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in fields[:8]]
    user, nice, system, idle, iowait, irq, softirq, steal = ticks
    per_second = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / per_second, (idle + iowait) / per_second


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, in kB; {} when it is gone."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0])
    except OSError:
        return {}
    return values


@dataclass
class MemoryTracker:
    """Peak memory per process of a process tree, sampled from /proc."""

    root_pid: int
    peak_kb: dict[int, int] = field(default_factory=dict)

    def sample(self) -> None:
        for pid in [self.root_pid, *descendants(self.root_pid)]:
            memory = memory_kb(pid)
            peak = max(memory.get("VmHWM", 0), memory.get("VmRSS", 0))
            if peak:
                self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), peak)

    def summary(self) -> dict:
        children = {pid: kb for pid, kb in self.peak_kb.items() if pid != self.root_pid}
        return {
            "worker_peak_rss_mb": round(max(children.values(), default=0) / 1024, 1),
            "worker_main_peak_rss_mb": round(self.peak_kb.get(self.root_pid, 0) / 1024, 1),
            "worker_tree_peak_rss_mb_sum": round(sum(self.peak_kb.values()) / 1024, 1),
            "worker_processes_seen": len(self.peak_kb),
        }


class ManagedProcess:
    """A subprocess in its own session, stopped with SIGTERM then SIGKILL (its group only)."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.args = args
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM to the main process (a warm shutdown that lets its children finish),
        then SIGKILL to the whole process group if it is still there after `grace_s`."""
        if not self.alive():
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        try:  # anything of its group left behind
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def celery_worker(log_path: Path, concurrency: int = 2) -> ManagedProcess:
    return ManagedProcess(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kascade_game",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        log_path,
        child_env(),
    )


def wait_worker_ready(worker: ManagedProcess, timeout_s: float = 60.0) -> None:
    from kascade_game.celery import app

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"celery worker exited; see {worker.log_path}")
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError(f"celery worker did not answer within {timeout_s}s; see {worker.log_path}")


ACCESS_LOG_FORMAT = "BENCH|%(a)s|%(m)s|%(U)s|%({hx-request}i)s|%(s)s|%(B)s|%(D)s"


def gunicorn(
    port: int,
    log_path: Path,
    workers: int = 4,
    *,
    app: str = "kascade_game.wsgi:application",
    env: dict[str, str] | None = None,
) -> ManagedProcess:
    """Gunicorn as the README runs it, on 127.0.0.1 only, logging each request's server time."""
    return ManagedProcess(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            app,
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--access-logfile",
            "-",
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "--timeout",
            "60",
        ],
        log_path,
        child_env(**(env or {})),
    )


def wait_http_ready(url: str, server: ManagedProcess, timeout_s: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"server exited; see {server.log_path}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s}s; see {server.log_path}")


# --- private PostgreSQL and Redis (the fault runs stop and restart them) ------

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:`port`, never the shared server.

    Trust authentication for the local user `postgres`; the data directory and the
    Unix socket live under `root`, which `remove()` deletes.
    """

    def __init__(self, root: Path, port: int | None = None, *, fsync: bool = True) -> None:
        self.root = root
        self.port = port or free_port()
        self.data_dir = root / "pgdata"
        self.socket_dir = root / "pgsock"
        self.log_path = root / "postgres.log"
        self.fsync = fsync

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/kascade"

    def _chown(self) -> None:
        if os.geteuid() == 0:
            import shutil

            for path in (self.root, self.data_dir, self.socket_dir):
                if path.exists():
                    shutil.chown(path, "postgres", "postgres")

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # The postgres user must reach the data directory (tempfile.mkdtemp gives 0700).
            for parent in [self.root, *self.root.parents]:
                if parent.stat().st_uid == 0 and not parent.stat().st_mode & 0o001:
                    parent.chmod(parent.stat().st_mode | 0o011)
        self.socket_dir.mkdir(exist_ok=True)
        self.log_path.touch()
        self._chown()
        if os.geteuid() == 0:
            import shutil

            shutil.chown(self.log_path, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "max_connections = 200",
            "shared_buffers = 128MB",
        ]
        if not self.fsync:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# kascade private instance\n" + "\n".join(settings) + "\n")

    def start(self, timeout_s: float = 60) -> None:
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_path),
                    "-w",
                    "-t",
                    str(int(timeout_s)),
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=timeout_s + 10,
        )

    def stop(self, mode: str = "fast", timeout_s: float = 60) -> None:
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    str(int(timeout_s)),
                    "stop",
                ]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout_s + 10,
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def create_database(self, name: str = "kascade") -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        import shutil

        if self.running():
            self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A throw-away redis-server on 127.0.0.1:`port` without persistence."""

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 20) -> None:
        self.process = ManagedProcess(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            self.log_path,
            dict(os.environ),
        )
        self.process.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                check_redis(self.url)
                return
            except Exception:
                if not self.process.alive():
                    raise RuntimeError(f"redis-server exited; see {self.log_path}") from None
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout_s}s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(grace_s=10)
