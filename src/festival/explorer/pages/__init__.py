"""The explorer's pages, a module (and a Flask Blueprint of the same name) per family.

- `day`: / and /day, a festival night on a timeline;
- `performer`: /performer, a performer's sets;
- `whats_on`: /whats-on, the sets at a moment or between two;
- `clashes`: /clashes, a day's or the lineup's clashes;
- `calendars`: /calendar/<kind>/<name>.ics, feeds to subscribe to;
- `uploads`: /uploads, /upload and following one upload's load;
- `changes`: /uploads/changes, what an upload changed.

What they share is in `shared`; `errors` holds the pages of a failed request and `formats`
the templates' filters. Templates name a page as blueprint.function: ``url_for("day.day")``.
"""

from festival.explorer.pages import calendars, changes, clashes, day, performer, uploads, whats_on

PAGES = (
    day.blueprint,
    performer.blueprint,
    whats_on.blueprint,
    clashes.blueprint,
    calendars.blueprint,
    uploads.blueprint,
    changes.blueprint,
)
