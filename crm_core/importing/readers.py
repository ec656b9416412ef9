"""Rows out of files: JSON Lines, CSV, a JSON list, or a folder of Markdown files (front matter + body).

A row that cannot be read becomes ``Row(data=None, error=…)`` so the importer can report it by line
and carry on; only a missing file or an unsupported format raises.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_core.errors import InvalidInput
from crm_core.normalise import split_list


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    data: dict[str, Any] | None
    error: str | None = None


def rows_from_dicts(kind: str, records: Iterable[dict[str, Any]], source: str = "memory") -> Iterator[Row]:
    """Records already in memory (the demo generator); errors read ``{source}/{kind}:{n}``."""
    for n, record in enumerate(records, start=1):
        yield Row(f"{source}/{kind}", n, dict(record))


def read_rows(path: str | Path) -> Iterator[Row]:
    """Rows of a ``*.jsonl``, ``*.csv`` or ``*.json`` file, or of every ``*.md`` in a folder.

    Checks the path now (``InvalidInput`` if missing or unsupported) and reads lazily.
    """
    label = str(path)
    p = Path(path)
    if p.is_dir():
        return _markdown_dir(p, label)
    if not p.is_file():
        raise InvalidInput(f"文件不存在：{label}")
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(p, label)
    if suffix == ".csv":
        return _csv(p, label)
    if suffix == ".json":
        return _json_list(p, label)
    if suffix == ".md":
        return iter([_markdown_file(p, label)])
    raise InvalidInput(f"不支持的文件格式：{label}（支持 .jsonl、.csv、.json，或 Markdown 文件夹）")


def _object_error(value: Any) -> str:
    kind = {list: "列表", str: "字符串", int: "数字", float: "数字", bool: "布尔值"}.get(type(value), "其他值")
    return f"应为 JSON 对象（{{…}}），实际是{kind}"


def _jsonl(p: Path, label: str) -> Iterator[Row]:
    with p.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError:
                yield Row(label, n, None, "不是 UTF-8 编码")
                continue
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Row(label, n, None, f"不是有效的 JSON（第 {exc.colno} 列：{exc.msg}）")
                continue
            if isinstance(value, dict):
                yield Row(label, n, value)
            else:
                yield Row(label, n, None, _object_error(value))


def _decode(p: Path, label: str) -> str:
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # Excel in Chinese locales saves CSV as GBK
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput(f"{label}：无法识别文件编码，请另存为 UTF-8") from None


def _cell(value: str) -> Any:
    s = value.strip()
    if (s.startswith("{") and s.endswith("}")) or (s.startswith("[") and s.endswith("]")):
        try:
            return json.loads(s)
        except ValueError:
            return s
    return s


def _csv(p: Path, label: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(_decode(p, label), newline=""))
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(label, start, None, f"CSV 格式错误：{exc}")
            return
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(cells) > len(header):
            yield Row(label, start, None, f"列数（{len(cells)}）多于表头（{len(header)}）")
            continue
        yield Row(label, start, {k: _cell(v) for k, v in zip(header, cells, strict=False) if k})


def _json_list(p: Path, label: str) -> Iterator[Row]:
    try:
        value = json.loads(_decode(p, label))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{label}：不是有效的 JSON（第 {exc.lineno} 行：{exc.msg}）") from None
    if not isinstance(value, list):
        raise InvalidInput(f"{label}：JSON 文件应是一个对象列表")
    for n, item in enumerate(value, start=1):
        yield Row(label, n, item) if isinstance(item, dict) else Row(label, n, None, _object_error(item))


def _markdown_dir(p: Path, label: str) -> Iterator[Row]:
    for child in sorted(p.glob("*.md")):
        yield _markdown_file(child, os.path.join(label, child.name))


_FM_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")


def _scalar(text: str) -> Any:
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    if s.startswith("[") and s.endswith("]"):
        return split_list(s)
    if s.startswith("{") and s.endswith("}"):
        try:
            return json.loads(s)
        except ValueError:
            return s
    return s


def parse_front_matter(lines: list[str]) -> dict[str, Any]:
    """``key: value``, ``key: [a, b]`` and ``key:`` followed by ``- item`` lines; ``#`` comments."""
    data: dict[str, Any] = {}
    last: str | None = None
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") and last is not None:
            current = data.get(last)
            data[last] = [*(current if isinstance(current, list) else []), _scalar(stripped[2:])]
            continue
        m = _FM_LINE.match(stripped)
        if m is None:
            raise ValueError(f"front matter 无法解析的行：{stripped}")
        last = m.group(1)
        data[last] = _scalar(m.group(2)) if m.group(2).strip() else None
    return data


def _markdown_file(p: Path, label: str) -> Row:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return Row(label, 1, None, "不是 UTF-8 编码")
    lines = text.splitlines()
    data: dict[str, Any] = {}
    body_lines = lines
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            return Row(label, 1, None, "front matter 缺少结束的 ---")
        try:
            data = parse_front_matter(lines[1:end])
        except ValueError as exc:
            return Row(label, 1, None, str(exc))
        body_lines = lines[end + 1:]
    body = "\n".join(body_lines).strip()
    if body:
        data["body"] = body
    data.setdefault("ref", p.stem)
    return Row(label, 1, data)
