"""The day view's pages of stages, for a festival night too big for one page. Pure.

A night of more than MAX_SETS_PER_PAGE sets is shown a page of whole stages at a time, in
the timeline's order; the timeline, the clash marks and the "now" line are the whole
night's on every page, so only what is drawn is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from festival.explorer.timeline import DayTimeline
from lineup_ingest import schema

# The day view writes about 800 bytes of HTML a set (its block on the timeline about 470, its
# row in the table about 350), and a stage line up to 1.2 KB more (an 18-hour night's
# gridlines): a page of 400 sets is about 330 KB, and 400 stages of one set each about
# 820 KB, under the 1 MB a page may weigh. 10,000 sets on one page were 8 MB.
MAX_SETS_PER_PAGE = 400


@dataclass(frozen=True)
class StagesPage:
    """The page of stages shown: which stages (indices into the night's, in order), and
    where they stand in the night, for the page's line and links."""

    number: int  # 1-based
    count: int  # pages of the night
    stages: range
    stage_count: int
    sets: int
    set_count: int
    error: str | None = None  # why the page asked for is not the one shown

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None


def stage_pages(sizes: Sequence[int], limit: int) -> list[range]:
    """The night's stages (their numbers of sets, in order) cut into pages of whole stages:
    each page takes stages until the next would take it past ``limit`` sets. A stage of
    more sets than that is a page on its own, since a stage is never split."""
    pages: list[range] = []
    first, held = 0, 0
    for index, size in enumerate(sizes):
        if index > first and held + size > limit:
            pages.append(range(first, index))
            first, held = index, 0
        held += size
    if sizes:
        pages.append(range(first, len(sizes)))
    return pages


def stages_page(
    sizes: Sequence[int], asked: str = "", limit: int | None = None
) -> StagesPage | None:
    """The page of stages to show for ``?stages-page=`` (``asked``, 1-based; empty: the
    first), or None when the night fits on one page (of ``limit`` sets, by default
    MAX_SETS_PER_PAGE as it is when asked). A page that is not a number or not one of the
    night's shows the nearest that is, and says why."""
    if limit is None:
        limit = MAX_SETS_PER_PAGE
    if sum(sizes) <= limit:
        return None
    pages = stage_pages(sizes, limit)
    number, error = 1, None
    if asked.strip():
        try:
            number = int(asked)
        except ValueError:
            number = 0
        if not 1 <= number <= len(pages):
            error = f"{asked.strip()!r} is not a page of stages from 1 to {len(pages)}"
            number = min(max(number, 1), len(pages))
            error += f": page {number} shown"
    stages = pages[number - 1]
    return StagesPage(
        number=number,
        count=len(pages),
        stages=stages,
        stage_count=len(sizes),
        sets=sum(sizes[index] for index in stages),
        set_count=sum(sizes),
        error=error,
    )


def on_page(
    timeline: DayTimeline, performances: list[dict], page: StagesPage
) -> tuple[DayTimeline, list[dict]]:
    """The night's timeline with the page's stage lines only (its hours unchanged, so every
    page reads alike), and the page's sets in the order given."""
    lines = [timeline.stages[index] for index in page.stages]
    shown = {schema.name_key(line.stage) for line in lines}
    return replace(timeline, stages=lines), [
        p for p in performances if schema.name_key(p["stage"]) in shown
    ]
