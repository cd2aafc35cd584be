"""LabelAccuracyEvaluator: classification accuracy of a softmax head (e.g. SoftmaxLoss) on labeled
sentence pairs, as sentence-transformers.
"""

from __future__ import annotations

import logging

import torch
from torch.utils.data import DataLoader

from .base import SentenceEvaluator, append_csv_row, epoch_text

logger = logging.getLogger(__name__)


def _collate_input_examples(model, batch) -> tuple[list[dict[str, torch.Tensor]], torch.Tensor]:
    """InputExample-like objects -> (one tokenized batch per text column, label tensor)."""
    n_texts = len(batch[0].texts)
    features = [model.tokenize([example.texts[i] for example in batch]) for i in range(n_texts)]
    return features, torch.tensor([example.label for example in batch])


class LabelAccuracyEvaluator(SentenceEvaluator):
    """Accuracy of ``softmax_model(features, labels=None)``'s argmax against the labels of
    ``dataloader`` (a DataLoader over InputExample-like objects with ``texts`` and an int ``label``)."""

    def __init__(self, dataloader: DataLoader, name: str = "", softmax_model=None, write_csv: bool = True):
        super().__init__()
        self.dataloader = dataloader
        self.name = name
        self.softmax_model = softmax_model
        self.write_csv = write_csv
        self.csv_file = "accuracy_evaluation" + (f"_{name}" if name else "") + "_results.csv"
        self.csv_headers = ["epoch", "steps", "accuracy"]
        self.primary_metric = self.prefixed("accuracy")

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        model.eval()
        logger.info(f"Evaluation on the {self.name} dataset{epoch_text(epoch, steps) or ''}:")
        collate = getattr(model, "smart_batching_collate", None)
        self.dataloader.collate_fn = collate or (lambda batch: _collate_input_examples(model, batch))
        device = getattr(model, "device", torch.device("cpu"))
        total = correct = 0
        for features, label_ids in self.dataloader:
            features = [{key: value.to(device) for key, value in f.items()} for f in features]
            with torch.no_grad():
                _, logits = self.softmax_model(features, labels=None)
            total += logits.size(0)
            correct += torch.argmax(logits, dim=1).eq(label_ids.to(logits.device)).sum().item()
        accuracy = correct / total if total else float("nan")
        if not total:
            self.nan_reasons[self.prefixed("accuracy")] = "the dataloader yielded no examples; pass a non-empty one"
        logger.info(f"Accuracy: {accuracy:.4f} ({correct}/{total})\n")
        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, accuracy])
        self.primary_metric = "accuracy"
        metrics = self.prefix_name_to_metrics({"accuracy": accuracy}, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
