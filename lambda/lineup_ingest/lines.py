"""The physical lines of a lineup file: the parser's first layer (bytes → lines).

The bytes are decoded as UTF-8, with or without a byte order mark, a chunk of CHUNK_BYTES
at a time, and split into lines ending in "\\r\\n", "\\r" or "\\n". Nothing is rejected here:
a byte that is not UTF-8 becomes a lone surrogate (NOT_UTF8 finds it) and a line's NUL bytes
a NUL mark, for the row that holds them to be rejected while the other rows load. A line
longer than MAX_LINE_BYTES bytes of the file (a missing closing quote, a binary file) is
replaced by a TooLongError and a blank line, which keeps the count of lines and memory
bounded however the file is broken. Bytes, not characters: a character is 1 to 4 bytes of
UTF-8, and a limit in characters let a line of emoji hold 256 KiB.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import IO

# How much of the file is read and decoded at a time.
CHUNK_BYTES = 32 * 1024
# A lineup row is a few hundred bytes. A line or a row longer than this many bytes of the file
# is a missing closing quote or a binary file, and stopping there keeps memory bounded however
# the file is broken.
MAX_LINE_BYTES = 64 * 1024

UTF8_HINT = 'export the file as "CSV UTF-8"'
NUL_REASON = "The row contains NUL bytes, which text never has"
# Decoding with errors="surrogateescape" turns each byte that is not UTF-8 into a lone
# surrogate from U+DC80 to U+DCFF, and a valid UTF-8 file never decodes to one.
NOT_UTF8 = re.compile("[\udc80-\udcff]")
# Marks a line that had NUL bytes (see _move_nul): a lone surrogate, which decoding never
# makes. Python 3.10's csv stops at a NUL, which would split a quoted field; this it reads.
NUL = "\udc00"

# What the rows of a chunk of the file need besides the checks of every row (Lines.checks).
CHECK_NONE = 0  # a chunk of ASCII without control characters but tabs and line breaks
CHECK_NAMES = 1  # names may hold display controls, or name keys be too long
CHECK_ALL = 2  # rows may hold NUL bytes or bytes that are not UTF-8; from then on, always
# The bytes of a chunk whose names need no check when it has no others (non-ASCII bytes
# make the chunk's text non-ASCII, which is checked first).
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\r\n" + bytes(range(0x80, 0x100))

# Lines end in "\r\n", "\r" or "\n" and nothing else (str.splitlines also splits at "\v",
# "\f", "\x1c"-"\x1e", "\x85", "\u2028" and "\u2029").
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class TooLongError(Exception):
    """A line or a row ran past MAX_LINE_BYTES; it becomes a row error, reading goes on."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what  # "line" or "row"


class Lines:
    """The physical lines of a binary stream, decoded, with their line breaks.

    The stream is decoded and split into lines a chunk at a time by C code (the codec,
    str.splitlines) and the lines are handed out through itertools.chain: there is no Python
    code per line, which would cost as much as the rest of reading a row. Per chunk, what
    its rows need checked is noted (see `checks`), and a line longer than MAX_LINE_BYTES is
    replaced by a TooLongError and a blank line, to keep the count of lines.
    """

    def __init__(self, stream: IO[bytes], *, bom: bool = True) -> None:
        self._stream = stream
        # A byte order mark means one only at the start of a file, not of a part of it.
        encoding = "utf-8-sig" if bom else "utf-8"
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
        # What the lines handed out last, those of the chunk read last, need checked:
        # CHECK_NONE for a chunk of ASCII without control characters but tabs and line
        # breaks; CHECK_NAMES for other chunks, whose names may hold display controls or
        # be too long for a key; CHECK_ALL once lines may hold NUL or NOT_UTF8 characters,
        # and from then on. A line that ends in a later chunk than it starts in is handed
        # out with the later chunk, whose checks then count what it started with.
        self.checks = CHECK_NONE

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._chunks())

    def _chunks(self) -> Iterator[Iterable[str]]:
        pending = ""  # the start of a line whose end has not been read yet
        skipping = False  # dropping the rest of a line that was too long
        while True:
            data = self._stream.read(CHUNK_BYTES)
            final = not data
            # The start of a line handed out with this chunk, which needed checks.
            carried = bool(pending) and self.checks != CHECK_NONE
            text = pending + self._decode(data, final)
            if skipping:
                text, skipping = _after_line_break(text, final)
                if skipping:
                    pending = text
                    continue
            lines = _split_lines(text)
            pending = "" if final or not lines or lines[-1][-1] == "\n" else lines.pop()
            # Lines are measured as they are in the file, NUL bytes included, whichever
            # chunk they end in; then their NUL bytes are moved for csv. Only a line of more
            # than a quarter of the limit in characters may be too long (see _too_long): C
            # finds the longest.
            quarter = MAX_LINE_BYTES // 4
            pieces: Iterable[Iterable[str]] = (
                _cut_long_lines(lines)
                if len(text) - len(pending) > quarter and max(map(len, lines), default=0) > quarter
                else (lines,)
            )
            if "\x00" in text:
                self.checks = CHECK_ALL
                pieces = (
                    list(map(_move_nul, piece)) if type(piece) is list else piece
                    for piece in pieces
                )
            if self.checks != CHECK_ALL:
                plain = text.isascii() and not carried and not data.translate(None, _PLAIN_BYTES)
                self.checks = CHECK_NONE if plain else CHECK_NAMES
            yield from pieces
            if _too_long(pending):
                yield _cut_line()
                yield ["\n"]
                # A pending line may already end with its break, "\r" held back in case
                # "\n" follows: then only that "\n" is still to be skipped.
                pending, skipping = ("\r" if pending.endswith("\r") else ""), True
            if final:
                return

    def _decode(self, data: bytes, final: bool) -> str:
        text = self._decoder.decode(data, final)
        if not (self.checks == CHECK_ALL or text.isascii()) and NOT_UTF8.search(text):
            self.checks = CHECK_ALL
        return text


def file_bytes(text: str) -> int:
    """How many bytes of the file decoded text was (NUL bytes moved for csv count as one)."""
    if text.isascii():  # known without looking at the characters
        return len(text)
    # Each byte that is not UTF-8 was decoded to a lone surrogate, which "replace" encodes as
    # one byte again ("?"), as it does NUL.
    return len(text.encode("utf-8", "replace"))


def _cut_line() -> Iterator[str]:
    """Put among the lines in place of one too long: raises TooLongError when reached."""
    raise TooLongError("line")
    yield ""  # pragma: no cover - makes this a generator, which raises when first read


def _cut_long_lines(lines: list[str]) -> Iterator[Iterable[str]]:
    start = 0
    for at, line in enumerate(lines):
        if _too_long(line):
            yield lines[start:at]
            yield _cut_line()
            yield ["\n"]
            start = at + 1
    yield lines[start:]


def _move_nul(line: str) -> str:
    """The line without its NUL bytes, and with NUL at its end if it had any.

    The reader then reads the line as if the NUL bytes were not there, and the row is
    rejected: a NUL inside a quoted field does not end it early, nor one before a quote make
    the quote a plain character.
    """
    if "\x00" not in line:
        return line
    body = line.rstrip("\r\n")
    return body.replace("\x00", "") + NUL + line[len(body) :]


def _split_lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    # str.splitlines is fast but splits at more than "\r" and "\n": when it made more lines
    # than there are "\n" (the last line may have none), split again with a regex.
    if len(lines) != text.count("\n") + (not text.endswith("\n")) - (not text):
        lines = _LINE.findall(text)
    return lines


def _after_line_break(text: str, final: bool) -> tuple[str, bool]:
    """The text after the first line break, and whether that break is still to be read."""
    match = _LINE_BREAK.search(text)
    if match is None:
        return "", not final
    if match.group() == "\r" and match.end() == len(text) and not final:
        return "\r", True  # it may be the first half of "\r\n"
    return text[match.end() :], False


def _too_long(line: str) -> bool:
    """Whether a line, as decoded, was more than MAX_LINE_BYTES bytes of the file."""
    # A character is 1 to 4 bytes of UTF-8, and a byte that is not UTF-8 is one character:
    # only a line of more than a quarter of the limit in characters needs encoding to tell.
    return len(line) > MAX_LINE_BYTES // 4 and file_bytes(line) > MAX_LINE_BYTES
