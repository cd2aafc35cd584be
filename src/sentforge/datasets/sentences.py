"""SentencesDataset: the v2-era wrapper of a list of InputExamples (kept so old scripts run)."""

from __future__ import annotations

from typing import Any, Sequence

from torch.utils.data import Dataset

from ..readers import InputExample


class SentencesDataset(Dataset):
    """A list of ``InputExample`` as a torch Dataset; ``model`` is accepted and unused, as in
    sentence-transformers 3+ (``fit`` tokenizes the texts itself). Passing the list straight to the
    DataLoader works the same."""

    def __init__(self, examples: Sequence[InputExample], model: Any = None) -> None:
        self.examples = examples

    def __getitem__(self, item: int) -> InputExample:
        return self.examples[item]

    def __len__(self) -> int:
        return len(self.examples)
