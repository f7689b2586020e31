"""``/callbacks/<vendor>``: where DingTalk, WeCom and Feishu post their events (engine.services.oa_callbacks).

No session, no CSRF token: the vendor proves itself with its signature and encryption, which the engine
checks. The body is read up to one byte past the limit, so an oversized post costs no more than that.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, request

from connectors.oa.callbacks import MAX_BODY_BYTES
from engine.bootstrap import Container
from engine.oa_settings import load_oa_connections
from engine.services import oa_callbacks
from web.context import OA_CONNECTIONS, container, oa_connections
from web.security import csrf

bp = Blueprint("callbacks", __name__)


def init_app(app: Flask, engine: Container) -> None:
    """Read the OA settings now (a bad file stops the app from starting) and mount the endpoint."""
    app.extensions[OA_CONNECTIONS] = load_oa_connections(engine.settings.instance_dir)
    csrf.exempt(bp)
    app.register_blueprint(bp)


@bp.route("/callbacks/<vendor>", methods=["GET", "POST"])
def callback(vendor: str) -> Response:
    engine = container()
    body = request.stream.read(MAX_BODY_BYTES + 1) if request.method == "POST" else b""
    answer = oa_callbacks.receive(
        oa_connections(), vendor, method=request.method, query=request.args.to_dict(),
        headers=request.headers, body=body, now=time.time(), nonces=engine.oa_nonces(),
        inbox=engine.oa_callbacks(), remote=request.remote_addr or "")
    return Response(answer.body, status=answer.status, content_type=answer.content_type)
