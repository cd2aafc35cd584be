"""`--device` names are checked before any model loads: one clear error, never torch's own."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from sentforge.cli import app
from sentforge.errors import SentforgeError
from sentforge.util.devices import checked_device


def test_known_and_default_devices_pass():
    assert checked_device(None) is None
    assert checked_device("cpu") == "cpu"


@pytest.mark.parametrize("name, message", [("gpu", "not a device name torch knows"),
                                           ("cuda:zero", "not a device name torch knows")])
def test_unknown_device_names(name, message):
    with pytest.raises(SentforgeError, match=message):
        checked_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_one_clear_error():
    with pytest.raises(SentforgeError, match="this machine has no cuda device"):
        checked_device("cuda")


def test_train_reranker_refuses_a_bad_device_before_loading(tmp_path):
    data = tmp_path / "pairs.csv"
    data.write_text("question,passage\nq one,p one\nq two,p two\n")
    result = CliRunner().invoke(app, ["train-reranker", str(data), "--retriever", str(tmp_path / "no-model"),
                                      "--device", "gpu"])
    assert result.exit_code != 0
    assert "--device 'gpu' is not a device name torch knows" in " ".join(result.output.split())
    assert "Traceback" not in result.output
