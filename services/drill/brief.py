"""A scenario's brief.md: the interviewer's prompt, what to look at, the questions, the rubric,
the root cause and the fix — as `## ` sections, so the CLI can show only the safe ones in blind mode."""

from __future__ import annotations

import re
from pathlib import Path

SECTIONS = ("Prompt", "What to look at", "Questions", "Rubric", "Root cause", "Fix")
# What a blind candidate may read before answering.
BLIND_SECTIONS = ("Prompt", "What to look at", "Questions")


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


def blind_view(path: Path) -> str:
    """The part of the brief a candidate sees in blind mode (no title: it would name the fault)."""
    found = parse_brief(path)
    return "\n\n".join(f"## {s}\n\n{found[s]}" for s in BLIND_SECTIONS if found.get(s))
