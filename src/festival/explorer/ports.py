"""What the explorer's pages need from the lineup and from S3, as Protocols.

`festival.queries.LineupQueries` answers `LineupReader` and `S3Uploader`
(`festival.explorer.uploader`) answers `Uploader`; `festival serve` passes them wrapped in
`OnFirstUse` (`festival.explorer.stack`), tests pass moto-backed ones or fakes.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import IO, Protocol

from festival.explorer.uploader import Uploaded
from lineup_ingest.clashes import DEFAULT_CHANGEOVER_MINUTES, Clashes


class LineupReader(Protocol):
    """The questions the pages ask of the loaded lineup and its uploads."""

    def on_night(self, night: date, day_starts: time) -> list[dict]: ...

    def nights_of(self, file: str, day_starts: time) -> tuple[date, date] | None: ...

    def by_performer(self, performer: str) -> list[dict]: ...

    def by_stage(self, stage: str) -> list[dict]: ...

    def between(self, start: datetime, end: datetime, stage: str | None = None) -> list[dict]: ...

    def at(self, stage: str, moment: datetime) -> list[dict]: ...

    def clashes(
        self,
        *,
        window: tuple[datetime, datetime] | None = None,
        file: str | None = None,
        changeover_minutes: int = DEFAULT_CHANGEOVER_MINUTES,
    ) -> Clashes: ...

    def uploads(self) -> list[dict]: ...

    def upload_versions(self, file: str) -> list[dict]: ...

    def upload(self, file: str, etag: str) -> dict | None: ...

    def changes(self, file: str, version: str | None = None) -> dict: ...


class Uploader(Protocol):
    """Where the upload form puts a lineup file."""

    def key_for(self, filename: str) -> str:
        """The object key for a file of this name; UploadNameError when it cannot be one."""
        ...

    def put(self, key: str, body: IO[bytes]) -> Uploaded: ...
