"""Reading rows out of files: line numbers as in the file, bad rows as errors, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_core.errors import InvalidInput
from crm_core.importing import Row, read_rows, rows_from_dicts
from crm_core.importing.readers import parse_front_matter

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def test_jsonl_line_numbers_are_physical_and_blank_lines_are_skipped():
    path = str(FIXTURES / "broken_customers.jsonl")
    rows = list(read_rows(path))
    assert [r.line for r in rows] == [1, 3, 4, 5, 6, 7, 8]
    assert all(r.file == path for r in rows)
    assert rows[0].data == {"ref": "C-201", "name": "奇点科技", "industry": "科技", "owner": "S-002", "tags": ["SaaS"]}
    assert rows[1].data is None and rows[1].error.startswith("不是有效的 JSON")
    assert rows[4].data is None and rows[4].error == "应为 JSON 对象（{…}），实际是列表"


def test_jsonl_with_bom_crlf_and_bad_bytes(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"ref": "A"}\r\n\r\n{"ref": "\xff"}\r\n{"ref": "C"}')
    rows = list(read_rows(path))
    assert [(r.line, r.data) for r in rows] == [(1, {"ref": "A"}), (3, None), (4, {"ref": "C"})]
    assert rows[1].error == "不是 UTF-8 编码"


def test_csv_with_bom_blank_lines_multiline_cells_and_json_columns():
    rows = list(read_rows(FIXTURES / "customers.csv"))
    assert [r.line for r in rows] == [2, 4, 6, 7]
    first = rows[0].data
    assert first["ref"] == "C-101" and first["tags"] == "SaaS|B2B|品牌升级"
    assert first["custom_fields"] == {"来源": "转介绍"}
    assert rows[1].data["name"] == "澜山\n茶饮"
    assert rows[3].data["tags"] == "[K12, 在线]"  # not JSON: left for split_list
    assert rows[2].data["tags"] == ""


def test_csv_more_cells_than_header_and_gbk(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("ref,name\nA,甲\nB,乙,多余\n".encode("gbk"))
    rows = list(read_rows(path))
    assert rows[0] == Row(str(path), 2, {"ref": "A", "name": "甲"})
    assert rows[1].line == 3 and rows[1].error == "列数（3）多于表头（2）"


def test_json_list(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"ref": "A"}, "nope"]), encoding="utf-8")
    rows = list(read_rows(path))
    assert rows[0] == Row(str(path), 1, {"ref": "A"}) and rows[1].line == 2 and rows[1].error


def test_markdown_folder():
    folder = str(FIXTURES / "kb_md")
    rows = {Path(r.file).name: r for r in read_rows(folder)}
    assert set(rows) == {"invoice-title.md", "no-front-matter.md", "refund.md"}
    assert rows["invoice-title.md"].file == f"{folder}/invoice-title.md" and rows["invoice-title.md"].line == 1
    inv = rows["invoice-title.md"].data
    assert inv["ref"] == "invoice-title" and inv["title"] == "发票抬头填写规范" and inv["tags"] == ["发票", "抬头"]
    assert inv["body"].startswith("发票抬头须与") and "\n\n如需修改" in inv["body"]
    refund = rows["refund.md"].data
    assert refund["ref"] == "KB-MD-REFUND" and refund["title"] == "退款流程: 常见问题"
    assert refund["tags"] == ["退款", "财务"]
    assert rows["no-front-matter.md"].data == {"ref": "no-front-matter", "body": "这篇没有 front matter，缺少标题。"}


def test_markdown_unterminated_front_matter(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: x\n正文", encoding="utf-8")
    (row,) = read_rows(tmp_path)
    assert row.data is None and row.error == "front matter 缺少结束的 ---"


def test_front_matter_parser():
    assert parse_front_matter(["# comment", "title: 标题: 副标题", "tags: [a, b]", "empty:", "q: 'x'"]) == {
        "title": "标题: 副标题", "tags": ["a", "b"], "empty": None, "q": "x"}


def test_missing_file_and_unsupported_format(tmp_path):
    with pytest.raises(InvalidInput, match="文件不存在"):
        read_rows(tmp_path / "nope.jsonl")
    (tmp_path / "x.xlsx").write_bytes(b"")
    with pytest.raises(InvalidInput, match="不支持的文件格式"):
        read_rows(tmp_path / "x.xlsx")


def test_rows_from_dicts():
    rows = list(rows_from_dicts("customers", [{"ref": "A"}, {"ref": "B"}], source="demo"))
    assert rows == [Row("demo/customers", 1, {"ref": "A"}), Row("demo/customers", 2, {"ref": "B"})]
