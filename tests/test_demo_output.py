"""docs/cli.md's sample output is what `make demo` prints: the same lines, the same numbers.

The demo command is read from the Makefile and run as it is (only the output folder moves to a
temporary one), 120 columns wide and not on a terminal. Progress lines (a bar on a terminal, a
timed line otherwise) and durations ("(44.4 s)") depend on the clock and are left out of both sides.
Training on another CPU rounds floats differently and can move a few of the 90 eval queries: the
numbers must agree within 0.04 or 4% (about 3 queries' worth of accuracy@1), every other character exactly.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"[-+]?\d+\.\d+")
DURATION = re.compile(r"\(\d+(\.\d+)? s\)")
PROGRESS = re.compile(r"^(step \d+/\d+ |Training [━ ]|Batches:|Training: \d+ steps; progress)")


def demo_arguments() -> list[str]:
    """The arguments after `-m sentforge.cli` in the Makefile's demo recipe."""
    text = (REPO / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    recipe = re.search(r"^demo:.*\n\t(.+)$", text, re.MULTILINE)
    assert recipe, "the Makefile has no demo recipe"
    words = shlex.split(recipe.group(1))
    return words[words.index("sentforge.cli") + 1:]


def documented_sample() -> list[str]:
    """The text block after 'The demo run prints' in docs/cli.md."""
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    match = re.search(r"The demo run prints[^\n]*\n\n```text\n(.*?)\n```", text, re.DOTALL)
    assert match, "docs/cli.md has no demo sample"
    return comparable(match.group(1))


def comparable(output: str) -> list[str]:
    return [DURATION.sub("(# s)", line.rstrip()) for line in output.splitlines()
            if line.strip() and not PROGRESS.match(line)]


def test_docs_sample_equals_the_demo_output(minilm_path, tmp_path):
    arguments = demo_arguments()
    arguments[arguments.index("--output") + 1] = "output/demo-model"
    env = {**os.environ, "COLUMNS": "120", "TERM": "dumb", "SENTFORGE_PROGRESS_SECONDS": "100000"}
    (tmp_path / "examples").symlink_to(REPO / "examples")
    run = subprocess.run([sys.executable, "-m", "sentforge.cli", *arguments], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout + run.stderr
    printed, documented = comparable(run.stdout), documented_sample()
    assert [NUMBER.sub("#", line) for line in documented] == [NUMBER.sub("#", line) for line in printed]
    for doc_line, out_line in zip(documented, printed):
        for doc_number, out_number in zip(NUMBER.findall(doc_line), NUMBER.findall(out_line)):
            assert float(doc_number) == pytest.approx(float(out_number), abs=0.04, rel=0.04), (doc_line, out_line)
