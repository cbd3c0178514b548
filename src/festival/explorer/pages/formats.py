"""How the templates write times and sets (the filters `create_app` registers as
`FILTERS`). Moments are the lineup's ISO strings, in the festival's local time."""

from __future__ import annotations

from datetime import datetime

from festival.explorer.clash_view import set_key
from festival.explorer.pages.shared import explorer
from festival.nights import night_of


def hour_minute(moment: str) -> str:
    return moment[11:16]


def weekday(moment: str) -> str:
    return datetime.fromisoformat(moment).strftime("%a")


def night(moment: str) -> str:
    """The festival day a moment belongs to (a 01:00 start: the night before), ISO."""
    return night_of(datetime.fromisoformat(moment), explorer().day_starts()).isoformat()


def when(moment: str) -> str:
    return datetime.fromisoformat(moment).strftime("%a %d %b %Y, %H:%M")


def until(performance: dict) -> str:
    """The end as a time, with the day after when the set runs past midnight."""
    end = performance["end"][11:16]
    return f"{end} (next day)" if performance["end"][:10] > performance["start"][:10] else end


FILTERS = {
    "hm": hour_minute,
    "weekday": weekday,
    "night": night,
    "when": when,
    "until": until,
    "set_key": set_key,
}
