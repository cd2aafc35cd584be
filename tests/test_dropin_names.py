"""Which public names of sentence-transformers a drop-in script can still not find in sentforge.

For ``losses``, ``evaluation``, ``util``, ``models`` and the ``SentenceTransformer`` class, every
public name of sentence-transformers must exist in sentforge (as an attribute, or for modules as an
importable submodule), or be in ``NOT_YET`` with the reason it is missing. An entry that sentforge
has meanwhile gained fails the test too, so the list stays honest.
"""

from __future__ import annotations

import __future__
import importlib
import types
import warnings

import pytest

import sentforge

NOT_IMPLEMENTED_MODULE = "module type not implemented: sentforge models are Transformer, Pooling, Dense, Normalize"
PEFT = "PEFT adapters are not supported by sentforge's SentenceTransformer"

NOT_YET: dict[str, dict[str, str]] = {
    "losses": {},
    "evaluation": {
        "MSEEvaluatorFromDataFrame": "evaluator not implemented yet (MSEEvaluator covers parallel sentences)",
        "mse_from_dataframe": "module of MSEEvaluatorFromDataFrame, not implemented yet",
        "NanoBEIREvaluator": "needs the NanoBEIR datasets from the Hugging Face Hub; not implemented yet",
        "nano_beir": "module of NanoBEIREvaluator, not implemented yet",
    },
    "util": {
        "decorators": "internal argument-renaming decorators of sentence-transformers' own classes",
        "save_to_hub_args_decorator": "internal decorator of the deprecated save_to_hub",
        "deprecated_import": "sentence-transformers' own old-path machinery; sentforge.module_aliases does this",
        "kernels": "Hugging Face hub kernels are not supported (use_kernels is refused)",
    },
    "models": {
        "Asym": "routing modules (Asym/Router) are not implemented",
        "Router": "routing modules (Asym/Router) are not implemented",
        "BoW": NOT_IMPLEMENTED_MODULE,
        "bow": NOT_IMPLEMENTED_MODULE,
        "CLIPModel": "image models are out of scope",
        "clip_model": "image models are out of scope",
        "CNN": NOT_IMPLEMENTED_MODULE,
        "cnn": NOT_IMPLEMENTED_MODULE,
        "Dropout": NOT_IMPLEMENTED_MODULE,
        "dropout": NOT_IMPLEMENTED_MODULE,
        "LayerNorm": NOT_IMPLEMENTED_MODULE,
        "layer_norm": NOT_IMPLEMENTED_MODULE,
        "LSTM": NOT_IMPLEMENTED_MODULE,
        "lstm": NOT_IMPLEMENTED_MODULE,
        "StaticEmbedding": NOT_IMPLEMENTED_MODULE,
        "static_embedding": NOT_IMPLEMENTED_MODULE,
        "WeightedLayerPooling": NOT_IMPLEMENTED_MODULE,
        "weighted_layer_pooling": NOT_IMPLEMENTED_MODULE,
        "WordEmbeddings": NOT_IMPLEMENTED_MODULE,
        "word_embeddings": NOT_IMPLEMENTED_MODULE,
        "WordWeights": NOT_IMPLEMENTED_MODULE,
        "word_weights": NOT_IMPLEMENTED_MODULE,
        "tokenizer": "word tokenizers of the BoW/WordEmbeddings modules, not implemented",
    },
    "SentenceTransformer": {
        "active_adapter": PEFT,
        "active_adapters": PEFT,
        "add_adapter": PEFT,
        "check_peft_compatible_model": PEFT,
        "delete_adapter": PEFT,
        "disable_adapters": PEFT,
        "enable_adapters": PEFT,
        "get_adapter_state_dict": PEFT,
        "has_peft_compatible_model": PEFT,
        "load_adapter": PEFT,
        "set_adapter": PEFT,
        "clear_placement_cache": "multi-device placement is not implemented",
        "old_fit": "the sentence-transformers 2 training loop; fit() runs on the trainer as in sentence-transformers 3+",
        "merge": "PEFT/model merging is not supported",
        "modalities": "multimodal inputs are out of scope",
        "supports": "multimodal inputs are out of scope",
        "processor": "multimodal processors are out of scope; model.tokenizer is the text processor",
    },
}


def reference(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        st = importlib.import_module("sentence_transformers")
        if name == "SentenceTransformer":
            return st.SentenceTransformer
        return importlib.import_module(f"sentence_transformers.{name}")


def ours(name: str):
    if name == "SentenceTransformer":
        return sentforge.SentenceTransformer
    return importlib.import_module(f"sentforge.{name}")


def public_names(obj) -> set[str]:
    """dir() without private names, ``from __future__`` flags, and modules from outside the package."""
    names = set()
    for name in dir(obj):
        if name.startswith("_"):
            continue
        value = getattr(obj, name)
        if isinstance(value, __future__._Feature):
            continue
        if isinstance(value, types.ModuleType) and not value.__name__.startswith("sentence_transformers."):
            continue  # e.g. an imported `os`
        names.add(name)
    return names


def provides(obj, name: str) -> bool:
    if hasattr(obj, name):
        return True
    if isinstance(obj, types.ModuleType):
        try:
            importlib.import_module(f"{obj.__name__}.{name}")
        except ImportError:
            return False
        return True
    return False


@pytest.mark.parametrize("name", sorted(NOT_YET))
def test_public_names_of_sentence_transformers_exist(name):
    theirs, mine = reference(name), ours(name)
    missing = sorted(n for n in public_names(theirs) if not provides(mine, n))
    unexplained = [n for n in missing if n not in NOT_YET[name]]
    assert not unexplained, f"sentforge.{name} lacks {unexplained}: add them, or list them in NOT_YET with a reason"
    stale = sorted(set(NOT_YET[name]) - set(missing))
    assert not stale, f"sentforge.{name} now has {stale}: remove them from NOT_YET"


def test_every_reason_is_one_line():
    for entries in NOT_YET.values():
        for reason in entries.values():
            assert reason.strip() and "\n" not in reason
