"""Chinese tokenisation, BM25 (full and incremental builds agree), glossary expansion, matched terms."""

from __future__ import annotations

import numpy as np

from knowledge.documents import split_body
from knowledge.glossary import expand, expansions
from knowledge.lexical import BM25Index, top_k
from knowledge.text import char_tokens, matched_terms, normalise, tokens, word_tokens

DOCS = {
    "kb:1": "发票信息有误时的作废与红冲重开",
    "kb:2": "电子发票与纸质发票的发送方式和时效",
    "kb:3": "保密协议的签署",
    "case:4": "洁小智扫地机器人抖音达人开箱，CTR 4.1%",
}


def test_normalise_full_width_and_case():
    assert normalise("ＣＴＲ　４．１％  ROI") == "ctr 4.1% roi"


def test_char_tokens_keep_latin_words_and_numbers_whole():
    toks = char_tokens("签个NDA 30秒")
    assert "nda" in toks and "30" in toks
    assert {"u:签", "签个", "u:秒"} <= set(toks)


def test_pinyin_bigrams_meet_homophone_typos():
    typo = {t for t in char_tokens("素财审核", pinyin=True) if t.startswith("p:")}
    right = {t for t in char_tokens("素材审核", pinyin=True) if t.startswith("p:")}
    assert "p:sucai" in typo & right


def test_word_tokens_are_jieba_words():
    assert "w:发票" in word_tokens("电子发票怎么开")
    assert set(tokens("电子发票", "char+word", pinyin=False)) >= {"w:发票", "发票", "u:电"}


def _index(docs: dict[str, str]) -> BM25Index:
    return BM25Index.build((k, tokens(v, "char+word", pinyin=False)) for k, v in docs.items())


def test_bm25_ranks_the_matching_document_first():
    index = _index(DOCS)
    scores, known = index.scores(tokens("发票开错了怎么重开", "char+word", pinyin=False))
    assert index.keys[int(np.argmax(scores))] == "kb:1"
    assert "重开" in known
    assert top_k(scores, 2)[0][0] == index.position("kb:1")
    assert top_k(scores, 5, mask=np.array([False, True, True, True]))[0][0] == index.position("kb:2")


def test_incremental_update_equals_full_build():
    base = _index(DOCS)
    changed = dict(DOCS)
    del changed["kb:3"]
    changed["kb:2"] = "电子发票默认发送到收票邮箱"
    changed["kb:9"] = "账户余额退款需要提交退款申请函"
    updated = base.update([(k, tokens(changed[k], "char+word", pinyin=False)) for k in ("kb:2", "kb:9")], {"kb:3"})
    full = _index(changed)
    assert sorted(updated.keys) == sorted(full.keys)
    for query in ("发票邮箱", "退款申请", "扫地机器人 ctr"):
        q = tokens(query, "char+word", pinyin=False)
        a, _ = updated.scores(q)
        b, _ = full.scores(q)
        by_key_a = {k: round(float(a[i]), 4) for i, k in enumerate(updated.keys)}
        by_key_b = {k: round(float(b[i]), 4) for i, k in enumerate(full.keys)}
        assert by_key_a == by_key_b


def test_bm25_persists(tmp_path):
    index = _index(DOCS)
    index.save(tmp_path / "lex")
    again = BM25Index.load(tmp_path / "lex")
    q = tokens("保密协议", "char+word", pinyin=False)
    assert np.allclose(index.scores(q)[0], again.scores(q)[0])
    assert again.doc_terms("kb:3", q) == index.doc_terms("kb:3", q)


def test_glossary_expands_english_words_only_as_whole_words():
    assert expansions("我们给你们资料之前要先签个NDA") == ["保密协议"]
    assert "发票" in expand("财务催着要invoice")
    assert expansions("invoiced-ish words stay put") == []


def test_matched_terms_are_readable_words():
    toks = tokens("发票开错了怎么重开", "char+word", pinyin=False)
    index = _index(DOCS)
    assert matched_terms("发票开错了怎么重开", index.doc_terms("kb:1", toks))[:2] == ["发票", "重开"]


def test_long_articles_are_split_at_chinese_sentence_ends():
    body = "。".join(f"第{i}条说明：付款后五个工作日内开具发票并发送到收票邮箱" for i in range(40)) + "。"
    parts = split_body(body, 120, 20)
    assert len(parts) > 5
    assert all(len(p) <= 120 for p in parts)
    assert all(p.endswith("。") for p in parts[:-1])
    assert split_body("短文。", 120, 20) == ["短文。"]


def test_homophone_typos_are_repaired_against_the_index():
    from knowledge.typos import repair

    index = _index({"kb:1": "素材审核不通过时的处理", "kb:2": "广告服务费与设计费的开票", "kb:3": "开箱测评视频"})
    assert repair("素财审核一直不过怎么办", index) == "素材审核一直不过怎么办"  # 一直: a common word, kept
    assert repair("达人开相视频", index) == "达人开箱视频"
    assert repair("别写广告费", index) == "别写广告费"  # 告 is part of the known 广告
    assert repair("ROI 多少", index) == "ROI 多少"
