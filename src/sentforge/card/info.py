"""What a model card is made of: the user's card settings and the record a training run fills.

The trainer fills a `RunInfo`; `render_model_card` turns it into README.md. Everything here is
plain data (str, numbers, lists, dicts), so a run record can be saved as JSON beside the model
and the card regenerated later without the model, the data or the tokenizer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_TASK_NAME = (
    "semantic textual similarity, semantic search, paraphrase mining, text classification, clustering, and more"
)
DEFAULT_TAGS = ("sentence-transformers", "sentence-similarity", "feature-extraction", "dense")
SENTENCE_TRANSFORMER_KIND = "sentence-transformer"
CROSS_ENCODER_KIND = "cross-encoder"


@dataclass
class SentenceTransformerModelCardData:
    """Card settings a user may pass to the model, with sentence-transformers' argument names.

    Args:
        language: the model's language(s), e.g. "en" or ["en", "de"]; kept as a list.
        license: e.g. "apache-2.0", "mit".
        model_name: the card's title, e.g. "MPNet base trained on AllNLI"; by default
            "SentenceTransformer based on <base model>".
        model_id: the hub id the model will be pushed to, "user/name"; used in the usage snippet.
        train_datasets: names and/or hub ids of the training sets, in order, e.g.
            [{"name": "SNLI", "id": "stanfordnlp/snli"}]; the trainer uses them to name the datasets.
        eval_datasets: the same for the evaluation sets.
        task_name: what the model can be used for, ending the card's first paragraph.
        tags: hub tags; the four library tags are always kept first.
        local_files_only: never look anything up on the hub (sentforge never does while rendering).
        generate_widget_examples: pick widget examples from the data and print real similarities.
    """

    language: str | list[str] | None = field(default_factory=list)
    license: str | None = None
    model_name: str | None = None
    model_id: str | None = None
    train_datasets: list[dict[str, str]] = field(default_factory=list)
    eval_datasets: list[dict[str, str]] = field(default_factory=list)
    task_name: str | None = DEFAULT_TASK_NAME
    tags: list[str] | None = field(default_factory=lambda: list(DEFAULT_TAGS))
    local_files_only: bool = False
    generate_widget_examples: bool = True

    def __post_init__(self) -> None:
        self._evaluations: dict[tuple[str, str], EvaluatorResult] = {}
        if self.language is None:
            self.language = []
        elif isinstance(self.language, str):
            self.language = [self.language]
        self.tags = _unique([*DEFAULT_TAGS, *(self.tags or [])])
        self.task_name = self.task_name or DEFAULT_TASK_NAME
        self.train_datasets = [_named_dataset(d) for d in self.train_datasets or []]
        self.eval_datasets = [_named_dataset(d) for d in self.eval_datasets or []]
        if self.model_id and self.model_id.count("/") != 1:
            # sentence-transformers warns and drops it too: scripts that pass a bare name keep running.
            logger.warning(
                "model_id %r should be 'user/name' (e.g. 'alice/mpnet-base-nli'); it is left out of the card.",
                self.model_id,
            )
            self.model_id = None

    def add_tags(self, tags: str | list[str]) -> None:
        """Append tags that are not there yet."""
        self.tags = _unique([*self.tags, *([tags] if isinstance(tags, str) else tags)])

    def set_evaluation_metrics(self, evaluator: Any, metrics: dict[str, Any], epoch: float = 0, step: int = 0) -> None:
        """Keep an evaluator's latest results for the card; evaluators call this after each run."""
        evaluator_class = type(evaluator)
        result = EvaluatorResult(
            class_name=f"{evaluator_class.__module__}.{evaluator_class.__qualname__}",
            name=getattr(evaluator, "name", "") or "",
            description=getattr(evaluator, "description", evaluator_class.__name__),
            metrics={key: value.item() if hasattr(value, "item") else value for key, value in metrics.items()},
            primary_metric=getattr(evaluator, "primary_metric", None),
        )
        self._evaluations[(result.class_name, result.name)] = result

    @property
    def evaluator_results(self) -> list[EvaluatorResult]:
        """The latest results of each evaluator run on the model (one per class and name)."""
        return list(self._evaluations.values())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SentenceTransformerModelCardData:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class LossInfo:
    """The loss a dataset was trained with.

    Args:
        name: class name, shown in the card and in the `loss:<name>` tag, e.g. "CosineSimilarityLoss".
        fullname: module path of the class, e.g. "sentforge.losses.CosineSimilarityLoss" or
            "__main__.MyLoss"; a loss from outside sentforge/sentence-transformers is shown as
            code instead of a link to the documentation. None means a library loss.
        config: the loss's parameters (`get_config_dict()`), shown as JSON; None to show none.
        citation: BibTeX for the loss, listed under Citation; None if it has none.
        wrapped: losses used inside this one (e.g. MatryoshkaLoss around MNRL): tagged and cited too.
    """

    name: str
    fullname: str | None = None
    config: dict[str, Any] | None = None
    citation: str | None = None
    wrapped: list[LossInfo] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LossInfo:
        return cls(**{**data, "wrapped": [cls.from_dict(w) for w in data.get("wrapped", [])]})


@dataclass
class ColumnStatistics:
    """Statistics of one dataset column, as shown in the card's statistics table.

    Args:
        dtype: "string", "int", "bool", "float", "list", or a type name for anything else.
        details: label -> formatted value, in display order, e.g. {"min": "4 tokens", ...}
            or {"0": "~50.00%", "1": "~50.00%"}.
    """

    dtype: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class DatasetInfo:
    """One training or evaluation dataset. Build it with `card.stats.describe_dataset`.

    Args:
        name: shown as the dataset's heading; None shows "Unnamed Dataset".
        size: number of rows.
        columns: column names, in order.
        samples: the first rows (at most 3 are shown), column -> value.
        statistics: column -> statistics over the first `stats_rows` rows.
        stats_rows: how many rows the statistics cover (min(size, 1000)).
        loss: the loss this dataset was trained with, if any.
        hub_id: the dataset's hub id (links it, and lists it under `datasets:`), if known.
        revision: the hub revision of `hub_id`, if known.
    """

    name: str | None
    size: int
    columns: list[str]
    samples: list[dict[str, Any]] = field(default_factory=list)
    statistics: dict[str, ColumnStatistics] = field(default_factory=dict)
    stats_rows: int = 0
    loss: LossInfo | None = None
    hub_id: str | None = None
    revision: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        return cls(
            **{
                **data,
                "statistics": {k: ColumnStatistics(**v) for k, v in data.get("statistics", {}).items()},
                "loss": LossInfo.from_dict(data["loss"]) if data.get("loss") else None,
            }
        )


@dataclass
class EvaluatorResult:
    """What one evaluator measured on the final model.

    Args:
        class_name: evaluator class, e.g. "EmbeddingSimilarityEvaluator" or "sentforge.evaluation.X";
            a class from outside sentforge/sentence-transformers is shown as code, not linked.
        name: the evaluator's name (its metric prefix), e.g. "valid"; "" if unnamed.
        description: the section heading, e.g. "Semantic Similarity".
        task_type: the hub task type, e.g. "semantic-similarity"; "" derives it from description.
        metrics: full metric keys "<name>_<metric>" -> value (NaN allowed).
        primary_metric: the full key of the primary metric, shown in bold.
        config: the evaluator's non-default parameters, shown as JSON when not empty.
    """

    class_name: str
    name: str
    description: str
    metrics: dict[str, float]
    primary_metric: str | None = None
    task_type: str = ""
    config: dict[str, Any] | None = None


@dataclass
class LogRow:
    """One row of the training log (a logging step, an evaluation step, or both).

    Args:
        epoch: fractional epoch, e.g. 0.2655.
        step: global optimisation step.
        training_loss: mean training loss since the previous log row, if logged at this step.
        validation_loss: loss on the evaluation dataset, if evaluated at this step.
        metrics: other columns at this step: each evaluator's primary metric (full key) and
            per-dataset validation losses named "<dataset> loss".
    """

    epoch: float
    step: int
    training_loss: float | None = None
    validation_loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class RunInfo:
    """Everything the card shows about a saved model and the run that trained it.

    Args:
        card_data: the user's card settings.
        architecture: `str(model)`, shown under "Full Model Architecture".
        max_seq_length: the model's maximum sequence length in tokens.
        output_dimension: embedding size.
        similarity_fn_name: "cosine", "dot", "euclidean", "manhattan" (None means cosine).
        has_normalize: whether the model ends with a Normalize module (kept in the JSON record).
        base_model: hub id of the model training started from; None if unknown or local.
        base_model_revision: its commit, if known.
        train_datasets, eval_datasets: the datasets, in the trainer's order.
        evaluator_results: the evaluators' results on the final model.
        baseline_metrics: full metric key -> value, measured before training.
        all_hyperparameters: every training argument (name -> value), in order.
        non_default_hyperparameters: those that differ from the argument class's defaults.
        training_logs: the log rows, in order.
        best_step: step of the checkpoint that was kept (its row is bold), if one was chosen.
        framework_versions: label -> version, e.g. {"Python": "3.11.7", "Transformers": "5.23.0"}.
        widget: hub widget examples [{"source_sentence": s, "sentences": [a, b, c]}].
        usage_sentences: the sentences of the usage snippet; None uses three stock sentences.
        usage_similarities: `print(model.similarity(...))` for those sentences, or None to
            show only the shape.
        data_doctor_findings: markdown from the data checks; "" shows no section.
        training_curve: file name of the training-curve image beside README.md, or None.
        nan_reasons: metric key (full or short) -> why it is NaN and what to do about it.
        sampler_notes: sentences on training rows the batch sampler could not draw, per epoch.
    """

    card_data: SentenceTransformerModelCardData = field(default_factory=SentenceTransformerModelCardData)
    architecture: str = ""
    max_seq_length: int | None = None
    output_dimension: int | None = None
    similarity_fn_name: str | None = "cosine"
    has_normalize: bool = False
    base_model: str | None = None
    base_model_revision: str | None = None
    train_datasets: list[DatasetInfo] = field(default_factory=list)
    eval_datasets: list[DatasetInfo] = field(default_factory=list)
    evaluator_results: list[EvaluatorResult] = field(default_factory=list)
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    all_hyperparameters: dict[str, Any] = field(default_factory=dict)
    non_default_hyperparameters: dict[str, Any] = field(default_factory=dict)
    training_logs: list[LogRow] = field(default_factory=list)
    best_step: int | None = None
    framework_versions: dict[str, str] = field(default_factory=dict)
    widget: list[dict[str, Any]] = field(default_factory=list)
    usage_sentences: list[str] | None = None
    usage_similarities: str | None = None
    data_doctor_findings: str = ""
    training_curve: str | None = None
    nan_reasons: dict[str, str] = field(default_factory=dict)
    sampler_notes: list[str] = field(default_factory=list)
    model_kind: str = SENTENCE_TRANSFORMER_KIND
    """Which card renders this record: SENTENCE_TRANSFORMER_KIND or CROSS_ENCODER_KIND."""
    extra_sections: list[str] = field(default_factory=list)
    """Markdown sections added after training (e.g. a reranker's fusion with its retriever), placed
    before "## Training Details" so that a regenerated card keeps them."""

    @property
    def trained(self) -> bool:
        """Whether this record describes a training run (not just a saved model)."""
        return bool(self.train_datasets or self.all_hyperparameters or self.training_logs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        """Rebuild a record from `dataclasses.asdict` output (e.g. read back from JSON)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(
            **{
                **known,
                "card_data": SentenceTransformerModelCardData.from_dict(known.get("card_data", {})),
                "train_datasets": [DatasetInfo.from_dict(d) for d in known.get("train_datasets", [])],
                "eval_datasets": [DatasetInfo.from_dict(d) for d in known.get("eval_datasets", [])],
                "evaluator_results": [EvaluatorResult(**r) for r in known.get("evaluator_results", [])],
                "training_logs": [LogRow(**row) for row in known.get("training_logs", [])],
            }
        )


def collect_framework_versions() -> dict[str, str]:
    """Versions of Python and of the installed libraries that shaped the model, for the card."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    versions = {"Python": platform.python_version()}
    for label, package in [
        ("Sentforge", "sentforge"),
        ("Transformers", "transformers"),
        ("PyTorch", "torch"),
        ("Accelerate", "accelerate"),
        ("Datasets", "datasets"),
        ("Tokenizers", "tokenizers"),
    ]:
        try:
            versions[label] = version(package)
        except PackageNotFoundError:
            continue
    if "PyTorch" in versions:
        import torch  # the distribution version lacks the build tag (+cpu, +cu124)

        versions["PyTorch"] = torch.__version__
    return versions


def _named_dataset(dataset: dict[str, str]) -> dict[str, str]:
    """sentence-transformers names a dataset given only by id after its id."""
    dataset = dict(dataset)
    if "name" not in dataset and "id" in dataset:
        dataset["name"] = dataset["id"]
    return dataset


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
