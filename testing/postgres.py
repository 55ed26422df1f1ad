"""A throwaway PostgreSQL cluster started from the server binaries on the machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The machine has no PostgreSQL server binaries."""


@dataclass
class Cluster:
    directory: Path
    port: int
    run_as: list[str]

    def url(self, database: str = "postgres", driver: str = "psycopg2") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _psql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(sql)

    def restart(self, mode: str = "fast") -> None:
        """Restarts the server ("fast": clients are disconnected; "immediate": as after a crash)."""
        subprocess.run([*self.run_as, _binary("pg_ctl"), "-D", str(self.directory / "data"), "-m", mode, "-w",
                        "-l", str(self.directory / "log"), "restart"], check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        subprocess.run([*self.run_as, _binary("pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate",
                        "stop"], capture_output=True, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise PostgresUnavailable(f"{name} not found on PATH or under /usr/lib/postgresql")


def start_cluster() -> Cluster:
    """initdb + pg_ctl start on a free port with fsync off; the caller stops it."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    directory = Path(tempfile.mkdtemp(prefix="caseflow-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    subprocess.run([*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--no-locale"], check=True, capture_output=True)
    port = _free_port()
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " \
              "-c full_page_writes=off -c max_connections=200"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"],
                   check=True, capture_output=True)
    return Cluster(directory=directory, port=port, run_as=run_as)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
