"""A user task's instructions (``spiffworkflow:instructionsForEndUser``): a Jinja template over the task data.

Rendered in Jinja's sandbox (no attribute access to internals, no calls out), with missing variables empty.
The result is Markdown text for the web app to escape and format; a template that does not render is shown
as it was written rather than failing the page.
"""

from __future__ import annotations

from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

_ENV = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)  # noqa: S701 - Markdown, escaped later
MAX_OUTPUT = 20_000


def render_instructions(template: str, data: dict[str, Any]) -> str:
    if not template:
        return ""
    try:
        return _ENV.from_string(template).render({k: v for k, v in data.items() if isinstance(k, str)})[:MAX_OUTPUT]
    except (TemplateError, TypeError, ValueError, ArithmeticError):
        return template
