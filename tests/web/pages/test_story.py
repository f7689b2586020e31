"""Acceptance 2: the story in a real browser over real HTTP, on a desktop and at a phone's viewport.

Screenshots of the inbox, the task page with its budget panel and the process picture go to
test-artifacts/ (desktop run)."""

from __future__ import annotations

import pytest

from tests.web.browser import ARTIFACTS
from tests.web.pages.story import Story, walk


@pytest.mark.slow
def test_the_story_on_a_desktop(site, open_page) -> None:
    walk(Story(site, open_page, shots="story-"))
    for name in ("inbox-and-task-inbox", "inbox-and-task-task", "document-with-process-picture"):
        assert (ARTIFACTS / f"story-{name}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_the_story_at_a_phone_viewport(site, open_page) -> None:
    story = Story(site, open_page, phone=True)
    walk(story)
    for page in story.pages.values():  # nothing sticks out sideways on a phone but the scrolling boxes
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
