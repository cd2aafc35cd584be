"""The head pattern picks exactly the weights a sequence-classification head adds, across architectures."""

from __future__ import annotations

import re

import pytest
from transformers import CONFIG_MAPPING, AutoModelForSequenceClassification

from sentforge.cross_encoder.head import head_module_names, head_parameter_pattern

SMALL = {"vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
         "intermediate_size": 37}
EXPECTED = {
    "bert": ["bert.pooler", "classifier"],
    "roberta": ["classifier"],
    "distilbert": ["classifier", "pre_classifier"],
    "deberta-v2": ["classifier", "pooler"],
}


@pytest.mark.parametrize("architecture", sorted(EXPECTED))
def test_head_names_and_pattern(architecture: str) -> None:
    extra = {"dim": 32, "n_layers": 1, "n_heads": 2, "hidden_dim": 37} if architecture == "distilbert" else {}
    model = AutoModelForSequenceClassification.from_config(CONFIG_MAPPING[architecture](num_labels=1, **SMALL,
                                                                                         **extra))
    assert head_module_names(model) == EXPECTED[architecture]
    pattern = head_parameter_pattern(model)
    matched = {name for name, _ in model.named_parameters() if re.search(pattern, f"model.model.{name}")}
    expected = {name for name, _ in model.named_parameters()
                if any(name.startswith(prefix + ".") for prefix in EXPECTED[architecture])}
    assert matched == expected and matched
