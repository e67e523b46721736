"""A local SMTP receiver on a free loopback port, for the demo (and the tests' fake mail server)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"


class LocalSmtpServer(Controller):
    """aiosmtpd's threaded server on port 0; `port` is the real port once started.

    aiosmtpd 1.4's Controller pings `self.port` right after binding, so the real port
    must be learnt before that ping.
    """

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, hostname=LOOPBACK, port=0, **kwargs)

    def _trigger_server(self) -> None:
        server = self.server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]
