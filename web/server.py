"""The production WSGI server (waitress: pure Python, threads, runs wherever Python runs)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
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
        with _closing_on_signals(self.close):
            try:
                self._server.run()
            except (KeyboardInterrupt, OSError):  # closed under the loop: a normal stop
                pass

    def close(self) -> None:
        self._server.close()


@contextmanager
def _closing_on_signals(close: Callable[[], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_: close()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
