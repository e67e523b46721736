"""A real Dovecot from a throwaway config, and a per-test mailbox harness for the IMAP poller."""

from __future__ import annotations

import asyncio
import getpass
import imaplib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from string import Template
from typing import Any

import redis.asyncio as redis_async

from daemon.inbound.imappoller import ImapConfig, ImapPoller
from daemon.inbound.message import InboundMessage
from daemon.store.embedded import pick_free_port

DOVECOT = "/usr/sbin/dovecot"
LOOPBACK = "127.0.0.1"
PASSWORD = "secret"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.05
CLIENT_TIMEOUT_S = 5.0
POLLER_TIMEOUT_S = 5.0
LONG_POLL_S = 30.0  # longer than any test: mail that arrives quickly came through IDLE
CERT_DAYS = "2"
DIR_MODE = 0o755

TEMPLATE = Path(__file__).with_name("dovecot.conf.in")
SSL_OFF = "ssl = no"
SSL_REQUIRED = "ssl = required\nssl_cert = <$root/cert.pem\nssl_key = <$root/key.pem"


def message(n: int) -> bytes:
    return (
        f"From: client{n}@example.org\r\nTo: reply@coach.example\r\n"
        f"Subject: reply {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\ndone {n}\r\n"
    ).encode()


class RecordingSink:
    """Records what it accepted; raises instead for the next `failures` messages."""

    def __init__(self) -> None:
        self.received: list[InboundMessage] = []
        self.failures = 0
        self.arrived = asyncio.Event()

    async def __call__(self, message: InboundMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("inbox unavailable")
        self.received.append(message)
        self.arrived.set()

    @property
    def raws(self) -> list[bytes]:
        return [m.raw for m in self.received]


@dataclass
class Mailbox:
    """One test's IMAP user on a shared Dovecot, the Redis and sink its pollers use."""

    server: Dovecot
    user: str
    redis: redis_async.Redis
    sink: RecordingSink = field(default_factory=RecordingSink)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def config(self, **overrides: Any) -> ImapConfig:
        base = ImapConfig(
            host="127.0.0.1",
            port=self.server.port,
            tls="none",
            user=self.user,
            password=PASSWORD,
            poll_s=LONG_POLL_S,
            timeout_s=POLLER_TIMEOUT_S,
        )
        return replace(base, **overrides)

    def poller(self, **overrides: Any) -> ImapPoller:
        return ImapPoller(self.config(**overrides), self.redis, self.sink)

    def run(self, **overrides: Any) -> asyncio.Task[None]:
        """Start `run()` in a task; the fixture stops it and checks that it ends by itself."""
        self.tasks.append(asyncio.create_task(self.poller(**overrides).run(self.stop)))
        return self.tasks[-1]

    async def deliver(self, *raws: bytes, mailbox: str = "INBOX") -> None:
        for raw in raws:
            await asyncio.to_thread(self.server.append, self.user, raw, mailbox)

    async def create(self, mailbox: str) -> None:
        await asyncio.to_thread(self.server.create, self.user, mailbox)

    async def stored(self, mailbox: str = "INBOX") -> list[tuple[bytes, str]]:
        return await asyncio.to_thread(self.server.messages, self.user, mailbox)


def dovecot_missing() -> str | None:
    """Why Dovecot cannot run here, or None when it can."""
    if not os.access(DOVECOT, os.X_OK):
        return f"{DOVECOT} not found: apt-get install -y dovecot-imapd"
    if not shutil.which("openssl"):
        return "openssl not found"
    return None


@dataclass
class Dovecot:
    """One Dovecot child: plain IMAP (with STARTTLS when TLS is on) and implicit-TLS IMAPS."""

    root: Path
    port: int
    tls_port: int
    process: subprocess.Popen[bytes]
    ca_file: str | None

    def client(self, user: str) -> imaplib.IMAP4:
        """A logged-in stdlib client, to put test mail in place (blocking: call in a thread)."""
        if self.ca_file is None:
            client = imaplib.IMAP4(LOOPBACK, self.port, timeout=CLIENT_TIMEOUT_S)
        else:
            context = ssl.create_default_context(cafile=self.ca_file)
            client = imaplib.IMAP4_SSL(
                LOOPBACK, self.tls_port, ssl_context=context, timeout=CLIENT_TIMEOUT_S
            )
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver `raw` into `user`'s `mailbox` with IMAP APPEND."""
        client = self.client(user)
        try:
            typ, data = client.append(mailbox, "", None, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def create(self, user: str, mailbox: str) -> None:
        client = self.client(user)
        try:
            typ, data = client.create(mailbox)
            assert typ == "OK", data
        finally:
            client.logout()

    def messages(self, user: str, mailbox: str = "INBOX") -> list[tuple[bytes, str]]:
        """(raw, FETCH line with flags) of every message in `user`'s `mailbox`, oldest first."""
        client = self.client(user)
        try:
            client.select(mailbox, readonly=True)
            _, found = client.uid("SEARCH", "ALL")
            result = []
            for uid in found[0].split():
                _, data = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                head, raw = data[0]  # type: ignore[misc]
                result.append((raw, head.decode()))
            return result
        finally:
            client.logout()

    def disconnect_all(self) -> None:
        """End every logged-in IMAP session, as a server restart or network cut would."""
        children = subprocess.run(
            ["ps", "--ppid", str(self.process.pid), "-o", "pid=,comm="],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in children.splitlines():
            pid, name = line.split()
            if name == "imap":
                os.kill(int(pid), signal.SIGKILL)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(*, tls: bool = False) -> Dovecot:
    """Write a config into a fresh world-readable temp dir and start Dovecot in the foreground.

    The temp dir is outside pytest's (root-only) tmp so Dovecot's unprivileged processes can
    reach it. As root, mail runs as the `dovecot` user and logins as `dovenull`, the users the
    Debian package creates (the login process refuses root); otherwise as the current user.
    """
    root = Path(tempfile.mkdtemp(prefix="coachd-dovecot-"))
    root.chmod(DIR_MODE)
    as_root = os.geteuid() == 0
    mail_user = "dovecot" if as_root else getpass.getuser()
    for sub in ("mail", "home"):
        (root / sub).mkdir(mode=DIR_MODE)
        shutil.chown(root / sub, mail_user, mail_user)
    ca_file = _make_cert(root) if tls else None
    port, tls_port = pick_free_port(), pick_free_port()
    settings = {
        "host": LOOPBACK,
        "root": root,
        "port": port,
        "tls_port": tls_port,
        "password": PASSWORD,
        "internal_user": mail_user,
        "login_user": "dovenull" if as_root else mail_user,
        "mail_user": mail_user,
    }
    ssl_block = Template(SSL_REQUIRED).substitute(root=root) if tls else SSL_OFF
    config = Template(TEMPLATE.read_text()).substitute(ssl=ssl_block, **settings)
    (root / "dovecot.conf").write_text(config)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=(root / "stderr.log").open("wb"),
    )
    server = Dovecot(root, port, tls_port, process, ca_file)
    _wait_ready(server)
    return server


def _make_cert(root: Path) -> str:
    """A self-signed certificate for 127.0.0.1; it is its own CA."""
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", CERT_DAYS),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert)


def _wait_ready(server: Dovecot) -> None:
    """Wait for the IMAP greeting; fail with Dovecot's own log if it never comes."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with socket.create_connection((LOOPBACK, server.port), timeout=1) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(POLL_INTERVAL_S)
    stderr = (server.root / "stderr.log").read_text(errors="replace")
    log = server.log()
    server.stop()
    raise RuntimeError(f"Dovecot did not start:\n{stderr}\n{log}")
