"""Every ```python block in docs/*.md runs, in order, one namespace per page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_docs_exist():
    assert PAGES, f"no documentation pages found in {DOCS}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_runs(page, tmp_path, monkeypatch):
    text = page.read_text()
    for module in ("torch", "jax", "matplotlib", "soundfile", "onnx", "onnxruntime", "onnxscript", "dask", "ray", "flax", "optax"):
        if re.search(rf"^\s*(import|from) {module}\b", text, re.M):
            pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)  # pages may write files
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    blocks = BLOCK.findall(text)
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message names the block
            raise AssertionError(f"{page.name}, code block {i} failed: {exc!r}\n{code}") from exc
