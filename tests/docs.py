"""Reading the README and docs/ in tests: the documents, and the commands their blocks run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def shell_lines(text: str) -> list[str]:
    """The command lines of a document's bash and sh blocks, comments dropped."""
    return [
        line.split("  #")[0].strip()
        for language, body in FENCE.findall(text)
        if language in ("bash", "sh")
        for line in body.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
