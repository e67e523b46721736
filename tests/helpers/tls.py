"""A CA, certificates and TLS redis-servers made for a test, with the `openssl` CLI.

A redis-server built without TLS skips the test locally and fails it under CI.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from daemon.store.embedded import LOOPBACK, find_redis_server, pick_free_port
from tests.helpers.redis import wait_until_listening

# Every character that means something in a URL's authority part.
PASSWORD = "p#w@d:s/x?y%z"
READY_TIMEOUT_S = 10.0
POLL_S = 0.05
CERT_DAYS = "2"
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def need_openssl() -> None:
    if shutil.which("openssl") is None:
        pytest.skip("no `openssl` CLI to make a test CA with")


def _openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


def issue(folder: Path, name: str, dns: str, ip: str | None = None) -> tuple[Path, Path]:
    """A key and a certificate for `dns` (and `ip`), signed by the CA in `folder`."""
    also = f",IP:{ip}" if ip else ""
    (folder / f"{name}.ext").write_text(f"subjectAltName=DNS:{dns}{also}\n")
    _openssl("req", "-new", *EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={dns}", cwd=folder)  # fmt: skip
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", CERT_DAYS, "-out", f"{name}.pem",
             "-extfile", f"{name}.ext", cwd=folder)  # fmt: skip
    return folder / f"{name}.pem", folder / f"{name}.key"


def make_ca(folder: Path) -> Path:
    _openssl("req", "-x509", "-new", *EC_KEY, "-keyout", "ca.key", "-out", "ca.pem",
             "-days", CERT_DAYS, "-subj", "/CN=coachd test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip
    return folder / "ca.pem"


def start_tls_redis(
    folder: Path, cert: tuple[Path, Path], ca: Path, auth_clients: str = "yes"
) -> tuple[subprocess.Popen[bytes], int, int]:
    plain, tls = pick_free_port(), pick_free_port()
    log = folder / f"redis-{tls}.log"
    process = subprocess.Popen(
        [str(find_redis_server()), "--bind", LOOPBACK, "--port", str(plain),
         "--tls-port", str(tls), "--tls-cert-file", str(cert[0]), "--tls-key-file", str(cert[1]),
         "--tls-ca-cert-file", str(ca), "--tls-auth-clients", auth_clients,
         "--requirepass", PASSWORD,
         "--save", "", "--appendonly", "no", "--dir", str(folder), "--logfile", str(log)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_until_listening(process, tls, log)  # a build without TLS exits: skipped, or fails in CI
    return process, plain, tls


def start_tls_sentinel(
    folder: Path, cert: tuple[Path, Path], ca: Path, primaries: dict[str, int]
) -> tuple[subprocess.Popen[bytes], int]:
    """A sentinel on a TLS port only, reaching the primaries it monitors over TLS too."""
    port = pick_free_port()
    lines = [f"port 0\ntls-port {port}\nbind {LOOPBACK}\ndir {folder}",
             f"logfile {folder / f'sentinel-{port}.log'}",
             f"tls-cert-file {cert[0]}\ntls-key-file {cert[1]}\ntls-ca-cert-file {ca}",
             "tls-auth-clients no\ntls-replication yes"]  # fmt: skip
    for service, primary in primaries.items():
        lines += [f"sentinel monitor {service} {LOOPBACK} {primary} 1",
                  f'sentinel auth-pass {service} "{PASSWORD}"']  # fmt: skip
    conf = folder / f"sentinel-{port}.conf"
    conf.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen(
        [str(find_redis_server()), str(conf), "--sentinel"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis("localhost", port, ssl=True, ssl_ca_certs=str(ca), socket_timeout=1)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            states = [client.sentinel_master(service)["flags"] for service in primaries]
            if all(flags == "master" for flags in states):
                client.close()
                return process, port
        except (redis.RedisError, OSError):
            pass
        time.sleep(POLL_S)
    process.kill()
    raise AssertionError(f"the TLS sentinel did not see its primaries within {READY_TIMEOUT_S}s")
