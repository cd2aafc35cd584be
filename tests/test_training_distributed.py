"""Two processes on CPU (gloo): the trainer trains with the global batch, and MNRL with
gather_across_devices uses every process's in-batch negatives."""

from __future__ import annotations

import os
import re
import subprocess
import sys


HERE = os.path.dirname(__file__)


def _torchrun(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def _failure(result: subprocess.CompletedProcess) -> str:
    """Each rank's own error lines first (torchrun's summary alone hides which rank failed and why)."""
    errors = [line for line in result.stderr.splitlines() if re.search(r"Error|Exception|rank\d\]:\s+raise", line)]
    return "\n".join(errors[-40:]) + "\n---\n" + result.stderr[-3000:]


def test_gathered_mnrl_equals_global_batch_loss(tiny_bert_dir):
    result = _torchrun(os.path.join(HERE, "scripts", "ddp_gather_check.py"), tiny_bert_dir)
    assert result.returncode == 0, _failure(result)
    match = re.search(r"GATHERED (\S+) FULL (\S+) GRAD_DIFF (\S+)", result.stdout)
    assert match, result.stdout
    gathered, full, grad_diff = (float(x) for x in match.groups())
    assert abs(gathered - full) < 1e-5
    assert grad_diff < 1e-5


def test_two_process_training_uses_the_global_batch(tiny_bert_dir, tmp_path):
    out = str(tmp_path / "ddp")
    result = _torchrun(os.path.join(HERE, "scripts", "train_tiny.py"), tiny_bert_dir, out, "--gather")
    assert result.returncode == 0, _failure(result)
    # 32 rows, 4 per process, 2 processes -> 4 steps per epoch, 2 epochs
    assert open(os.path.join(out, "steps.txt")).read() == "8"
    assert os.path.exists(os.path.join(out, "final", "model.safetensors"))
