"""WeCom's answers: ``{errcode: 0, errmsg: "ok", ...}``, and a refusal (``Invalid``) as WeCom words it, HTTP 200."""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.wrappers import Response

from connectors.emulators.base import json_response


class Invalid(Exception):
    """A request WeCom refuses: its errcode and errmsg."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def error(errcode: int, errmsg: str) -> Response:
    hint = secrets.token_hex(6)
    return json_response({"errcode": errcode, "errmsg": f"{errmsg}, hint: [{hint}], more info at "
                          f"https://open.work.weixin.qq.com/devtool/query?e={errcode}"})


def ok(**body: Any) -> Response:
    return json_response({"errcode": 0, "errmsg": "ok", **body})
