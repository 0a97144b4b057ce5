"""A real, throw-away PostgreSQL server for tests (Debian's ``postgresql`` package).

``postgres_url`` starts one in a temporary data directory on a free 127.0.0.1 port (trust
auth, its unix socket inside the temporary directory), creates a database, yields its
``postgresql+psycopg://`` URL and always stops the server and removes the directory. As
root, the server runs as the ``postgres`` system user (initdb refuses root). Skipped, with
the reason, where the binaries, that user or the psycopg driver are missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(os.environ.get("READINESS_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "readiness_test"
TIMEOUT = 60  # seconds for any one pg command: only stops a hung one


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing() -> str | None:
    """Why no server can be started here (None when one can)."""
    for name in ("initdb", "pg_ctl", "createdb"):
        if not (BIN / name).is_file():
            return f"PostgreSQL binaries not found ({BIN / name}): apt-get install postgresql"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user for initdb to run as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is not installed"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install 'readiness[postgres]')"
    return None


class Server:
    """One PostgreSQL cluster in ``base`` (stop() is safe to call at any point)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="readiness-pg-"))
        self.data = self.base / "data"
        self.sockets = self.base / "sock"
        self.port = 0
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=TIMEOUT,
            cwd=self.base,
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    def start(self) -> str:
        self.run("mkdir", "-p", str(self.sockets))
        self.run(str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--no-sync", "--no-instructions")
        for attempt in range(3):  # the free port may be taken between probe and bind
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            try:
                self.run(str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-w",
                         "-t", str(TIMEOUT), "-l", str(self.base / "server.log"), "start")
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        self.run(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                 "-U", "postgres", DATABASE)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").is_file():
                self.run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                         "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            self._kill()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def _kill(self) -> None:
        """The server this helper started, by the pid in its own postmaster.pid."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A running server's URL; skips the test when none can run here."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    server = Server()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://`` URL of a fresh database on a real, private server."""
    with postgres() as url:
        yield url
