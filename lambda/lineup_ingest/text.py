"""Untrusted text: the characters that change how text is shown, and showing them safely.

A lineup file and an S3 key come from outside. Their text goes into item keys, row errors
and an email, where a line break would start a line of its own ("Status: OK"), an escape
would drive a terminal, and a bidirectional override would show text in another order than
it is stored. Such characters are rejected in names (see performances.py) and shown as escapes
(``\\n``, ``\\x1b``, ``\\u202e``) wherever untrusted text is shown.
"""

from __future__ import annotations

import re
import unicodedata

# The characters that are not text to be shown as is: C0 controls but tab (line breaks
# among them; a tab is whitespace, in a name as in a line of an email), DEL and C1
# controls (NEL among them); the bidirectional marks, embeddings, overrides and isolates
# (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069); the line and paragraph
# separators (U+2028-U+2029); the deprecated format controls that change shaping and
# digits (U+206A-U+206F); and the interlinear annotation marks, which hide text
# (U+FFF9-U+FFFB). Each is outside str.isprintable(), which is a fast way to know a text
# has none. Zero-width joiners stay allowed: emoji and several scripts need them.
DISPLAY_CONTROLS = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u206f\ufff9-\ufffb]"
)

_CONTROL_NAMES = {
    "\n": "line feed",
    "\r": "carriage return",
    "\x1b": "escape",
    "\x85": "next line",
}


def visible(text: str) -> str:
    """The text with each display control written as a Python escape: \\n, \\x1b, \\u202e."""
    if text.isprintable():
        return text
    return DISPLAY_CONTROLS.sub(_escape, text)


def describe(char: str) -> str:
    """A character for a person: 'U+202E (RIGHT-TO-LEFT OVERRIDE)', 'U+000A (line feed)'."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")
