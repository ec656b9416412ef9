"""Embedding records and the persisted index stay in step with the database, embedding nothing twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from config import get_settings
from crm_core.actor import Actor
from crm_core.db import Database
from crm_core.importing import import_rows, rows_from_dicts
from crm_core.models import Case, EmbeddingRecord, KBArticle
from knowledge import indexing
from knowledge.index import KnowledgeIndex
from knowledge.search import search_kb
from tests.knowledge.conftest import CountingEmbedder, import_eval

SYSTEM = Actor.system()


def _import(db: Database, kind: str, dicts: list[dict]) -> None:
    with db.unit_of_work() as s:
        report = import_rows(s, kind, rows_from_dicts(kind, dicts, "test"), SYSTEM)
        assert report.ok, report.errors


def _sync(db: Database, embedder: CountingEmbedder, **kw) -> indexing.SyncReport:
    with db.unit_of_work() as s:
        return indexing.sync(s, embedder=embedder, **kw)


def _records(db: Database, model: str | None = None) -> int:
    with db.session() as s:
        stmt = select(func.count(EmbeddingRecord.id))
        if model:
            stmt = stmt.where(EmbeddingRecord.model == model)
        return int(s.scalar(stmt) or 0)


def _titles(db: Database, query: str, embedder: CountingEmbedder) -> list[str]:
    with db.session() as s:
        return [h.title for h in search_kb(s, SYSTEM, query, 3, embedder=embedder)]


def test_unchanged_content_is_never_embedded_twice(db: Database, counting: CountingEmbedder):
    import_eval(db)
    first = _sync(db, counting)
    assert first.documents == 100 and first.embedded == first.chunks == len(counting.passages) == 200
    again = _sync(db, counting)
    assert again.embedded == 0 and again.unchanged == 200 and len(counting.passages) == 200
    # re-importing the same files changes nothing either
    import_eval(db)
    assert _sync(db, counting).embedded == 0


def test_changed_added_and_deleted_records_update_incrementally(db: Database, counting: CountingEmbedder):
    import_eval(db, ("kb",))
    _sync(db, counting)
    counting.passages.clear()
    _import(db, "kb", [{"ref": "kb-003", "title": "发票信息有误时的作废与红冲重开",
                        "body": "发票抬头写错时，当月可作废重开；跨月需走红字发票流程，约5个工作日。"},
                       {"ref": "kb-new", "title": "年会物料的制作排期", "body": "年会主视觉、易拉宝和邀请函建议提前三周确认。"}])
    with db.unit_of_work() as s:
        s.delete(s.scalars(select(KBArticle).where(KBArticle.ref == "kb-011")).one())
    report = _sync(db, counting)
    # kb-003's body chunk changed (its title card did not), kb-new has two chunks, kb-011 had two
    assert report.embedded == 3 and report.removed == 2 and not report.rebuilt
    assert any("红字发票流程，约5个工作日" in p for p in counting.passages)
    assert _records(db) == 2 * 60 + 2 - 2
    assert _titles(db, "年会易拉宝什么时候定", counting)[0] == "年会物料的制作排期"
    assert "保密协议的签署" not in _titles(db, "签保密协议", counting)


def test_same_content_under_another_record_reuses_the_stored_vector(db: Database, counting: CountingEmbedder):
    body = {"title": "对公收款账户", "body": "请汇入合同列明的对公账户，并在备注里写合同编号。"}
    _import(db, "kb", [{"ref": "a", **body}])
    _sync(db, counting)
    _import(db, "kb", [{"ref": "b", **body}])
    report = _sync(db, counting)
    assert report.embedded == 0 and report.copied == 2
    assert len(counting.passages) == 2


def test_switching_model_re_embeds_and_keeps_the_old_records(db: Database):
    import_eval(db, ("cases",))
    first, other = CountingEmbedder(), CountingEmbedder(name="another-model")
    _sync(db, first)
    report = _sync(db, other)
    assert report.model == "another-model" and report.embedded == 80 and len(other.passages) == 80
    assert _records(db, first.name) == 80 and _records(db, "another-model") == 80
    # and back: nothing to embed, the first model's records are still there
    assert _sync(db, first).embedded == 0


def test_index_persists_under_data_dir_and_rebuilds_from_records(db: Database, counting: CountingEmbedder):
    import_eval(db)
    _sync(db, counting)
    index_root = Path(get_settings().data_dir) / "index"
    (directory,) = [p for p in index_root.iterdir() if p.is_dir()]
    assert (directory / "manifest.json").is_file() and any(directory.glob("dense-*"))
    # a new process loads it without embedding anything
    indexing.forget()
    counting.passages.clear()
    assert _titles(db, "发票开错了怎么重开", counting)[0] == "发票信息有误时的作废与红冲重开"
    assert counting.passages == []
    # delete the files: the rebuild reads the stored vectors, the model computes nothing
    indexing.forget()
    for child in sorted(directory.rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()
    directory.rmdir()
    report = _sync(db, counting, full=True)
    assert report.rebuilt and report.embedded == 0 and counting.passages == []
    assert KnowledgeIndex.load(directory) is not None
    assert _titles(db, "发票开错了怎么重开", counting)[0] == "发票信息有误时的作废与红冲重开"


def test_search_syncs_lazily_when_the_database_moved_on(db: Database, counting: CountingEmbedder, monkeypatch):
    monkeypatch.setenv("CRMBOT_SEARCH_INDEX_CHECK_SECONDS", "0")
    from config import reset_settings

    reset_settings()
    import_eval(db, ("kb",))
    assert _titles(db, "发票开错了怎么重开", counting)[0] == "发票信息有误时的作废与红冲重开"  # first search builds
    _import(db, "kb", [{"ref": "kb-x", "title": "直播间违禁词清单", "body": "直播口播不得使用“全网最低”等绝对化用语。"}])
    assert _titles(db, "直播违禁词", counting)[0] == "直播间违禁词清单"


def test_long_articles_are_chunked_and_found_by_their_passage(db: Database, counting: CountingEmbedder):
    filler = "。".join(f"第{i}项：项目周报每周五发送，列明本周进展和下周计划" for i in range(30))
    body = filler + "。如需开通海外媒体投放账户，需要提供境外主体的商业登记证明和英文版营业执照。" + filler
    _import(db, "kb", [{"ref": "long", "title": "服务说明汇总", "body": body},
                       {"ref": "short", "title": "项目周报", "body": "项目周报每周五发送。"}])
    report = _sync(db, counting)
    assert report.chunks > 5
    with db.session() as s:
        hit = search_kb(s, SYSTEM, "海外媒体开户要什么材料", 1, embedder=counting)[0]
    assert hit.ref == "long" and "商业登记证明" in hit.passage and len(hit.passage) <= 300


@pytest.mark.parametrize("kind", ["cases", "kb"])
def test_sync_after_import_sees_every_kind(db: Database, counting: CountingEmbedder, kind: str):
    import_eval(db, (kind,))
    report = _sync(db, counting)
    model = Case if kind == "cases" else KBArticle
    with db.session() as s:
        assert report.documents == s.scalar(select(func.count(model.id)))


def _behind_another_process(db: Database, counting: CountingEmbedder, monkeypatch: pytest.MonkeyPatch,
                            check_seconds: str) -> tuple[Path, Any]:
    """This process holds the index in memory while another one (the importer) changes an article and syncs:
    records and files move on. Returns the index directory and the old in-memory index."""
    monkeypatch.setenv("CRMBOT_SEARCH_INDEX_CHECK_SECONDS", check_seconds)
    from config import reset_settings

    reset_settings()
    import_eval(db, ("kb",))
    _sync(db, counting)
    (directory, old), = indexing._cache.items()
    indexing.forget()
    _import(db, "kb", [{"ref": "kb-011", "title": "保密协议的签署", "body": "拍摄现场的无人机航拍需要提前报备空域。"}])
    _sync(db, counting)
    indexing.forget()
    indexing._cache[directory] = old
    return directory, old


def test_a_process_with_an_older_index_catches_up_from_the_records(db: Database, counting: CountingEmbedder,
                                                                   monkeypatch):
    _behind_another_process(db, counting, monkeypatch, "0")
    # its next search syncs without embedding
    counting.passages.clear()
    assert _titles(db, "无人机航拍要报备吗", counting)[0] == "保密协议的签署"
    with db.session() as s:  # the vectors moved on too, not only the words
        assert search_kb(s, SYSTEM, "无人机航拍要报备吗", 1, method="dense", embedder=counting)[0].ref == "kb-011"
    assert counting.passages == []


def test_a_due_freshness_check_runs_beside_the_search_not_inside_it(db: Database, counting: CountingEmbedder,
                                                                     monkeypatch):
    """Past ``search_index_check_seconds`` a search answers from the index it has; the check (and the sync it
    finds necessary) happens in the background, and the next searches see the change."""
    import time as clock

    directory, old = _behind_another_process(db, counting, monkeypatch, "0.05")
    indexing._checked[directory] = clock.monotonic() - 1  # and its check is due
    assert _titles(db, "无人机航拍要报备吗", counting)[0] != "保密协议的签署"  # answered at once, from `old`
    deadline = clock.monotonic() + 30
    while indexing._cache.get(directory) is old and clock.monotonic() < deadline:
        clock.sleep(0.05)
    assert indexing._cache[directory] is not old
    assert _titles(db, "无人机航拍要报备吗", counting)[0] == "保密协议的签署"
