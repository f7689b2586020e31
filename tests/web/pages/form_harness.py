"""Draw a form with the real templates and submit it the way a browser does, without a browser or database.

``render(fields)`` renders web/templates/pages/_form.html's macros in a small Flask app (the real
filters, the real template); ``submitted(html, button=...)`` is what a browser sends for that markup:
every named input's value, checkboxes and radios only when checked, a select's selected option (else
its first), textareas' text, and the pressed button alone.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from werkzeug.datastructures import MultiDict

from web.forms import Field
from web.i18n import money
from web.pages.view_helpers import pick

TEMPLATES = Path(__file__).resolve().parents[3] / "web" / "templates"
SOURCE = ('{% import "pages/_form.html" as forms %}<form>{% for f in fields %}{{ forms.field(f, {}) }}{% endfor %}'
          '{% for f in fields if f.kind == "decision" %}{% for o in f.options %}'
          '<button type="submit" name="decision" value="{{ o.value }}">{{ o.title }}</button>'
          '{% endfor %}{% endfor %}</form>')


def _app() -> Flask:
    app = Flask("form_harness", template_folder=str(TEMPLATES))
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    app.jinja_env.filters.update(pick=pick, money=money)
    app.add_url_rule("/attachments/<attachment_id>", "pages.attachment", lambda attachment_id: "")
    return app


APP = _app()


def render(fields: list[Field]) -> str:
    with APP.test_request_context("/", headers={"Accept-Language": "en"}):
        return APP.jinja_env.from_string(SOURCE).render(fields=fields)


class _Form(HTMLParser):
    def __init__(self, button: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.button = button
        self.sent: list[tuple[str, str]] = []
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list[str] | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._template = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "template":
            self._template += 1
        if self._template:
            return  # a row template is inert until a script copies it
        name = a.get("name")
        if tag == "input" and name:
            self._input(a, name)
        elif tag == "button" and name and a.get("type", "submit") == "submit" and a.get("value") == self.button:
            self.sent.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def _input(self, a: dict[str, str], name: str) -> None:
        kind = a.get("type", "text")
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        if kind == "file":
            return
        self.sent.append((name, a.get("value", "on" if kind in ("checkbox", "radio") else "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._template -= 1
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            self.sent.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            value = "".join(text)
            self.sent.append((name, value[1:] if value.startswith("\n") else value))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and not self._template:
            self._textarea[1].append(data)


def submitted(html: str, button: str | None = None) -> MultiDict[str, str]:
    form = _Form(button)
    form.feed(html)
    return MultiDict(form.sent)
