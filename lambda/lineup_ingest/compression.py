"""Reading gzip-compressed uploads in bounded memory (pure: standard library only).

An upload is gzip when its first bytes are gzip's magic number (1f 8b), whatever its name
or its Content-Encoding: S3 stores and serves the bytes as they were uploaded, and no text
file starts with those two bytes. Such a file is read through `GzipReader`: the compressed
bytes are streamed from S3 and decompressed at most `_OUTPUT_BYTES` at a time (zlib's
``max_length``), so a small file that decompresses to gigabytes (a "decompression bomb")
never needs more memory than a plain file. Members written one after another (``cat
a.gz b.gz``) are read as one stream, and zero bytes between or after them are skipped,
as Python's gzip module does.

A gzip stream cannot be entered in the middle, so offsets in a gzip file are offsets in
its decompressed bytes, and a range is opened by decompressing from the start and
discarding up to it. Within one invocation `GzipRanges` keeps the decompressor's state
where its last range started (`Checkpoint`), so the several passes a part makes over its
own bytes (splitting.next_boundary, then the load) decompress the bytes before it once.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"
# How much compressed input is read at a time, and the most decompressed at once: one
# chunk of input may hold a gigabyte of zeros.
_INPUT_BYTES = 64 * 1024
_OUTPUT_BYTES = 1024 * 1024
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate data

# Opens the compressed object at a byte offset, streaming to its end.
OpenCompressed = Callable[[int], IO[bytes]]


class CompressedFileError(Exception):
    """The file starts as gzip but its data is not valid gzip (corrupt or cut short)."""


def is_gzip(head: bytes) -> bool:
    """Whether a file starting with ``head`` (its first two bytes or more) is gzip."""
    return head.startswith(GZIP_MAGIC)


@dataclass(frozen=True)
class Checkpoint:
    """Where a reader was: its decompressed offset, the compressed offset of the input it
    had not consumed yet, and the decompressor's state (None between members)."""

    position: int
    compressed_offset: int
    inflate: zlib._Decompress | None  # type: ignore[name-defined]


class GzipReader(io.RawIOBase):
    """The decompressed bytes of a gzip object, from ``position`` to ``end`` (or its end).

    Reads return at most `_OUTPUT_BYTES` however much is asked for, and an empty result
    only at the end. Raises CompressedFileError where the data is not valid gzip.
    """

    def __init__(
        self,
        open_compressed: OpenCompressed,
        *,
        resume: Checkpoint | None = None,
        end: int | None = None,
    ) -> None:
        super().__init__()
        offset = resume.compressed_offset if resume else 0
        self._source = open_compressed(offset)
        self._fed = offset  # compressed bytes read so far, counted from the object's start
        self._input = b""  # compressed bytes read but not consumed yet
        self._source_done = False
        # A checkpoint is kept for reuse: resume from a copy of its state.
        self._inflate = resume.inflate.copy() if resume and resume.inflate else None
        self._started = resume is not None  # the first member needs no search for it
        self.position = resume.position if resume else 0
        self._end = end

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        return self._next(size)

    def readinto(self, buffer) -> int:  # noqa: ANN001 (any writable buffer)
        data = self._next(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        source = getattr(self, "_source", None)  # None if opening it failed
        if source is not None and not self.closed:
            source.close()
        super().close()

    def checkpoint(self) -> Checkpoint:
        """Where this reader is, to open another one here without decompressing again."""
        return Checkpoint(
            self.position,
            self._fed - len(self._input),
            self._inflate.copy() if self._inflate else None,
        )

    def skip_to(self, offset: int) -> None:
        """Decompress and discard up to decompressed byte ``offset`` (or the end)."""
        while self.position < offset and self._next(offset - self.position):
            pass

    def _next(self, size: int) -> bytes:
        if self._end is not None:
            size = min(size, self._end - self.position)
        if size <= 0:
            return b""
        while True:
            if self._inflate is None and not self._next_member():
                return b""
            assert self._inflate is not None  # _next_member started one
            if not self._input and not self._source_done:
                self._input = self._source.read(_INPUT_BYTES)
                self._fed += len(self._input)
                self._source_done = not self._input
            try:
                data = self._inflate.decompress(self._input, min(size, _OUTPUT_BYTES))
            except zlib.error as error:
                raise CompressedFileError(f"the gzip data is corrupt ({error})") from None
            if self._inflate.eof:
                self._input = self._inflate.unused_data
                self._inflate = None
            else:
                self._input = self._inflate.unconsumed_tail
                if not data and not self._input and self._source_done:
                    raise CompressedFileError("the gzip data ends early: the file is cut short")
            if data:
                self.position += len(data)
                return data

    def _next_member(self) -> bool:
        """Start the next gzip member, if there is one (zero bytes before it are padding)."""
        while True:
            if self._started:
                self._input = self._input.lstrip(b"\0")
            if self._input:
                break
            if self._source_done:
                return False
            self._input = self._source.read(_INPUT_BYTES)
            self._fed += len(self._input)
            self._source_done = not self._input
        self._started = True
        self._inflate = zlib.decompressobj(_GZIP_WBITS)
        return True


class GzipRanges:
    """Ranges of the decompressed bytes of one gzip object (one version of it).

    Opening a range decompresses from the start of the object, or from where the last
    range opened started if that is no later, and discards up to the range's start.
    """

    def __init__(self, open_compressed: OpenCompressed) -> None:
        self._open_compressed = open_compressed
        self._checkpoint: Checkpoint | None = None

    def open(self, start: int, end: int | None = None) -> GzipReader:
        resume = self._checkpoint
        if resume is not None and resume.position > start:
            resume = None
        reader = GzipReader(self._open_compressed, resume=resume, end=end)
        try:
            reader.skip_to(start)
        except BaseException:
            reader.close()
            raise
        if start > 0 and reader.position == start:
            self._checkpoint = reader.checkpoint()
        return reader


def decompressed_size(open_compressed: OpenCompressed, limit: int) -> int:
    """The size of a gzip object once decompressed, read through to check every byte of it;
    a number over ``limit`` as soon as the limit is passed, without reading on.

    Raises CompressedFileError if the data is not valid gzip.
    """
    with GzipReader(open_compressed) as reader:
        while reader.read(_OUTPUT_BYTES):
            if reader.position > limit:
                break
        return reader.position
