"""Starts a real Dovecot IMAP server from a throwaway config, for the IMAP poller's tests."""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path

from daemon.embedded_redis import pick_free_port

DOVECOT = "/usr/sbin/dovecot"
LOOPBACK = "127.0.0.1"
PASSWORD = "secret"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.05
CLIENT_TIMEOUT_S = 5.0
CERT_DAYS = "2"
DIR_MODE = 0o755

CONFIG = """\
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 0
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={root}/home/%u
}}
mail_location = maildir:{root}/mail/%u
# No auth penalty: the wrong-password test retries at once from the same address.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
}}
{ssl}
"""

SSL_OFF = "ssl = no"
SSL_REQUIRED = """\
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
"""


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
    ssl_block = SSL_REQUIRED.format(root=root) if tls else SSL_OFF
    (root / "dovecot.conf").write_text(CONFIG.format(ssl=ssl_block, **settings))
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
