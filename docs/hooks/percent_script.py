"""MkDocs hook: a page line ``<!-- percent-script: FILE -->`` becomes the jupytext
percent-format script FILE (relative to the page), markdown cells as text and code cells
as Python blocks. Build-time only: nothing is executed and nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MARKER = re.compile(r"^<!-- percent-script: (?P<file>\S+) -->$", re.MULTILINE)
CELL = re.compile(r"^# %%(?P<kind>.*)$")


def percent_to_markdown(script: str) -> str:
    """Markdown of a percent-format script: ``# %% [markdown]`` cells uncommented, other
    ``# %%`` cells (and any code before the first marker) fenced as Python."""
    cells: list[tuple[bool, list[str]]] = [(False, [])]
    for line in script.splitlines():
        cell = CELL.match(line)
        if cell:
            cells.append(("[markdown]" in cell["kind"], []))
        else:
            cells[-1][1].append(line)
    parts = []
    for is_markdown, lines in cells:
        text = "\n".join(lines).strip("\n")
        if not text.strip():
            continue
        if is_markdown:
            parts.append("\n".join(re.sub(r"^# ?", "", line) for line in text.splitlines()))
        else:
            parts.append(f"```python\n{text}\n```")
    return "\n\n".join(parts) + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each marker line by the script it names."""
    folder = Path(page.file.abs_src_path).parent

    def include(match: re.Match[str]) -> str:
        return percent_to_markdown((folder / match["file"]).read_text(encoding="utf-8"))

    return MARKER.sub(include, markdown)
