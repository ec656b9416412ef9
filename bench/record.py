"""What every benchmark reports with: percentiles, the machine's load, its section in docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p)) if values else float("nan")


def load_average() -> str:
    """The 1-, 5- and 15-minute load, to say how busy the machine was while measuring."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def record_section(text_block: str, section: str, subsection: str, path: Path = BENCHMARKS) -> None:
    """Replace the ``subsection`` ("### …") of ``section`` ("## …") with ``text_block``; add either if missing."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = text.find(section + "\n")
    if start == -1:
        path.write_text(text.rstrip("\n") + f"\n\n{section}\n\n{text_block}", encoding="utf-8")
        return
    end = text.find("\n## ", start + len(section))
    end = len(text) if end == -1 else end + 1
    part = text[start:end]
    sub = part.find(subsection)
    if sub == -1:
        part = part.rstrip("\n") + "\n\n" + text_block
    else:
        nxt = part.find("\n### ", sub + len(subsection))
        part = part[:sub] + text_block.rstrip("\n") + "\n" + ("\n" + part[nxt + 1:] if nxt != -1 else "")
    path.write_text(text[:start] + part.rstrip("\n") + "\n" + ("\n" + text[end:] if end < len(text) else ""),
                    encoding="utf-8")
