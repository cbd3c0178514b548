"""The same lineup under two names, and each upload's time zone, through the function's
steps over the in-memory fakes (tests/fakes.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lineup_ingest import report as reports
from lineup_ingest import schema
from lineup_ingest.ingest import LoadSettings
from lineup_ingest.reconcile import SweepSettings
from lineup_ingest.report import IngestReport
from lineup_ingest.service import Invocation
from lineup_ingest.sketch import Sketch, set_hash
from tests.lineups import lineup_csv, lineup_rows
from tests.pipeline import MemoryAWS, deliver_queued


@dataclass
class Pipeline(MemoryAWS):
    settings: LoadSettings = field(default_factory=LoadSettings)

    def __post_init__(self) -> None:
        self.service = self.ingest_service(self.settings, SweepSettings())
        self.invocations = 0

    def load(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> str:
        """Upload a file and run everything it queues; the body of its email."""
        sent = len(self.mail.sent)
        self.invoke(self.bucket.put(key, body, metadata))
        self.deliver()
        return self.mail.sent[sent][1]

    def invoke(self, event: dict) -> dict:
        self.invocations += 1
        return self.service.handle(event, Invocation(f"r{self.invocations}", lambda: 300_000))

    def deliver(self) -> None:
        deliver_queued(self.queue, self.invoke)

    def record(self, key: str) -> dict:
        head = self.table.head(key) or {}
        versions = [r for r in self.table.records() if r.get("file") == key]
        current = [r for r in versions if r.get("version") == head.get("current")]
        return (current or versions)[-1]


def changed(rows: list[list[str]], count: int) -> list[list[str]]:
    """The rows with the first ``count`` performers renamed: other sets."""
    return [[f"{row[0]} (new)", *row[1:]] if n < count else row for n, row in enumerate(rows)]


def test_the_same_lineup_under_a_second_name_is_named_in_its_email_with_how_to_replace_it():
    pipeline = Pipeline()
    body = lineup_csv(lineup_rows(60))

    first = pipeline.load("uploads/lineup.csv", body)
    second = pipeline.load("uploads/lineup-v2.csv", body)

    assert "Same lineup" not in first
    other = f"s3://{pipeline.bucket.name}/uploads/lineup.csv"
    assert f"Same lineup:   most of these sets (100%) are already in {other}," in second
    assert f"To replace it, delete it (aws s3 rm {other})" in second
    assert f"(aws s3 cp <this file> {other})" in second
    record = pipeline.record("uploads/lineup-v2.csv")
    assert (record["same_lineup_file"], record["same_lineup_percent"]) == (
        "uploads/lineup.csv",
        100,
    )
    assert record["same_lineup_exact"] is True


def test_the_email_sent_again_from_the_record_says_the_same():
    pipeline = Pipeline()
    body = lineup_csv(lineup_rows(30))
    pipeline.load("uploads/a.csv", body)
    sent = pipeline.load("uploads/b.csv", body)

    again = reports.body(IngestReport.from_facts(pipeline.record("uploads/b.csv")))

    assert again == sent


def test_a_large_lineup_in_parts_is_estimated_from_its_parts_sketches():
    pipeline = Pipeline(settings=LoadSettings(part_bytes=4096))
    rows = lineup_rows(3000)
    pipeline.load("uploads/lineup.csv", lineup_csv(rows))
    renamed = changed(rows, 300)  # 90% of the sets the same

    sent = pipeline.load("uploads/lineup-v2.csv", lineup_csv(renamed))

    record = pipeline.record("uploads/lineup-v2.csv")
    assert record["parts_total"] > 10
    assert record["same_lineup_file"] == "uploads/lineup.csv"
    assert abs(record["same_lineup_percent"] - 90) <= 14  # 3 standard errors
    assert f"(about {record['same_lineup_percent']}%)" in sent
    # The sketch merged from the parts is the sketch of the whole file.
    whole = Sketch(
        set_hash(row[0], row[1], item["start"], item["end"])
        for row, item in zip(renamed, _items_in_file_order(pipeline, renamed), strict=True)
    )
    [kept] = [
        item["sketch"]
        for item in pipeline.table.sketches()
        if item["file"] == "uploads/lineup-v2.csv"
    ]
    assert kept == whole.encode()


def _items_in_file_order(pipeline: Pipeline, rows: list[list[str]]) -> list[dict]:
    by_performer = {item["performer"]: item for item in pipeline.table.performances()}
    return [by_performer[row[0]] for row in rows]


def test_other_lineups_a_half_shared_one_and_the_same_file_again_get_no_note():
    pipeline = Pipeline()
    rows = lineup_rows(100)
    pipeline.load("uploads/lineup.csv", lineup_csv(rows))

    other = pipeline.load("uploads/other.csv", lineup_csv(changed(rows, 100)))
    half = pipeline.load("uploads/half.csv", lineup_csv(changed(rows, 50)))
    again = pipeline.load("uploads/lineup.csv", lineup_csv(rows))

    assert all("Same lineup" not in body for body in (other, half, again))


def test_a_file_deleted_since_is_no_longer_compared_and_its_sketch_is_collected():
    pipeline = Pipeline()
    body = lineup_csv(lineup_rows(40))
    pipeline.load("uploads/lineup.csv", body)
    pipeline.invoke(pipeline.bucket.delete("uploads/lineup.csv"))
    pipeline.deliver()

    sent = pipeline.load("uploads/lineup-v2.csv", body)

    assert "Same lineup" not in sent
    assert [item["file"] for item in pipeline.table.sketches()] == ["uploads/lineup-v2.csv"]


def test_a_replaced_version_leaves_only_the_current_sketch():
    pipeline = Pipeline()
    rows = lineup_rows(40)
    pipeline.load("uploads/lineup.csv", lineup_csv(rows))
    pipeline.load("uploads/lineup.csv", lineup_csv(changed(rows, 5)))

    current = (pipeline.table.head("uploads/lineup.csv") or {})["current"]
    assert [item["version"] for item in pipeline.table.sketches()] == [current]


# --- time zones -------------------------------------------------------------------------------


def test_the_stacks_time_zone_is_on_the_record_the_head_and_in_the_email():
    pipeline = Pipeline(settings=LoadSettings(time_zone="Europe/Amsterdam"))

    sent = pipeline.load("uploads/lineup.csv", lineup_csv(lineup_rows(5)))

    assert "Time zone:     Europe/Amsterdam (the stack's FestivalTimeZone)" in sent
    assert pipeline.record("uploads/lineup.csv")["time_zone"] == "Europe/Amsterdam"
    assert (pipeline.table.head("uploads/lineup.csv") or {})["zone"] == "Europe/Amsterdam"


def test_an_uploads_timezone_metadata_overrides_the_stacks():
    pipeline = Pipeline(settings=LoadSettings(time_zone="Europe/Amsterdam"))

    sent = pipeline.load(
        "uploads/lineup.csv", lineup_csv(lineup_rows(5)), {"timezone": "America/New_York"}
    )

    assert "Time zone:     America/New_York (the upload's timezone metadata)" in sent
    assert (pipeline.table.head("uploads/lineup.csv") or {})["zone"] == "America/New_York"


def test_an_unknown_time_zone_fails_the_upload_clearly_and_loads_nothing():
    pipeline = Pipeline()

    sent = pipeline.load(
        "uploads/lineup.csv", lineup_csv(lineup_rows(5)), {"timezone": "Europe/Atlantis"}
    )

    assert pipeline.mail.sent[-1][0] == "festival-lineup FAILED: lineup.csv"
    assert (
        "Reason: The time zone 'Europe/Atlantis' (from the upload's timezone metadata) is not"
        " an IANA time zone name like Europe/Amsterdam or America/New_York: nothing was loaded."
    ) in sent
    assert pipeline.table.performances() == []
    assert "current" not in (pipeline.table.head("uploads/lineup.csv") or {})


def test_an_unknown_stack_time_zone_names_the_parameter():
    pipeline = Pipeline(settings=LoadSettings(time_zone="../../etc/passwd"))

    sent = pipeline.load("uploads/lineup.csv", lineup_csv(lineup_rows(5)))

    assert "(from the stack's FestivalTimeZone) is not an IANA time zone name" in sent
    assert pipeline.table.performances() == []


def test_sketch_items_live_in_their_own_partition_keyed_like_records():
    key = schema.sketch_key("uploads/lineup.csv", "0001")

    assert key == {"pk": "SKETCHES", "sk": "FILE#uploads/lineup.csv#V#0001"}
