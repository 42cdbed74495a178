"""A throwaway PostgreSQL server for tests: initdb in a temporary folder, a free port on 127.0.0.1, stopped after.

    with postgres_server() as server:
        url = server.create_database("gradebook")     # postgresql://idnn@127.0.0.1:PORT/gradebook

Debian's postgresql package (`make postgresql`) keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin.
PostgreSQL refuses to run as root: as root, the server runs as the `postgres` account the package creates, in a
folder that account owns. Only TCP on 127.0.0.1 is opened (no Unix socket), with trust authentication for the
local user `idnn`: the server lives as long as the tests that use it.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "idnn"


def pg_bin(name: str) -> str:
    """The path of a PostgreSQL server command (initdb, pg_ctl), or an error saying how to install it."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True) or \
        [path for path in [shutil.which(name)] if path]
    if not found:
        raise RuntimeError(f"{name} was not found: install PostgreSQL's server (`make postgresql`, or "
                           f"`sudo apt-get install postgresql`) to run the PostgreSQL gradebook tests")
    return found[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    port: int
    folder: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database on this server; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_server():
    """Start a PostgreSQL server of its own; stop it and remove its files at the end."""
    as_root = os.geteuid() == 0
    account = pwd.getpwnam("postgres") if as_root else None
    folder = Path(tempfile.mkdtemp(prefix="idnn-postgres-", dir="/tmp"))
    data = folder / "data"
    if account:
        os.chown(folder, account.pw_uid, account.pw_gid)
    owner = {"user": account.pw_uid, "group": account.pw_gid} if account else {}
    port = free_port()

    def as_server(*args: str, timeout: float = 120) -> None:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=folder, **owner)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr[-2000:]}")

    try:
        as_server(pg_bin("initdb"), "-D", str(data), "-U", USER, "--auth=trust", "--no-sync", "-E", "UTF8")
        as_server(pg_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
                  "-o", f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off "
                        f"-c max_connections=100", "start")
        yield Server(port, folder)
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                as_server(pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
