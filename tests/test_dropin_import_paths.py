"""Every module path of sentence-transformers 6, new and old, imports under ``sentforge``.

sentence-transformers 6 moved its code to canonical paths (``sentence_transformers.sentence_transformer.losses``,
``sentence_transformers.base.evaluation``, ...) and keeps the older ones (``sentence_transformers.losses``) as
aliases. A drop-in script may use either. Every module of sentence-transformers (walked with pkgutil, minus the
out-of-scope ones) must import as the same path under ``sentforge`` and hold the same public names, or be in
MODULE_GAPS / NAME_GAPS with the reason it is missing. A gap that sentforge has meanwhile filled fails the test,
so the lists stay honest. A module's public names are its ``__all__``, or else the classes and functions it
defines itself (helpers it merely imports from elsewhere are not its API).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import warnings

import pytest
import sentence_transformers as st
from sentence_transformers.util.deprecated_import import DEPRECATED_MODULE_PATHS
from test_dropin_names import NOT_IMPLEMENTED_MODULE, NOT_YET, PEFT

import sentforge

OUT_OF_SCOPE = {
    "sparse_encoder": "sparse encoders are out of scope",
    "multi_vector_encoder": "multi-vector (late interaction) encoders are out of scope",
    "base.modality": "multimodal inputs are out of scope",
    "base.modality_types": "multimodal inputs are out of scope",
    "base.peft_mixin": PEFT,
    "sentence_transformer.modules.clip_model": "image models are out of scope",
}

SPARSE = OUT_OF_SCOPE["sparse_encoder"]
MULTI_VECTOR = OUT_OF_SCOPE["multi_vector_encoder"]
V2_READER = "file reader of the sentence-transformers 2 fit API, not implemented; load data with `datasets`"
MODULE_CROSS_ENCODER = (
    "CrossEncoder wraps one transformers sequence-classification model; module-built cross-encoders are not supported"
)
PRIVATE_HELPER = "the loss's internal patching helper; sentforge's equivalent is private"
NO_BASE_TRAINER = "no shared base: SentenceTransformerTrainer and CrossEncoderTrainer each extend transformers' Trainer"
NO_BASE_ARGS = "no separate base: CrossEncoderTrainingArguments extends SentenceTransformerTrainingArguments"
NO_COLLATOR = "no data collator class: sentforge's trainer tokenizes text columns once up front and pads per batch"
NO_BASE_MODEL = "no shared BaseModel: SentenceTransformer and CrossEncoder are separate nn.Modules"
NO_CARD_CALLBACK = "no card callback: the trainer records the card data itself (sentforge.training.card_record)"
MERGING = "internal column-merging helpers of sentence-transformers' losses; sentforge merges columns privately"
ONNX_INTERNALS = "internal helpers of sentence-transformers' backends; SentenceTransformer(..., backend=...) does this"
MODELS = NOT_YET["models"]

# sentforge module path (relative to the package) -> why it does not import.
MODULE_GAPS: dict[str, str] = {
    "backend.load": ONNX_INTERNALS,
    "backend.utils": ONNX_INTERNALS,
    "base.data_collator": NO_COLLATOR,
    "base.merging": NOT_YET["SentenceTransformer"]["merge"],
    "base.model": NO_BASE_MODEL,
    "base.model_card": "no shared card base: SentenceTransformerModelCardData and CrossEncoderModelCardData stand alone",
    "base.modules.router": MODELS["Router"],
    "base.trainer": NO_BASE_TRAINER,
    "base.training_args": NO_BASE_ARGS,
    "cross_encoder.evaluation.deprecated": "the CE* evaluators (deprecated in v4) are not implemented; use CrossEncoder*Evaluator",
    "cross_encoder.evaluation.nano_beir": NOT_YET["evaluation"]["NanoBEIREvaluator"],
    "cross_encoder.losses.adr_mse": "ADRMSELoss is not implemented yet",
    "cross_encoder.modules": MODULE_CROSS_ENCODER,
    "cross_encoder.modules.logit_score": MODULE_CROSS_ENCODER,
    "cross_encoder.util": NOT_YET["util"]["decorators"],
    "sentence_transformer.data_collator": NO_COLLATOR,
    "sentence_transformer.datasets.denoising_auto_encoder": "v2 dataset, not implemented; use a Dataset of (noisy, original)",
    "sentence_transformer.datasets.no_duplicates_dataloader": "v2 loader, not implemented; use BatchSamplers.NO_DUPLICATES",
    "sentence_transformer.datasets.parallel_sentences": "v2 dataset, not implemented; use a Dataset with MSELoss",
    "sentence_transformer.datasets.sentence_label": "v2 dataset, not implemented; use BatchSamplers.GROUP_BY_LABEL",
    "sentence_transformer.deprecated_model_card_templates": "old card template; sentforge writes cards with sentforge.card",
    "sentence_transformer.evaluation.mse_from_dataframe": NOT_YET["evaluation"]["mse_from_dataframe"],
    "sentence_transformer.evaluation.nano_beir": NOT_YET["evaluation"]["nano_beir"],
    "sentence_transformer.modules.bow": MODELS["bow"],
    "sentence_transformer.modules.cnn": MODELS["cnn"],
    "sentence_transformer.modules.dropout": MODELS["dropout"],
    "sentence_transformer.modules.layer_norm": MODELS["layer_norm"],
    "sentence_transformer.modules.lstm": MODELS["lstm"],
    "sentence_transformer.modules.static_embedding": MODELS["static_embedding"],
    "sentence_transformer.modules.tokenizer": MODELS["tokenizer"],
    "sentence_transformer.modules.tokenizer.phrase": MODELS["tokenizer"],
    "sentence_transformer.modules.tokenizer.whitespace": MODELS["tokenizer"],
    "sentence_transformer.modules.tokenizer.word": MODELS["tokenizer"],
    "sentence_transformer.modules.weighted_layer_pooling": MODELS["weighted_layer_pooling"],
    "sentence_transformer.modules.word_embeddings": MODELS["word_embeddings"],
    "sentence_transformer.modules.word_weights": MODELS["word_weights"],
    "sentence_transformer.readers.label_sentence": V2_READER,
    "sentence_transformer.readers.nli_data": V2_READER,
    "sentence_transformer.readers.paired_files": V2_READER,
    "sentence_transformer.readers.sts_data": V2_READER,
    "sentence_transformer.readers.triplet": V2_READER,
    "util.decorators": NOT_YET["util"]["decorators"],
    "util.deprecated_import": NOT_YET["util"]["deprecated_import"],
    "util.kernels": NOT_YET["util"]["kernels"],
}

# sentforge module path ("" for the package itself) -> {public name it lacks: why}.
NAME_GAPS: dict[str, dict[str, str]] = {
    "": {
        "ParallelSentencesDataset": MODULE_GAPS["sentence_transformer.datasets.parallel_sentences"],
        "SparseEncoder": SPARSE,
        "SparseEncoderModelCardData": SPARSE,
        "SparseEncoderTrainer": SPARSE,
        "SparseEncoderTrainingArguments": SPARSE,
        "MultiVectorEncoder": MULTI_VECTOR,
        "MultiVectorEncoderModelCardData": MULTI_VECTOR,
        "MultiVectorEncoderTrainer": MULTI_VECTOR,
        "MultiVectorEncoderTrainingArguments": MULTI_VECTOR,
    },
    "backend": {
        "backend_should_export": ONNX_INTERNALS,
        "backend_warn_to_save": ONNX_INTERNALS,
        "load_onnx_model": ONNX_INTERNALS,
        "load_openvino_model": ONNX_INTERNALS,
        "save_or_push_to_hub_model": ONNX_INTERNALS,
    },
    "base": {
        "BaseDataCollator": NO_COLLATOR,
        "BaseModel": NO_BASE_MODEL,
        "BaseTrainer": NO_BASE_TRAINER,
        "BaseTrainingArguments": NO_BASE_ARGS,
        "PeftAdapterMixin": PEFT,
    },
    "base.losses": {
        "column_merging_disabled": MERGING,
        "has_static_embedding_input": MODELS["StaticEmbedding"],
        "uses_gradient_cache": "a function there; sentforge losses carry a `uses_gradient_cache` attribute instead",
    },
    "base.losses.gradcache": {
        "has_static_embedding_input": MODELS["StaticEmbedding"],
        "resolve_gradient_cache_loss": "internal helper of the wrapper losses; sentforge's MatryoshkaLoss unwraps privately",
        "uses_gradient_cache": "a function there; sentforge losses carry a `uses_gradient_cache` attribute instead",
    },
    "base.losses.merged_forward": {
        "chunked_padded_forward": MERGING,
        "column_merging_disabled": MERGING,
        "embed_columns_padded": MERGING,
        "merge_feature_batches": MERGING,
    },
    "base.modules": {"Router": MODELS["Router"]},
    "base.modules.transformer": {
        "ModalityParams": OUT_OF_SCOPE["base.modality"],
        "ProcessingKwargs": OUT_OF_SCOPE["base.modality"],
        "QueryExpansionConfig": MULTI_VECTOR,
        "set_temporary_class_attrs": "internal helper of sentence-transformers' Transformer loading",
    },
    "cross_encoder.evaluation": {
        "CEBinaryAccuracyEvaluator": MODULE_GAPS["cross_encoder.evaluation.deprecated"],
        "CEBinaryClassificationEvaluator": MODULE_GAPS["cross_encoder.evaluation.deprecated"],
        "CECorrelationEvaluator": MODULE_GAPS["cross_encoder.evaluation.deprecated"],
        "CEF1Evaluator": MODULE_GAPS["cross_encoder.evaluation.deprecated"],
        "CERerankingEvaluator": MODULE_GAPS["cross_encoder.evaluation.deprecated"],
        "CESoftmaxAccuracyEvaluator": MODULE_GAPS["cross_encoder.evaluation.deprecated"],
        "CrossEncoderNanoBEIREvaluator": NOT_YET["evaluation"]["NanoBEIREvaluator"],
    },
    "cross_encoder.losses": {"ADRMSELoss": MODULE_GAPS["cross_encoder.losses.adr_mse"]},
    "cross_encoder.model_card": {"CrossEncoderModelCardCallback": NO_CARD_CALLBACK},
    "sentence_transformer": {"SentenceTransformerDataCollator": NO_COLLATOR},
    "sentence_transformer.datasets": {
        "DenoisingAutoEncoderDataset": MODULE_GAPS["sentence_transformer.datasets.denoising_auto_encoder"],
        "NoDuplicatesDataLoader": MODULE_GAPS["sentence_transformer.datasets.no_duplicates_dataloader"],
        "ParallelSentencesDataset": MODULE_GAPS["sentence_transformer.datasets.parallel_sentences"],
        "SentenceLabelDataset": MODULE_GAPS["sentence_transformer.datasets.sentence_label"],
    },
    "sentence_transformer.evaluation": {
        "MSEEvaluatorFromDataFrame": NOT_YET["evaluation"]["MSEEvaluatorFromDataFrame"],
        "NanoBEIREvaluator": NOT_YET["evaluation"]["NanoBEIREvaluator"],
    },
    "sentence_transformer.losses.adaptive_layer": {
        "ForwardDecorator": PRIVATE_HELPER,
        "TransformerDecorator": PRIVATE_HELPER,
    },
    "sentence_transformer.losses.matryoshka": {"CachedLossDecorator": PRIVATE_HELPER, "ForwardDecorator": PRIVATE_HELPER},
    "sentence_transformer.model_card": {
        "ModelCardCallback": NO_CARD_CALLBACK,
        "SentenceTransformerModelCardCallback": NO_CARD_CALLBACK,
    },
    "sentence_transformer.modules": {
        name: MODELS[name]
        for name in ("Asym", "BoW", "CLIPModel", "CNN", "Dropout", "LayerNorm", "LSTM", "Router", "StaticEmbedding",
                     "WeightedLayerPooling", "WordEmbeddings", "WordWeights")
    },
    "sentence_transformer.readers": {
        name: V2_READER
        for name in ("LabelSentenceReader", "NLIDataReader", "PairedFilesReader", "STSBenchmarkDataReader",
                     "STSDataReader", "TripletReader")
    },
    "util": {"save_to_hub_args_decorator": NOT_YET["util"]["save_to_hub_args_decorator"]},
    "util.distributed": {"distributed_evaluation": "evaluator-sharing helper of sentence-transformers' trainer; not implemented"},
    "util.environment": {
        "get_installed_version": "internal helper of sentence-transformers' version checks (sentforge's is private)",
        "suggest_extra_on_exception": "install hints for multimodal extras, which are out of scope",
    },
    "util.quantization": {
        "semantic_search_faiss": "quantized FAISS/USearch search helpers are not implemented yet",
        "semantic_search_usearch": "quantized FAISS/USearch search helpers are not implemented yet",
    },
}

# Pre-6 paths (keys of sentence-transformers' DEPRECATED_MODULE_PATHS) that do not import although their target does.
OLD_PATH_GAPS: dict[str, str] = {
    "LoggingHandler": "the alias would load sentforge.util at `import sentforge`; `from sentforge import LoggingHandler` works",
}


def out_of_scope(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + ".") for prefix in OUT_OF_SCOPE)


def relative(name: str) -> str:
    return "" if name == "sentence_transformers" else name.removeprefix("sentence_transformers.")


def reference(path: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(f"sentence_transformers.{path}" if path else "sentence_transformers")


def ours(path: str) -> str:
    return f"sentforge.{path}" if path else "sentforge"


def reference_modules() -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        walked = pkgutil.walk_packages(st.__path__, "sentence_transformers.", onerror=lambda name: None)
        return [""] + sorted(p for p in (relative(info.name) for info in walked) if not out_of_scope(p))


def public_names(module) -> list[str]:
    """``__all__`` less private names, or else the classes and functions the module itself defines."""
    if hasattr(module, "__all__"):
        return sorted(name for name in module.__all__ if not name.startswith("_"))
    return sorted(
        name for name, value in vars(module).items()
        if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    )


def import_ours(path: str):
    """sentforge's module for ``path``, or None when that path (not a dependency of it) is missing."""
    try:
        return importlib.import_module(ours(path))
    except ModuleNotFoundError as error:
        if not error.name or not (ours(path) + ".").startswith(error.name + "."):
            raise  # a broken import inside sentforge, not a missing path
        return None


MODULES = reference_modules()
OLD_PATHS = {
    relative(old): relative(new)
    for old, new in DEPRECATED_MODULE_PATHS.items()
    if not out_of_scope(relative(old)) and not out_of_scope(relative(new))
}


def test_the_walk_sees_the_canonical_packages():
    assert {"sentence_transformer.losses", "sentence_transformer.evaluation", "base.evaluation", "util"} <= set(MODULES)
    assert not any(p.startswith("sparse_encoder") for p in MODULES)


@pytest.mark.parametrize("path", MODULES)
def test_module_path_and_public_names_exist_in_sentforge(path):
    module = import_ours(path)
    if module is None:
        assert path in MODULE_GAPS, f"{ours(path)} does not import: alias it, or list it in MODULE_GAPS with a reason"
        return
    assert path not in MODULE_GAPS, f"{ours(path)} imports now: remove it from MODULE_GAPS"
    expected = public_names(reference(path))
    missing = [name for name in expected if not hasattr(module, name)]
    gaps = NAME_GAPS.get(path, {})
    unexplained = [name for name in missing if name not in gaps]
    assert not unexplained, f"{ours(path)} lacks {unexplained}: add them, or list them in NAME_GAPS with a reason"
    stale = sorted(set(gaps) - set(missing))
    assert not stale, f"{ours(path)} now has {stale}: remove them from NAME_GAPS"
    for name in set(expected) - set(missing):
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("sentforge"), f"{ours(path)}.{name} is not sentforge's: {value!r}"


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_pre_6_module_path_imports(old):
    new = OLD_PATHS[old]
    module = import_ours(old)
    if new in MODULE_GAPS:
        return  # the target is a known gap; so is its old path
    if module is None:
        assert old in OLD_PATH_GAPS, f"{ours(old)} (now {ours(new)}) does not import: alias it, or list it in OLD_PATH_GAPS"
        return
    assert old not in OLD_PATH_GAPS, f"{ours(old)} imports now: remove it from OLD_PATH_GAPS"
    leaf = old.rsplit(".", 1)[-1]
    if leaf[0].isupper():  # ``from sentforge.losses.MSELoss import MSELoss``
        assert hasattr(module, leaf)
        parent = importlib.import_module(ours(old.rpartition(".")[0]) if "." in old else "sentforge")
        assert inspect.isclass(getattr(parent, leaf)), f"importing {ours(old)} replaced the class attribute {leaf}"


def test_top_level_namespace_matches_sentence_transformers():
    subpackages = {m.name for m in pkgutil.iter_modules(st.__path__) if m.ispkg and not out_of_scope(m.name)}
    expected = set(public_names(st)) | subpackages
    missing = sorted(name for name in expected if not hasattr(sentforge, name))
    assert missing == sorted(NAME_GAPS[""]), f"missing at the top level: {missing}"
    assert expected - set(missing) <= set(dir(sentforge))


def test_gap_tables_name_real_modules_and_names():
    for path in MODULE_GAPS:
        assert path in MODULES, f"MODULE_GAPS names {path!r}, which sentence-transformers does not have"
    for path, names in NAME_GAPS.items():
        assert path in MODULES and path not in MODULE_GAPS, path
        assert set(names) <= set(public_names(reference(path))), (path, set(names) - set(public_names(reference(path))))
    for old in OLD_PATH_GAPS:
        assert old in OLD_PATHS, old
    reasons = [*MODULE_GAPS.values(), *OLD_PATH_GAPS.values()] + [r for names in NAME_GAPS.values() for r in names.values()]
    assert all(reason.strip() and "\n" not in reason for reason in reasons)


def test_openvino_export_refuses_clearly():
    from sentforge.errors import SentforgeError

    with pytest.raises(SentforgeError, match="openvino"):
        sentforge.export_static_quantized_openvino_model(None, None, "model")


CANONICAL_SCRIPT = """
import sys

from datasets import Dataset

from sentforge.base.evaluation import SequentialEvaluator
from sentforge.base.sampler import NoDuplicatesBatchSampler
from sentforge.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator
from sentforge.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentforge.sentence_transformer.model import SentenceTransformer
from sentforge.sentence_transformer.trainer import SentenceTransformerTrainer
from sentforge.sentence_transformer.training_args import BatchSamplers, SentenceTransformerTrainingArguments

imported = [SequentialEvaluator, NoDuplicatesBatchSampler, EmbeddingSimilarityEvaluator, MultipleNegativesRankingLoss,
            SentenceTransformer, SentenceTransformerTrainer, BatchSamplers, SentenceTransformerTrainingArguments]
assert all(cls.__module__.startswith("sentforge") for cls in imported), [cls.__module__ for cls in imported]
assert "sentence_transformers" not in sys.modules

model_dir, output_dir = sys.argv[1:]
anchors = ["the cat sat on the mat", "a dog ran in the park", "he drove a car", "the river bank is green",
           "she has a loan", "the weather is lovely today", "gold mining permit", "a big red tree"]
positives = ["a cat sat", "the dog ran fast", "they drove to the stadium", "money in the bank",
             "the fish in the water", "it is sunny outside", "the coal miner has a claim", "a small blue car"]
model = SentenceTransformer(model_dir, device="cpu")
evaluator = SequentialEvaluator(
    [EmbeddingSimilarityEvaluator(anchors[:4], positives[:4], [1.0, 0.8, 0.3, 0.1], name="sts-dev")]
)
args = SentenceTransformerTrainingArguments(
    output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, batch_sampler=BatchSamplers.NO_DUPLICATES,
    eval_strategy="steps", eval_steps=2, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
)
trainer = SentenceTransformerTrainer(
    model=model, args=args, train_dataset=Dataset.from_dict({"anchor": anchors, "positive": positives}),
    loss=MultipleNegativesRankingLoss(model), evaluator=evaluator,
)
trainer.train()
assert trainer.state.global_step == 2, trainer.state.global_step
assert any("eval_sts-dev_spearman_cosine" in row for row in trainer.state.log_history), trainer.state.log_history
assert "sentence_transformers" not in sys.modules
print("trained 2 steps")
"""


def test_a_script_using_only_canonical_paths_trains(tiny_bert_dir, tmp_path):
    src = os.path.dirname(os.path.dirname(sentforge.__file__))
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "WANDB_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", CANONICAL_SCRIPT, tiny_bert_dir, str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained 2 steps" in result.stdout
