"""A scenario's brief.md: the interviewer's prompt, what to look at, the questions, the rubric,
the root cause and the fix — as `## ` sections. A blind drill shows none of it before the answer
(only the scenario's symptoms); the debrief shows it all."""

from __future__ import annotations

import re
from pathlib import Path

SECTIONS = ("Prompt", "What to look at", "Questions", "Rubric", "Root cause", "Fix")


def parse_brief(path: Path) -> dict[str, str]:
    """{"Title": first heading, "Prompt": ..., ...} from `## Section` headings."""
    text = path.read_text()
    sections: dict[str, str] = {}
    title = re.search(r"^# (.+)$", text, re.M)
    sections["Title"] = title.group(1).strip() if title else path.parent.name
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2]):
        sections[heading.strip()] = body.strip()
    return sections


def missing_sections(path: Path) -> list[str]:
    found = parse_brief(path)
    return [s for s in SECTIONS if not found.get(s)]
