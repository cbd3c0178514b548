"""`festival serve` hands the explorer its festival-day boundary: --day-starts when given,
else the deployed stack's FestivalDayStarts output, read when a page first needs it (the
stack may not be deployed yet when the explorer starts)."""

from __future__ import annotations

from datetime import time

import pytest
from click.testing import CliRunner

from festival import cli
from festival.explorer import server

pytestmark = pytest.mark.functional


class Started:
    """What serve() built: the app's options, and a server that returns at once."""

    def __init__(self) -> None:
        self.options: dict = {}

    def create_app(self, queries, uploader, **options):
        self.options = options
        return object()

    def create_server(self, app, **_):
        class Server:
            effective_port = 8000

            def run(self) -> None:
                pass

            def close(self) -> None:
                pass

        return Server()


@pytest.fixture
def started(monkeypatch) -> Started:
    started = Started()
    monkeypatch.setattr(server, "create_app", started.create_app)
    monkeypatch.setattr(server, "create_server", started.create_server)
    return started


def serve(*arguments: str):
    result = CliRunner().invoke(
        cli.main,
        [*arguments],
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    "arguments",
    [
        ["serve", "--day-starts", "05:00"],
        ["--day-starts", "5:00", "serve", "--region", "eu-west-1"],
    ],
)
def test_day_starts_given_to_serve_is_the_explorers_boundary(started, arguments):
    serve(*arguments)

    assert started.options["day_starts"] == time(5, 0)


def test_without_day_starts_the_explorer_reads_the_stacks_output_when_a_page_needs_it(
    started, monkeypatch
):
    asked = []

    def stack_day_starts(session, endpoint, stack):
        asked.append(stack)
        return time(4, 30)

    monkeypatch.setattr(server, "stack_day_starts", stack_day_starts)
    serve("--stack", "night-owls", "serve", "--region", "eu-west-1")

    read = started.options["day_starts"]
    assert callable(read) and asked == []  # nothing read at start
    assert read() == time(4, 30)
    assert asked == ["night-owls"]
