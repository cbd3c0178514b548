"""The bottom-k sketch that tells the same lineup under two names (lineup_ingest.sketch)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from lineup_ingest import sketch
from lineup_ingest.parts import PartTask, Progress
from lineup_ingest.sketch import Sketch, containment, same_lineup, set_hash
from tests.pipeline import part_task


def sets(count: int, tag: str = "") -> list[int]:
    return [
        set_hash(f"Act {tag}{n}", f"Stage {n % 4}", f"2025-07-12T{n % 24:02d}:00", "2025-07-13")
        for n in range(count)
    ]


def test_a_set_hashes_alike_whatever_the_case_and_spacing_of_its_names():
    assert set_hash("  sigur   RÓS ", "main stage", "2025-07-13T23:00", "2025-07-14T00:30") == (
        set_hash("Sigur Rós", "Main Stage", "2025-07-13T23:00", "2025-07-14T00:30")
    )
    assert set_hash("Sigur Rós", "Main Stage", "2025-07-13T23:00", "2025-07-14T00:45") != (
        set_hash("Sigur Rós", "Main Stage", "2025-07-13T23:00", "2025-07-14T00:30")
    )


def test_a_sketch_keeps_the_k_smallest_distinct_hashes():
    hashes = sets(1000)
    built = Sketch(hashes + hashes[:10])  # a set twice in a file counts once

    assert built.hashes() == sorted(set(hashes))[: sketch.K]
    assert not built.whole and len(built) == sketch.K


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=400),
    st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=400),
    st.randoms(use_true_random=False),
)
def test_merging_the_parts_sketches_gives_the_sketch_of_the_whole_file(first, second, shuffle):
    parts = [first[: len(first) // 2], first[len(first) // 2 :], second]
    shuffle.shuffle(parts)
    whole = Sketch(first + second)
    merged = Sketch()
    for part in parts:
        merged.merge(Sketch.decode(Sketch(part).encode()))  # as stored on each part's item

    assert merged.hashes() == whole.hashes()
    assert Sketch.decode(whole.encode()).hashes() == whole.hashes()


def test_a_part_handed_on_carries_its_sketch_in_its_message():
    carried = Sketch(sets(300)).encode()
    task = part_task(done=Progress(rows_read=300, rows_loaded=300, sketch=carried))

    assert PartTask.from_message(task.to_message()).done.sketch == carried


def test_small_files_are_compared_exactly():
    upload = Sketch(sets(100))
    other = Sketch(sets(90) + sets(20, tag="other "))

    found = containment(upload, other)

    assert found is not None and found.exact
    assert found.share == 0.9 and found.samples == 100


def test_large_files_are_estimated_within_the_stated_error():
    # 20,000 sets, of which a known share is in the other file: the estimate rests on the
    # 128 sampled sets, standard error at most 0.5 / sqrt(128), about 4.4 points.
    generator = random.Random(20)
    for share in (0.5, 0.8, 0.93, 1.0):
        shared = sets(int(20_000 * share))
        upload = Sketch(shared + sets(20_000 - len(shared), tag="new "))
        other = Sketch(shared + sets(generator.randint(0, 2_000), tag="old "))

        found = containment(upload, other)

        assert found is not None and not found.exact
        assert found.samples >= sketch.MIN_SAMPLES
        assert abs(found.share - share) <= 3 * 0.5 / sketch.K**0.5, (share, found)


def test_a_small_file_against_a_far_larger_one_is_not_guessed():
    # 200 sets, all in a file of 100,000: too few of them fall under the larger file's
    # threshold for an estimate, so nothing is claimed.
    upload = Sketch(sets(200))
    other = Sketch(sets(100_000))

    assert containment(upload, other) is None


def test_same_lineup_names_the_file_holding_the_largest_share_of_at_least_80_percent():
    upload = Sketch(sets(100))
    others = {
        "uploads/half.csv": Sketch(sets(50)),
        "uploads/most.csv": Sketch(sets(85)),
        "uploads/all.csv": Sketch(sets(100) + sets(30, tag="x")),
    }

    name, found = same_lineup(upload, others) or ("", None)

    assert name == "uploads/all.csv" and found is not None and found.share == 1.0
    assert same_lineup(upload, {"uploads/half.csv": others["uploads/half.csv"]}) is None
    assert same_lineup(Sketch(), others) is None
