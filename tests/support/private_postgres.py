"""A PostgreSQL cluster of a test's own (initdb, pg_ctl), for tests that stop and start the database server: the
machine's shared server, which every other test uses, is never touched.

Debian's server binaries live in /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so when the
tests run as root (CI containers) the cluster is made and run by the `postgres` account through runuser, in a
directory that account owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port

POSTGRES_BIN_ROOT = Path("/usr/lib/postgresql")
START_SECONDS = 60


def server_binaries() -> Path | None:
    """The newest installed server's bin directory (it has initdb and pg_ctl), or None."""
    versions = sorted((path for path in POSTGRES_BIN_ROOT.glob("*/bin") if (path / "initdb").exists()), key=lambda path: int(path.parent.name))
    return versions[-1] if versions else None


@dataclass
class PrivateCluster:
    bin_dir: Path
    data_dir: Path
    port: int
    run_as: str | None  # the account that runs the server (when the tests run as root), else None: this one

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = START_SECONDS) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{result.stdout}\n{result.stderr}\n{self.log()}")

    def log(self) -> str:
        path = self.data_dir.parent / "server.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def start(self) -> None:
        self._run("pg_ctl", "start", "-w", "-t", str(START_SECONDS), "-D", str(self.data_dir), "-l", str(self.data_dir.parent / "server.log"))

    def stop(self) -> None:
        """As an operator's restart does (fast: open transactions are rolled back, clients are disconnected)."""
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A fresh cluster on a free loopback port, trusting local connections, removed afterwards. Skipped where no
    PostgreSQL server is installed (failed where PostgreSQL is required, as in CI)."""
    bin_dir = server_binaries()
    if bin_dir is None:
        if os.environ.get("EVENTS_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"EVENTS_TEST_REQUIRE_POSTGRES=1 but no PostgreSQL server is installed under {POSTGRES_BIN_ROOT}")
        pytest.skip(f"needs a PostgreSQL server installed under {POSTGRES_BIN_ROOT}")
    run_as = "postgres" if os.geteuid() == 0 else None
    # Not pytest's tmp_path: it sits in a directory only root may enter.
    base = Path(tempfile.mkdtemp(prefix="events-private-pg-"))
    if run_as is not None:
        account = pwd.getpwnam(run_as)
        os.chown(base, account.pw_uid, account.pw_gid)
    cluster = PrivateCluster(bin_dir, base / "data", free_port(), run_as)
    try:
        cluster._run("initdb", "-D", str(cluster.data_dir), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        settings = [
            f"port = {cluster.port}",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "shared_buffers = 32MB",
            "max_connections = 60",
        ]
        with (cluster.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        cluster.start()
        yield cluster
    finally:
        if (cluster.data_dir / "postmaster.pid").exists():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                cluster._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(cluster.data_dir))
        shutil.rmtree(base, ignore_errors=True)


def wait_until_accepting(cluster: PrivateCluster, timeout: float = START_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run([str(cluster.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(cluster.port)], check=False).returncode != 0:
        assert time.monotonic() < deadline, "the private PostgreSQL did not come back"
        time.sleep(0.1)
