"""The explorer's questions of festival.queries against brute-force answers over the rows.

The same generated lineups as test_queries_match_brute_force (names in any case and
spacing, several stages and days, sets of 15 minutes to 24 hours, many past midnight):

- a day's sets: every set whose start falls on that day, whatever its end;
- a file's days: the first and the last day a set of that file starts on;
- an upload's record: found by the file and its ETag, and by the file alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given

from lineup_ingest.schema import name_key
from tests.functional import test_queries_match_brute_force as brute
from tests.functional.test_queries_match_brute_force import (
    FESTIVAL_DAYS,
    FIRST_DAY,
    loaded,
    queries_settings,
    scenarios,
)

pytestmark = pytest.mark.functional
memory_aws = brute.memory_aws  # the fixture: in-memory S3 and DynamoDB


def sets(performances) -> Counter:
    """Which sets, by the item's identity: start, stage and performer in any spelling.

    (A set written twice in a file, in two spellings, is one item; which spelling the item
    keeps is the loader's business, not the query's.)
    """
    return Counter(
        (str(p["start"]), name_key(p["stage"]), name_key(p["performer"])) for p in performances
    )


def written(lineup_sets) -> Counter:
    return Counter(
        (row.start.strftime("%Y-%m-%dT%H:%M"), name_key(row.stage), name_key(row.performer))
        for row in lineup_sets
    )


@queries_settings
@given(scenarios())
def test_a_days_sets_and_a_files_days_are_what_a_brute_force_filter_finds(memory_aws, scenario):
    performances = scenario.performances()
    with loaded(memory_aws, scenario.files) as queries:
        for offset in range(-1, FESTIVAL_DAYS + 1):
            day = FIRST_DAY + timedelta(days=offset)
            found = queries.on_day(day)
            assert sets(found) == written(p for p in performances if p.start.date() == day), (
                f"sets of {day}"
            )
            assert [p["start"] for p in found] == sorted(p["start"] for p in found)

        for number, rows in enumerate(scenario.files):
            starts = [row.start.date() for row in rows]
            assert queries.days_of(f"uploads/lineup-{number}.csv") == (min(starts), max(starts))
        assert queries.days_of("uploads/never-uploaded.csv") is None

        for number in range(len(scenario.files)):
            file = f"uploads/lineup-{number}.csv"
            (version,) = queries.upload_versions(file)
            assert version["file"] == file and version["status"] == "OK"
            assert queries.upload(file, version["etag"]) == version
            assert queries.upload(file, "0" * 32) is None
