"""The deploy files and the README say what the code does (issue 15 item 14)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands import EXIT_OK
from daemon.config.load import load_coach_config
from daemon.inbound.message import InboundMessage
from daemon.inbound.receiver import ReplyHandler
from jobs.replytoken import sign_reply_token, thread_key

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "coachd.service"
EXAMPLE = ROOT / "deploy" / "coachd.example.toml"
ENV_EXAMPLE = ROOT / "deploy" / "coachd.env.example"
README = ROOT / "README.md"
KEY = b"test-signing-key-0123456789-abcdefghij"
DOMAIN = "reply.northstar.example"


def _unit_config_path() -> Path:
    [line] = [line for line in UNIT.read_text().splitlines() if line.startswith("Environment=")]
    settings = dict(part.split("=", 1) for part in line.removeprefix("Environment=").split())
    return Path(settings["COACHD_CONFIG_PATH"])


def _pip_install_line() -> list[str]:
    [line] = [line for line in UNIT.read_text().splitlines() if "/bin/pip install" in line]
    return line.split("/bin/pip install", 1)[1].split()


def test_the_unit_installs_coachd_from_its_source_not_by_a_name_pypi_does_not_have() -> None:
    """coachd is not on PyPI: the line names a path (the checkout), never the bare name."""
    arguments = _pip_install_line()
    assert arguments == ["."]
    assert "coachd" not in arguments


def test_the_units_install_line_installs_coachd_from_a_checkout(tmp_path: Path) -> None:
    """What the line runs, from the checkout, installs the command and the templates (the
    dependencies are left out here: pip resolves them the usual way)."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to copy the checkout")
    checkout = tmp_path / "checkout"
    # A clean copy of the tracked files, as a user's checkout has them (no .venv, no caches).
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    target = tmp_path / "installed"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, *_pip_install_line()], cwd=checkout, check=True, timeout=120)

    assert (target / "daemon" / "cli.py").is_file()
    assert (target / "templates" / "reminder" / "body.txt").is_file()
    entry_points = next(target.glob("coachd-*.dist-info")) / "entry_points.txt"
    assert "coachd = daemon.cli:main" in entry_points.read_text()


def test_the_example_file_suggests_the_folder_the_service_reads(tmp_path: Path) -> None:
    """The header's copy and check lines name COACHD_CONFIG_PATH of the unit, and a file
    copied there is read (beside the unit's coachd.env, which the loader leaves alone)."""
    config_path = _unit_config_path()
    header = EXAMPLE.read_text().split("[firm]", 1)[0]
    [copy_to] = re.findall(r"for example as (/\S+\.toml)", header)
    [checked] = re.findall(r"coachd check-config (\S+)", header)
    assert Path(copy_to).parent == config_path
    assert Path(checked) == config_path
    assert f"/etc/coachd/{Path(copy_to).name}" in UNIT.read_text()  # the unit's install step

    folder = tmp_path / "etc-coachd"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / Path(copy_to).name)
    shutil.copy(ENV_EXAMPLE, folder / "coachd.env")
    assert set(load_coach_config(folder).coaches) == {"maria", "james"}


def test_check_config_warns_about_the_placeholder_unsubscribe_url_with_file_and_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check-config", str(EXAMPLE)]) == EXIT_OK

    out = capsys.readouterr().out
    assert (
        f"warning: {EXAMPLE}: firm.unsubscribe_url: 'https://YOUR-FIRM.example/unsubscribe/' is"
        " a placeholder (.example is reserved for documentation and reaches no one): the"
        " unsubscribe link in every email would lead nowhere; replace it"
    ) in out
    assert f"warning: {EXAMPLE}: coaches.maria.email: 'maria@northstar.example'" in out
    assert "5 warning(s): placeholders to replace before going live." in out


def test_real_addresses_get_no_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "firm.toml"
    real.write_text(
        EXAMPLE.read_text()
        .replace("northstar.example", "northstar-coaching.eu")
        .replace("YOUR-FIRM.example", "northstar-coaching.eu")
    )

    assert main(["check-config", str(real)]) == EXIT_OK
    assert "warning" not in capsys.readouterr().out


def test_the_bounce_address_the_readme_gives_is_one_the_receiver_takes() -> None:
    """README: bounces of client emails go to `bounces+<token>@<reply_domain>`; a bare
    `bounces@` (which it used to name) is refused at RCPT."""
    readme = " ".join(README.read_text().split())
    assert "bounces go to `bounces@<reply_domain>`" not in readme
    assert "bounces of client emails go to `bounces+<token>@<reply_domain>`" in readme
    token = sign_reply_token(KEY, thread_key(KEY, "c1"), 0, date(2027, 4, 1))

    async def sink(message: InboundMessage) -> None:
        raise AssertionError("nothing is delivered here")

    handler = ReplyHandler(sink, DOMAIN, "smtp")
    assert handler.accepts(f"bounces+{token}@{DOMAIN}")
    assert not handler.accepts(f"bounces@{DOMAIN}")
