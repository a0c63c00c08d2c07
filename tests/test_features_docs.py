"""Every Python block of docs/features.md runs and its assertions hold."""

import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "features.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.filterwarnings("ignore:Empty filters detected")
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_block_runs(index):
    source = BLOCKS[index]
    for module in re.findall(r"^import (\w+)", source, flags=re.M):
        pytest.importorskip(module)
    exec(compile(source, f"{DOC.name}[block {index}]", "exec"), {})
