"""The control page (``GET /_emulator/``): the sheets, with approve / reject / cancel buttons."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any


def sheets_page(corp_id: str, instances: Iterable[dict[str, Any]]) -> str:
    rows = "".join(page_row(info) for info in sorted(instances, key=lambda i: i["sp_no"]))
    return ("<!doctype html><meta charset=utf-8><title>WeCom emulator</title><h1>企业微信 emulator</h1>"
            f"<p>corp {html.escape(corp_id)}</p><table><tr><th>sp_no<th>template<th>applicant"
            f"<th>status<th></tr>{rows}</table>")


def page_row(info: dict[str, Any]) -> str:
    sp_no = html.escape(info["sp_no"])
    buttons = "".join(f'<form method=post action="/_emulator/approvals/{sp_no}/{action}" style="display:inline">'
                      f'<input type=hidden name=back value=1><button>{action}</button></form>'
                      for action in ("approve", "reject", "cancel"))
    return (f"<tr><td>{sp_no}<td>{html.escape(info['sp_name'])}<td>{html.escape(info['applyer']['userid'])}"
            f"<td>{info['sp_status']}<td>{buttons}</tr>")
