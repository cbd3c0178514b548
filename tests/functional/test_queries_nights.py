"""Festival nights asked of festival.queries against brute-force answers over the rows.

The same generated lineups as test_queries_match_brute_force (sets of 15 minutes to 24
hours starting at any minute, many past midnight and past the boundary), with boundaries
that include midnight, the default 06:00, one with minutes and noon:

- a night's sets: every set whose start falls in [boundary on the date, boundary the next
  day), whatever its end, so a set starting at 01:00 is the night before's;
- a file's nights: the nights of its first and its last start (a boundary at midnight:
  its calendar days);
- an upload's record: found by the file and its ETag, and by the file alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from festival.nights import night_of, night_window
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

BOUNDARIES = st.sampled_from([time(0, 0), time(4, 30), time(6, 0), time(12, 0)])


def sets(performances) -> Counter:
    return Counter(
        (str(p["start"]), name_key(p["stage"]), name_key(p["performer"])) for p in performances
    )


def written(lineup_sets) -> Counter:
    return Counter(
        (row.start.strftime("%Y-%m-%dT%H:%M"), name_key(row.stage), name_key(row.performer))
        for row in lineup_sets
    )


@queries_settings
@given(scenarios(), BOUNDARIES)
def test_a_nights_sets_and_a_files_nights_are_what_a_brute_force_filter_finds(
    memory_aws, scenario, boundary
):
    performances = scenario.performances()
    with loaded(memory_aws, scenario.files) as queries:
        for offset in range(-1, FESTIVAL_DAYS + 1):
            night = FIRST_DAY + timedelta(days=offset)
            first, last = night_window(night, boundary)
            found = queries.on_night(night, boundary)
            assert sets(found) == written(p for p in performances if first <= p.start < last), (
                f"sets of the night of {night}, from {boundary}"
            )
            assert [p["start"] for p in found] == sorted(p["start"] for p in found)

        for number, rows in enumerate(scenario.files):
            nights = [night_of(row.start, boundary) for row in rows]
            assert queries.nights_of(f"uploads/lineup-{number}.csv", boundary) == (
                min(nights),
                max(nights),
            )
        assert queries.nights_of("uploads/never-uploaded.csv", boundary) is None

        for number in range(len(scenario.files)):
            file = f"uploads/lineup-{number}.csv"
            (version,) = queries.upload_versions(file)
            assert version["file"] == file and version["status"] == "OK"
            assert queries.upload(file, version["etag"]) == version
            assert queries.upload(file, "0" * 32) is None
