"""Several servers behind a real load balancer, as an installation that has scaled out runs: for one test module.

`run_cluster(directory, database_url)` starts, all on loopback ports from free_port():

- N `events serve` processes, each a separate "host": its own EVENTS_VAR_DIR and working directory, and no local
  file shared with another (everything they share is in PostgreSQL, and in the settings that must match across
  hosts: EVENTS_SECRET_KEY, DATABASE_URL, the Stripe and SMTP settings);
- HAProxy from Debian's package in front, terminating TLS with a certificate made for the run, round robin with no
  stickiness (each request is balanced on its own, even on a kept-alive connection), health checks on /healthz, and
  X-Forwarded-For/-Proto for the hosts, which believe them from 127.0.0.1 only (FORWARDED_ALLOW_IPS);
- two `events worker` processes, logging which periodic job each ran for which moment;
- localstripe (its signed webhooks go through the balancer, over https) and an aiosmtpd mail server.

The servers run in production mode, as a real installation does: Secure cookies over https, proxy headers believed,
no test payment provider. A guest is told apart from another by the loopback address it connects from
(127.0.0.0/8 is all loopback): `Cluster.client(guest=n)` connects from an address of guest n's own, which HAProxy
passes on in X-Forwarded-For, so per-client limits see each guest as one client. Every answer carries X-Served-By,
the host that answered it (added by the balancer in tests only), and HAProxy's statistics count each host's requests.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import ipaddress
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.localstripe import LocalStripe, run_localstripe
from tests.support.mail import MailServer, running_mail_server
from tests.support.server import PortTaken, _start_server, free_port, port_taken, run_cli, server_environment

ORGANISER_EMAIL = "cluster-organiser@test.example"
ORGANISER_PASSWORD = "a long cluster password"
# What a worker's log says after each periodic job it ran (events.jobs.worker, at DEBUG).
JOB_RUN = re.compile(r"events\.worker: Ran job (\S+) for (\d+)")

# A worker as `events worker` runs it, with the periodic-job runner's log at DEBUG (which job it ran, for when).
_WORKER_LAUNCHER = """
import logging, sys
logging.getLogger("events.worker").setLevel(logging.DEBUG)
from events.cli import main
main(["worker"])
"""


@dataclass
class Host:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    var_dir: Path

    def log(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.var_dir.glob("server-*.log")))


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text()

    def job_runs(self) -> list[tuple[str, int]]:
        """(job name, the moment it ran for, in epoch seconds), in the order this worker ran them."""
        return [(match.group(1), int(match.group(2))) for match in JOB_RUN.finditer(self.log())]


@dataclass
class Cluster:
    url: str  # the balancer: https://127.0.0.1:<port>, which is EVENTS_BASE_URL
    database_url: str
    env: dict[str, str]  # what every host has in common (each adds its own EVENTS_VAR_DIR)
    hosts: list[Host]
    workers: list[Worker]
    balancer_log: Path
    stats_socket: Path
    certificate: Path  # the CA the balancer's certificate is signed by: what a client trusts
    localstripe: LocalStripe
    mail: MailServer
    organiser: dict[str, str]  # an organiser's API token, as Authorization headers
    # When a test moved a periodic job's clock on (run_job_now): job name -> the epoch seconds it did so.
    jobs_run_early: dict[str, list[int]] = field(default_factory=dict)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    def client(self, guest: int | None = None, *, connections: int = 10, **options: object) -> httpx.AsyncClient:
        """An https client of the balancer; with `guest`, connecting from that guest's own loopback address."""
        transport = httpx.AsyncHTTPTransport(
            verify=self.ssl_context(),
            local_address=guest_address(guest) if guest is not None else None,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        return httpx.AsyncClient(base_url=self.url, transport=transport, timeout=60, **options)  # type: ignore[arg-type]

    def requests_per_host(self) -> Counter[str]:
        """HTTP requests each host has answered so far (HAProxy's statistics; its health checks not counted)."""
        return Counter({row["svname"]: int(row["stot"] or 0) for row in self._host_stats()})

    def hosts_up(self) -> set[str]:
        return {row["svname"] for row in self._host_stats() if row["status"] == "UP"}

    def _host_stats(self) -> list[dict[str, str]]:
        return [row for row in self._stats() if row["pxname"] == "app" and row["svname"] not in ("BACKEND", "FRONTEND")]

    def _stats(self) -> list[dict[str, str]]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stats_socket))
            sock.sendall(b"show stat\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        text = b"".join(chunks).decode().lstrip("# ")
        return list(csv.DictReader(text.splitlines()))

    def logs(self) -> str:
        """Every host's and worker's log, for an assertion's message."""
        parts = [f"--- {host.name}\n{host.log()[-4000:]}" for host in self.hosts]
        parts += [f"--- worker {n}\n{worker.log()[-4000:]}" for n, worker in enumerate(self.workers, 1)]
        return "\n".join(parts)

    def tracebacks(self) -> list[str]:
        return [name for name, log in self._named_logs() if "Traceback" in log]

    def _named_logs(self) -> list[tuple[str, str]]:
        return [(host.name, host.log()) for host in self.hosts] + [(f"worker {n}", w.log()) for n, w in enumerate(self.workers, 1)]

    async def run_job_now(self, name: str) -> None:
        """Move a periodic job's clock on by its interval, as if it had last run that long ago: the next worker to
        look runs it (time compressed: the reminder job runs every five minutes). Recorded, for job_runs' readers."""
        self.jobs_run_early.setdefault(name, []).append(int(time.time()))  # before: a worker may take it at once
        connection = await asyncpg.connect(self.database_url)
        try:
            moved = await connection.execute("UPDATE job_lease SET last_run_at = 0 WHERE name = $1", name)
        finally:
            await connection.close()
        assert moved == "UPDATE 1", f"no lease for job {name}: {moved}"

    async def wait_for_run(self, name: str, *, after: int, timeout: float = 60) -> None:
        """Until a run of the job that began later than `after` (epoch seconds) has finished, on either worker."""
        deadline = time.monotonic() + timeout
        while True:
            connection = await asyncpg.connect(self.database_url)
            try:
                last_run_at = await connection.fetchval("SELECT last_run_at FROM job_lease WHERE name = $1", name)
            finally:
                await connection.close()
            if last_run_at is not None and last_run_at > after:
                return
            assert time.monotonic() < deadline, f"job {name} did not run after {after} within {timeout} s:\n{self.logs()}"
            await asyncio.sleep(0.5)

    def job_runs(self) -> list[tuple[str, int, int]]:
        """Every periodic job run by any worker: (job name, the moment it ran for, which worker: 1, 2, ...)."""
        return [(name, moment, n) for n, worker in enumerate(self.workers, 1) for name, moment in worker.job_runs()]


def guest_address(guest: int) -> str:
    """Guest n's own loopback address, 127.1.x.y (never 127.0.0.1, the balancer's and the hosts' own)."""
    return str(ipaddress.IPv4Address("127.1.0.1") + guest)


@contextmanager
def run_cluster(directory: Path, database_url: str, *, hosts: int = 2, processes_per_host: int = 1, **settings: str) -> Iterator[Cluster]:
    """Everything in the module docstring, on a migrated database with an organiser (password and API token); stopped
    afterwards. `settings` are more settings every host and worker gets."""
    assert hosts >= 2, "a cluster has two hosts or more"
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise RuntimeError("HAProxy is needed: apt-get install haproxy (.ci/run installs it)")
    directory.mkdir(parents=True, exist_ok=True)
    tls = directory / "tls"
    ca_file, pem_file = make_certificates(tls)
    with ExitStack() as stack:
        # localstripe posts its webhooks to the balancer over https: it must trust the run's CA.
        stripe = stack.enter_context(run_localstripe(directory / "localstripe", {"SSL_CERT_FILE": str(ca_file)}))
        mail = stack.enter_context(running_mail_server())
        running: list[subprocess.Popen[bytes]] = []  # hosts, balancer and workers: stopped together at the end
        stack.callback(_stop_all, running)
        balancer_port = free_port()
        url = f"https://127.0.0.1:{balancer_port}"
        env = _common_environment(database_url, url, stripe, mail, settings)
        run_cli(_own(env, directory / "setup"), "migrate")
        # The hosts start while the organiser is made: each is a few CPU seconds of imports on a busy machine.
        with ThreadPoolExecutor(max_workers=hosts + 1) as pool:
            token_made = pool.submit(_organiser_token, env, directory / "setup")
            starting = [pool.submit(_start_host, env, directory / f"host{n}", f"host{n}", processes_per_host) for n in range(1, hosts + 1)]
            wait([token_made, *starting])
        started = []
        for future in starting:  # every host that started is stopped afterwards, even if another failed
            if future.exception() is None:
                running.append(future.result().process)
                started.append(future.result())
        for future in [token_made, *starting]:
            future.result()  # raises the first failure
        token = token_made.result()
        stats_socket = directory / "haproxy" / "stats.sock"
        balancer_log = _start_balancer(running, haproxy, directory / "haproxy", balancer_port, pem_file, stats_socket, started)
        workers = [_start_worker(running, env, directory / f"worker{n}") for n in (1, 2)]
        cluster = Cluster(
            url=url,
            database_url=database_url,
            env=env,
            hosts=started,
            workers=workers,
            balancer_log=balancer_log,
            stats_socket=stats_socket,
            certificate=ca_file,
            localstripe=stripe,
            mail=mail,
            organiser={"Authorization": f"Bearer {token}"},
        )
        _wait_for_balancer(cluster)
        stripe.register_webhook("cluster", f"{url}/webhooks/stripe")
        yield cluster


def _common_environment(database_url: str, url: str, stripe: LocalStripe, mail: MailServer, settings: dict[str, str]) -> dict[str, str]:
    env = server_environment(database_url, Path("/nonexistent"))
    del env["EVENTS_VAR_DIR"]  # each host and worker has its own
    env.update(
        {
            "EVENTS_ENV": "production",
            "EVENTS_BASE_URL": url,
            # What must match across hosts: one secret key (CSRF tokens, sealed signing keys, client digests), one
            # database, one Stripe account and one mail server.
            "EVENTS_SECRET_KEY": secrets.token_hex(32),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port),
            "SMTP_STARTTLS": "false",
            "SMTP_FROM": "Events <tickets@events.test>",
            "EVENTS_RUN_WORKER_IN_PROCESS": "false",
            # uvicorn believes X-Forwarded-For/-Proto from the balancer only, which connects from 127.0.0.1.
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            # Two hosts and two workers on a PostgreSQL other tests share: a small pool each.
            "EVENTS_DB_POOL_SIZE": "4",
            **stripe.environment(),
            **settings,
        }
    )
    return env


def _own(env: dict[str, str], var_dir: Path) -> dict[str, str]:
    var_dir.mkdir(parents=True, exist_ok=True)
    return {**env, "EVENTS_VAR_DIR": str(var_dir)}


def _organiser_token(env: dict[str, str], var_dir: Path) -> str:
    """An organiser who can sign in, and an API token of theirs."""
    setup = _own(env, var_dir)
    run_cli(setup, "user", "create", ORGANISER_EMAIL, "--role", "organiser", "--password-stdin", stdin=ORGANISER_PASSWORD + "\n")
    token = run_cli(setup, "token", "create", ORGANISER_EMAIL, "--label", "cluster").strip()
    shutil.rmtree(var_dir)
    return token


def _start_host(env: dict[str, str], var_dir: Path, name: str, processes: int) -> Host:
    process, url = _start_server(_own(env, var_dir), processes)
    return Host(name=name, process=process, url=url, var_dir=var_dir)


def _start_worker(running: list[subprocess.Popen[bytes]], env: dict[str, str], var_dir: Path) -> Worker:
    worker_env = _own(env, var_dir)
    log_file = var_dir / "worker.log"
    with log_file.open("w") as log:
        process = subprocess.Popen([sys.executable, "-c", _WORKER_LAUNCHER], env=worker_env, cwd=var_dir, stdout=log, stderr=subprocess.STDOUT)
    running.append(process)
    return Worker(process=process, log_file=log_file)


def _start_balancer(
    running: list[subprocess.Popen[bytes]], haproxy: str, directory: Path, port: int, pem_file: Path, stats_socket: Path, hosts: list[Host]
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "haproxy.cfg"
    config.write_text(haproxy_config(port, pem_file, stats_socket, hosts))
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"HAProxy refuses its configuration:\n{check.stdout}\n{check.stderr}")
    log_file = directory / "haproxy.log"
    with log_file.open("w") as log:
        process = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    running.append(process)
    deadline = time.monotonic() + 30
    while not stats_socket.exists():
        if process.poll() is not None:
            log = log_file.read_text()
            raise (PortTaken if port_taken(log) else RuntimeError)(f"HAProxy exited:\n{log}")
        assert time.monotonic() < deadline, f"HAProxy did not start:\n{log_file.read_text()}"
        time.sleep(0.1)
    return log_file


def haproxy_config(port: int, pem_file: Path, stats_socket: Path, hosts: list[Host]) -> str:
    """deploy/haproxy.cfg's balancing, on loopback: TLS here, round robin, health checks, forwarded client addresses."""
    servers = "\n".join(f"    server {host.name} {host.url.removeprefix('http://')} check inter 1s fall 2 rise 1" for host in hosts)
    return f"""global
    maxconn 4096
    stats socket {stats_socket} mode 600 level operator

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    # Tests only: a test opens its connections first and sends on them after. Kept alive no longer than http-request's
    # 10 s (HAProxy's default without this), a connection opened early in a slow warm-up (160 TLS handshakes on a
    # loaded machine) can be closed as its request goes out: the likeliest cause of "Server disconnected without
    # sending a response" in a clean-clone CI run, 7 December (not reproduced here, with or without this line).
    timeout http-keep-alive 60s
    option forwardfor

frontend events
    bind 127.0.0.1:{port} ssl crt {pem_file}
    http-request set-header X-Forwarded-Proto https
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    # Tests only: which host answered.
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


def _wait_for_balancer(cluster: Cluster) -> None:
    deadline = time.monotonic() + 60
    expected = {host.name for host in cluster.hosts}
    while True:
        try:
            up = cluster.hosts_up()
            healthy = httpx.get(f"{cluster.url}/healthz", verify=cluster.ssl_context(), timeout=5).status_code == 200
        except (OSError, httpx.HTTPError):
            up, healthy = set(), False
        if up == expected and healthy:
            return
        assert time.monotonic() < deadline, f"the balancer never saw every host up ({up}):\n{cluster.balancer_log.read_text()}"
        time.sleep(0.2)


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_certificates(directory: Path) -> tuple[Path, Path]:
    """A CA of the run's own and a certificate it signed for 127.0.0.1: the CA's file (what clients trust) and the
    balancer's PEM (certificate, then key)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "events cluster test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)  # certificate and CRL signing
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pem_file = directory / "balancer.pem"
    pem_file.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pem_file.chmod(0o600)
    return ca_file, pem_file
