"""docs/ml-integration.md: every ```python block runs, in order, in one namespace.

The page states that its code runs as is on a CPU-only machine; this keeps that true. The blocks
run in a child process (so the page's torch/JAX state, seeds and threads stay out of the test
process, and pytest's collection does not import the frameworks); each block is reported as its
own test, so a failure names the block and shows its traceback with the page's line numbers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("jax") is None:
    pytest.skip("the page needs both torch and jax", allow_module_level=True)

PAGE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "ml-integration.md"
FENCE = r"^```python[ \t]*\n(.*?)^```[ \t]*$"

RUNNER = r"""
import json, re, sys, traceback
page, out, fence = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(page, encoding="utf-8").read()
namespace = {"__name__": "docs_ml_integration"}
results = {}
failed = None
for m in re.finditer(fence, text, re.S | re.M):
    line = text.count("\n", 0, m.start()) + 2
    if failed is not None:
        results[line] = f"skipped: the block at line {failed} failed"
        continue
    try:
        # Leading newlines make tracebacks point at the line of the page.
        exec(compile("\n" * (line - 1) + m.group(1), page, "exec"), namespace)
        results[line] = "ok"
    except BaseException:
        results[line] = traceback.format_exc()
        failed = line
with open(out, "w") as f:
    json.dump(results, f)
"""


def python_blocks(text: str) -> list:
    """(first line number, source) of each ```python fenced block."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in re.finditer(FENCE, text, re.S | re.M)]


BLOCKS = python_blocks(PAGE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("docs_ml") / "results.json"
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(PAGE), str(out), FENCE], capture_output=True,
                          text=True, env=dict(os.environ), timeout=300)
    if proc.returncode != 0 or not out.exists():
        pytest.fail(f"the page runner crashed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return {int(k): v for k, v in json.loads(out.read_text()).items()}


def test_page_has_the_sections_and_blocks():
    text = PAGE.read_text(encoding="utf-8")
    for heading in ("## PyTorch", "## JAX", "### Zero-copy conversion", "### Metadata", "### Batching",
                    "### Training a classifier", "### Training", "## Typing"):
        assert heading in text
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("line", [line for line, _ in BLOCKS], ids=[f"line{line}" for line, _ in BLOCKS])
def test_block_runs(line, results):
    outcome = results[line]
    if outcome.startswith("skipped:"):
        pytest.skip(outcome)
    assert outcome == "ok", f"the block at {PAGE.name}:{line} failed:\n{outcome}"
