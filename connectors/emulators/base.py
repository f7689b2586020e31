"""What every emulator shares: a clock tests can move, fault switches, and a loopback HTTP server in a thread.

Each vendor's emulator is a WSGI application built on werkzeug's routing (werkzeug, not Flask: only the web
package imports Flask). The control endpoints under ``/_emulator/`` (faults, clock, state) are the
emulator's own, not the vendor's, and are how tests and the demo drive it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


class Clock:
    """Wall-clock seconds, plus an offset a test can advance (token expiry, code expiry, timestamp windows)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Faults:
    """Switches for the faults real tenants produce; all off by default."""

    throttle_every: int = 0  # every Nth API call answers the vendor's rate-limit error (0: never)
    expire_tokens: bool = False  # every issued token is already expired when next used
    drop_callbacks: bool = False  # callbacks are not delivered at all
    duplicate_callbacks: int = 0  # each callback is delivered this many extra times
    slow_seconds: float = 0.0  # each API answer waits this long first

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}: one of {', '.join(known)}")
            setattr(self, name, type(getattr(self, name))(value))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


class Emulator:
    """A vendor emulator: subclasses add ``Rule(path, endpoint=method name)`` entries to ``rules``."""

    rules: ClassVar[Iterable[Rule]] = ()

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.faults = Faults()
        self.calls = 0  # API calls served, for throttling every Nth
        self.lock = threading.RLock()  # the server is threaded; state changes hold this
        # Rules are copied (``empty()``): a werkzeug Rule binds to one Map, and a process may run two emulators.
        self._map = Map([*(rule.empty() for rule in self.rules),
                         Rule("/_emulator/faults", endpoint="control_faults", methods=["POST"]),
                         Rule("/_emulator/clock", endpoint="control_clock", methods=["POST"])])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        adapter = self._map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            handler = getattr(self, endpoint)
            if not endpoint.startswith("control_"):
                self.calls += 1
                if self.faults.slow_seconds:
                    time.sleep(self.faults.slow_seconds)
            response = handler(request, **args)
        except NotFound:
            response = self.not_found(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def throttled_now(self) -> bool:
        """Whether this API call meets the throttle switch (every Nth call)."""
        every = self.faults.throttle_every
        return bool(every) and self.calls % every == 0

    def not_found(self, request: Request) -> Response:
        return json_response({"error": f"no such endpoint: {request.method} {request.path}"}, 404)

    def control_faults(self, request: Request) -> Response:
        try:
            self.faults.update(request.get_json(force=True) or {})
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(asdict(self.faults))

    def control_clock(self, request: Request) -> Response:
        body = request.get_json(force=True) or {}
        self.clock.advance(float(body.get("advance", 0)))
        return json_response({"now": self.clock.now()})


class Running:
    """An emulator served on loopback in a daemon thread; ``url`` is its base address."""

    def __init__(self, app: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"emulator {self.url}", daemon=True)  # quick to stop
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
