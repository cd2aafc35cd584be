"""Resume after a hard kill reaches the same weights as an uninterrupted run; checkpoints are atomic."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import torch
from safetensors.torch import load_file

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "train_tiny.py")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, env=env, timeout=600)


def _weights(folder: str) -> dict[str, torch.Tensor]:
    return load_file(os.path.join(folder, "final", "model.safetensors"))


def test_resume_after_kill_matches_uninterrupted_run(tiny_bert_dir, tmp_path):
    straight = str(tmp_path / "straight")
    result = _run(tiny_bert_dir, straight)
    assert result.returncode == 0, result.stderr[-3000:]

    interrupted = str(tmp_path / "interrupted")
    killed = _run(tiny_bert_dir, interrupted, "--kill-at-step", "12")
    assert killed.returncode == 17
    assert not os.path.exists(os.path.join(interrupted, "final"))
    assert os.path.isdir(os.path.join(interrupted, "checkpoint-10"))
    # a save that died half-way leaves a checkpoint without its trainer state (written last): resume skips it
    half = os.path.join(interrupted, "checkpoint-15")
    shutil.copytree(os.path.join(interrupted, "checkpoint-10"), half)
    os.remove(os.path.join(half, "trainer_state.json"))

    resumed = _run(tiny_bert_dir, interrupted, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = _weights(straight), _weights(interrupted)
    assert a.keys() == b.keys()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-6
    assert open(os.path.join(interrupted, "steps.txt")).read() == open(os.path.join(straight, "steps.txt")).read()


def test_resume_without_checkpoint_is_a_clear_error(tiny_bert_dir, tmp_path):
    result = _run(tiny_bert_dir, str(tmp_path / "empty"), "--resume")
    assert result.returncode != 0
    assert "holds no complete checkpoint" in result.stderr
