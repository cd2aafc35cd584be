"""EpochWeightAverage keeps the arithmetic mean of the weights at the ends of the epochs it covers."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from sentforge.training.weight_average import EpochWeightAverage


def test_mean_of_the_weights_at_epoch_ends_from_the_first_epoch_on() -> None:
    model = torch.nn.Linear(3, 2)
    average = EpochWeightAverage(first_epoch=2)
    snapshots = []
    for epoch in (1, 2, 3, 4):
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(torch.randn_like(parameter))
        average.on_epoch_end(None, SimpleNamespace(epoch=float(epoch)), None, model=model)
        if epoch >= 2:
            snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
    average.on_epoch_end(None, SimpleNamespace(epoch=4.0), None, model=model)  # the same epoch twice counts once
    assert average.epochs == [2, 3, 4]
    mean = average.averaged_state()
    for name in ("weight", "bias"):
        expected = torch.stack([s[name] for s in snapshots]).mean(0)
        torch.testing.assert_close(mean[name], expected, rtol=0, atol=1e-6)


def test_nothing_is_averaged_before_the_first_epoch_it_covers() -> None:
    average = EpochWeightAverage(first_epoch=2)
    average.on_epoch_end(None, SimpleNamespace(epoch=1.0), None, model=torch.nn.Linear(2, 2))
    assert average.epochs == [] and average.averaged_state() == {}
