"""budgetflow's web app served over real HTTP on loopback for the OA tests (callbacks, sign-in, links)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from engine.bootstrap import Container
from tests.web.conftest import web_settings
from web.app import create_app
from web.server import Server


@contextmanager
def served(container: Container, *, threads: int = 4) -> Iterator[str]:
    """The app made now (it reads the OA settings as it starts), served until the block ends; yields its URL."""
    server = Server(create_app(container, web=web_settings()), host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.url.rstrip("/")
    finally:
        server.close()
        thread.join(timeout=10)
