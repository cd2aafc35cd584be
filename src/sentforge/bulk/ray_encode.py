"""Embed a corpus on a Ray cluster with Ray Data and write parquet shards of ``id`` + ``embedding``."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import SentforgeError

from .ray_output import ROWS_PER_SHARD, BulkEncodeResult

ROWS_PER_CALL = 1024
"""Rows handed to an actor per call (the model then embeds them ``batch_size`` at a time)."""


def encode_on_ray(
    model: str,
    corpus: str,
    output: str,
    id_column: str | None = None,
    text_column: str | None = None,
    batch_size: int = 32,
    normalize: bool = False,
    precision: str = "float32",
    num_actors: int | None = None,
    gpus_per_actor: float = 0,
    address: str | None = None,
    rows_per_shard: int = ROWS_PER_SHARD,
    rows_per_call: int = ROWS_PER_CALL,
    progress: bool = False,
) -> BulkEncodeResult:
    """Embed ``corpus`` (a file or a folder of shards) with ``num_actors`` copies of ``model`` on Ray.

    Without ``num_actors``, one copy per CPU of the cluster (per ``gpus_per_actor`` share of its GPUs).

    Rows keep the corpus's order across the ``*.parquet`` shards in ``output`` sorted by name; the vectors
    equal ``model.encode(texts, normalize_embeddings=normalize, precision=precision)``.
    """
    from ..quantization import PRECISIONS

    from .ray_cluster import import_ray, ray_cluster
    from .ray_output import check_empty_output, written_shards
    from .ray_sources import locate

    if precision not in PRECISIONS:
        raise SentforgeError(f"Unknown --precision {precision!r}. Use one of: {', '.join(PRECISIONS)}.")
    if min(batch_size, rows_per_shard, rows_per_call) < 1 or (num_actors is not None and num_actors < 1):
        raise SentforgeError("--num-actors, --batch-size and the rows per shard and per call must be at least 1.")
    import_ray()
    source = locate(corpus)
    target = check_empty_output(output)
    with ray_cluster(address) as ray, _data_options(progress):
        resources = ray.cluster_resources()
        actors = actor_count(resources, num_actors, gpus_per_actor)
        _run(model, source, target, id_column, text_column, batch_size, normalize, precision,
             actors, cpus_per_actor(resources, actors), gpus_per_actor, rows_per_shard, rows_per_call)
    result = written_shards(target)
    if not result.rows:
        raise SentforgeError(f"The corpus '{corpus}' has no rows, so nothing was written. Check the file or folder.")
    return result


def _run(model: str, corpus: Any, target: str, id_column: str | None, text_column: str | None, batch_size: int,
         normalize: bool, precision: str, num_actors: int, actor_cpus: float, gpus_per_actor: float,
         rows_per_shard: int, rows_per_call: int) -> None:
    from ray.data import ActorPoolStrategy

    from .batch_embedder import BatchEmbedder, batch_ranges, quantize_batch
    from .ray_cluster import user_error_from_worker
    from .ray_output import ShardWriter
    from .ray_sources import open_corpus

    source = open_corpus(corpus, id_column, text_column)
    embedder_args = {"model": model, "id_column": source.id_column, "text_column": source.text_column,
                     "batch_size": batch_size, "normalize": normalize, "precision": precision}
    try:
        embedded = source.dataset.map_batches(
            BatchEmbedder, fn_constructor_kwargs=embedder_args, batch_size=max(rows_per_call, batch_size),
            batch_format="pyarrow", compute=ActorPoolStrategy(size=num_actors), num_cpus=actor_cpus,
            num_gpus=gpus_per_actor or None)
        if precision in ("int8", "uint8"):
            embedded = embedded.materialize()
            ranges = _corpus_ranges(embedded.map_batches(batch_ranges, batch_format="pyarrow").take_all())
            embedded = embedded.map_batches(quantize_batch, batch_format="pyarrow",
                                            fn_kwargs={"precision": precision, "ranges": ranges})
        # Blocks arrive in the corpus's order (preserve_order); the driver writes them as they come.
        writer = ShardWriter(target, rows_per_shard)
        for block in embedded.iter_batches(batch_size=None, batch_format="pyarrow"):
            writer.write(block)
        writer.close()
    except SentforgeError:
        raise
    except Exception as err:  # noqa: BLE001 - a worker's SentforgeError arrives wrapped in Ray's own error
        found = user_error_from_worker(err)
        if found is None:
            raise
        raise found from None


def actor_count(resources: dict[str, float], num_actors: int | None = None, gpus_per_actor: float = 0) -> int:
    """``num_actors``, else one model copy per CPU of the cluster (per ``gpus_per_actor`` share of its GPUs).

    Asking for more GPUs per copy than the cluster has is an error (the copies would wait forever).
    """
    gpus = resources.get("GPU", 0)
    if gpus_per_actor and gpus < gpus_per_actor:
        raise SentforgeError(f"--gpus-per-actor {gpus_per_actor:g} asks for more GPUs than the Ray cluster has "
                             f"({gpus:g}). Lower it, or leave it out to encode on CPUs.")
    if num_actors:
        return num_actors
    if gpus_per_actor:
        return max(1, int(gpus // gpus_per_actor))
    return max(1, int(resources.get("CPU", 1)))


def cpus_per_actor(resources: dict[str, float], num_actors: int) -> float:
    """The CPUs each model copy asks Ray for: at most one, and together they leave one CPU of the cluster free.

    Ray Data lists the corpus's files in a task that needs a whole CPU; were the copies to hold every CPU,
    that task would never start and the run would wait forever. CPUs here are Ray's bookkeeping, not a
    thread limit: each copy still encodes with its own threads.
    """
    spare = max(0.0, resources.get("CPU", 1) - 1)
    return min(1.0, spare / max(1, num_actors))


def _corpus_ranges(rows: list[dict[str, Any]]) -> Any:
    import numpy as np

    if not rows:
        raise SentforgeError("The corpus has no rows to take int8/uint8 ranges from. Check the file or folder.")
    low = np.min(np.stack([row["low"] for row in rows]), axis=0)
    high = np.max(np.stack([row["high"] for row in rows]), axis=0)
    return np.vstack((low, high))


class _data_options:
    """Ray Data settings for one run, then restored: rows in corpus order, progress bars only when asked,
    Ray Data's log lines from warnings up, and none of its "user code" error logs (a traceback): a failed
    run raises its error here anyway."""

    LOG_LEVELS = {"ray.data": logging.WARNING, "ray.data.exceptions": logging.CRITICAL,
                  "ray.data._internal.execution.streaming_executor_state": logging.CRITICAL}

    def __init__(self, progress: bool) -> None:
        self.progress = progress
        self.saved: tuple[Any, bool, bool, dict[str, int]] | None = None

    def __enter__(self) -> None:
        from ray.data import DataContext

        context = DataContext.get_current()
        levels = {name: logging.getLogger(name).level for name in self.LOG_LEVELS}
        self.saved = (context, context.execution_options.preserve_order, context.enable_progress_bars, levels)
        context.execution_options.preserve_order = True
        context.enable_progress_bars = self.progress
        for name, level in self.LOG_LEVELS.items():
            logging.getLogger(name).setLevel(max(level, logging.getLogger(name).getEffectiveLevel()))

    def __exit__(self, *_: Any) -> None:
        context, order, bars, levels = self.saved
        context.execution_options.preserve_order = order
        context.enable_progress_bars = bars
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
