"""The event loop choice: uvloop when importable, asyncio's loop when not, and the name logged."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

from daemon import loop


class FakeLoop(asyncio.SelectorEventLoop):
    """Stands in for uvloop's Loop: only its module's name matters to `running_loop`."""


FakeLoop.__module__ = "uvloop"


@pytest.fixture
def fake_uvloop(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("uvloop")
    module.new_event_loop = FakeLoop  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "uvloop", module)
    return module


@pytest.fixture
def no_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError


async def _name() -> str:
    return loop.running_loop()


@pytest.mark.usefixtures("fake_uvloop")
def test_uvloop_is_chosen_and_run_on_when_it_is_importable() -> None:
    assert loop.available_loop() == loop.UVLOOP
    assert loop.run(_name()) == loop.UVLOOP
    assert loop.run(_name(), loop.ASYNCIO) == loop.ASYNCIO


@pytest.mark.usefixtures("no_uvloop")
def test_asyncio_is_chosen_without_uvloop_and_asking_for_it_names_the_extra() -> None:
    assert loop.available_loop() == loop.ASYNCIO
    assert loop.loop_factory(loop.ASYNCIO) is None
    assert loop.run(_name()) == loop.ASYNCIO
    with pytest.raises(loop.LoopUnavailableError) as caught:
        loop.run(_name(), loop.UVLOOP)
    assert str(caught.value) == "event loop 'uvloop' is not installed (pip install 'coachd[fast]')"


@pytest.mark.parametrize(("receiver_port", "expected"), [(2525, loop.ASYNCIO), (None, None)])
def test_coachd_run_keeps_asyncio_while_the_smtp_receiver_is_on(
    monkeypatch: pytest.MonkeyPatch, receiver_port: int | None, expected: str | None
) -> None:
    """Under uvloop the receiver's 421 flood refusals do not go out, so it keeps asyncio."""
    import argparse

    from daemon import app, commands
    from daemon.settings import Settings

    chosen: list[str | None] = []

    async def nothing(_settings: Settings) -> None:
        return None

    def run(main: object, name: str | None = None) -> None:
        chosen.append(name)
        main.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(app, "run_daemon", nothing)
    monkeypatch.setattr(loop, "run", run)
    settings = Settings(_env_file=None, receiver_port=receiver_port)  # type: ignore[call-arg]
    assert commands.run(argparse.Namespace(settings=settings)) == commands.EXIT_OK
    assert chosen == [expected]
