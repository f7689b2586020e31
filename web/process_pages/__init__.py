"""Process pages: deployed versions with their diagrams, incidents with a retry, upload → check → publish."""

from __future__ import annotations

from web.process_pages import incidents, publish, stats, versions
from web.process_pages.blueprint import bp

__all__ = ["bp", "incidents", "publish", "stats", "versions"]
