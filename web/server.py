"""The production WSGI server (waitress: pure Python, threads, runs wherever Python runs)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from waitress.server import create_server


class Server:
    """A bound server: ``url`` is known before ``run`` blocks (port 0 picks a free port)."""

    def __init__(self, app: Flask, *, host: str, port: int, threads: int = 8) -> None:
        # clear_untrusted_proxy_headers: X-Forwarded-* count only through ProxyFix when configured
        self._server: Any = create_server(app, host=host, port=port, threads=threads, ident="budgetflow",
                                          clear_untrusted_proxy_headers=True)
        self.host = host
        self.port: int = self._server.effective_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT (or ``close`` from another thread)."""
        with _interrupting_on_signals():
            try:
                self._server.run()
            except (KeyboardInterrupt, OSError):  # a signal, or closed under the loop: a normal stop
                pass
        self.close()

    def close(self) -> None:
        self._server.close()


@contextmanager
def _interrupting_on_signals() -> Iterator[None]:
    """SIGTERM, like SIGINT, interrupts the loop. Closing the listening socket alone would not end it while a
    client keeps a connection open (keep-alive), so the stop must leave the loop itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
