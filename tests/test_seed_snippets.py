"""The seeds' "Usage" snippets run unchanged after replacing the import (model id pointed at the packaged
all-MiniLM-L6-v2, since the seeds' own ids are placeholders)."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

pytestmark = pytest.mark.integration
SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "seeds")


def _snippets() -> list[tuple[str, str]]:
    if not os.path.isdir(SEEDS):
        return []
    found = []
    for name in sorted(os.listdir(SEEDS)):
        text = open(os.path.join(SEEDS, name), encoding="utf-8").read()
        match = re.search(r"```python\n(from sentence_transformers import SentenceTransformer\n.*?)```", text, re.S)
        if match:
            found.append((name[:3], match.group(1)))
    return found


@pytest.mark.parametrize("seed,snippet", _snippets())
def test_seed_usage_snippet_runs_with_sentforge(seed, snippet, minilm_path):
    code = snippet.replace("from sentence_transformers import", "from sentforge import")
    code = code.replace('"sentence_transformers_model_id"', '"all-MiniLM-L6-v2"')
    assert code.count("sentforge") == 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"seed{seed}_usage", "exec"), {})
    printed = out.getvalue()
    assert printed.splitlines()[0] == "(3, 384)"
    if "print(similarities)" in code:
        rows = re.findall(r"\[([-\d., ]+)\]", printed.split("\n", 1)[1])
        matrix = [[float(x) for x in row.split(",")] for row in rows]
        assert len(matrix) == 3 and all(abs(matrix[i][i] - 1) < 1e-4 for i in range(3))
    if seed == "001":  # the seed's own sentences: the published MiniLM similarity
        assert "0.6660" in printed
