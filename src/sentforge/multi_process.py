"""Multi-process encoding: a pool of worker processes (one per device), each with a copy of the model.

Same shape as sentence-transformers: ``pool = model.start_multi_process_pool()`` (every CUDA device, else
4 CPU workers), ``model.encode(texts, pool=pool, chunk_size=...)``, ``model.stop_multi_process_pool(pool)``.
Workers are started with ``spawn``; texts go out in chunks and the embeddings come back in input order.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import types
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
import torch
import torch.multiprocessing as mp

from .encoding import _Outputs, check_sentences
from .encoding import encode as encode_here
from .errors import SentforgeError

if TYPE_CHECKING:
    from .model import SentenceTransformer

logger = logging.getLogger(__name__)
DEFAULT_CPU_WORKERS = 4
Pool = dict  # {"input": Queue, "output": Queue, "processes": [Process, ...]}


def default_devices() -> list[str]:
    """Every CUDA device, else ``DEFAULT_CPU_WORKERS`` times "cpu" (sentence-transformers' choice)."""
    if torch.cuda.is_available():
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu"] * DEFAULT_CPU_WORKERS


def start_multi_process_pool(model: "SentenceTransformer", target_devices: list[str] | None = None) -> Pool:
    """Start one worker process per entry of ``target_devices``; the model moves to the CPU (shared memory)."""
    devices = list(target_devices) if target_devices is not None else default_devices()
    if not devices:
        raise ValueError("target_devices is empty: name at least one device, e.g. ['cpu', 'cpu'].")
    cpu_workers = sum(str(d).startswith("cpu") for d in devices)
    threads = max(1, (os.cpu_count() or 1) // cpu_workers) if cpu_workers else 0
    logger.info("Starting a multi-process pool on: %s", ", ".join(map(str, devices)))
    model.to("cpu")
    model.share_memory()
    context = mp.get_context("spawn")
    pool: Pool = {"input": context.Queue(), "output": context.Queue(), "processes": []}
    try:
        with _without_process_local_state(model):  # pickled for each worker as it starts
            for device in devices:
                worker_threads = threads if str(device).startswith("cpu") else 0
                process = context.Process(
                    target=_worker, args=(str(device), model, worker_threads, pool["input"], pool["output"]),
                    daemon=True,
                )
                process.start()
                pool["processes"].append(process)
    except BaseException:
        stop_multi_process_pool(pool)
        raise
    return pool


def stop_multi_process_pool(pool: Pool) -> None:
    """Terminate the pool's workers and close its queues."""
    for process in pool["processes"]:
        process.terminate()
    for process in pool["processes"]:
        process.join()
        process.close()
    pool["input"].cancel_join_thread()
    pool["input"].close()
    pool["output"].close()


def encode_with_pool(
    model: "SentenceTransformer",
    sentences: str | list[str],
    pool: Pool | None = None,
    device: list[str] | None = None,
    chunk_size: int | None = None,
    show_progress_bar: bool | None = None,
    precision: str = "float32",
    convert_to_numpy: bool = True,
    convert_to_tensor: bool = False,
    output_value: str | None = "sentence_embedding",
    **kwargs: Any,
):
    """``encode`` spread over a pool (or a temporary pool on the list of devices ``device``); same result
    types as ``encode``. ``chunk_size`` texts go to a worker at a time (default: about a tenth of each
    worker's share, at most 5000)."""
    texts, single = check_sentences(sentences)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    options = dict(kwargs, output_value=output_value)
    if not texts:
        return encode_here(model, texts, precision=precision, convert_to_numpy=convert_to_numpy,
                           convert_to_tensor=convert_to_tensor, **options)
    model._resolve_prompt(kwargs.get("prompt_name"), kwargs.get("prompt"))  # a bad prompt name fails here
    own_pool = pool is None
    if own_pool:
        pool = start_multi_process_pool(model, device)
    try:
        results = _run_chunks(pool, texts, chunk_size, options, show_progress_bar)
    finally:
        if own_pool:
            stop_multi_process_pool(pool)
    collected = _Outputs(len(texts), output_value, None, False)
    if collected.items is None:
        collected.matrix = np.concatenate(results).astype(np.float32, copy=False)
    else:
        collected.items = [item for chunk in results for item in chunk]
    if convert_to_tensor:
        convert_to_numpy = False
    return collected.result(single, precision, convert_to_numpy, convert_to_tensor)


def _run_chunks(pool: Pool, texts: list[str], chunk_size: int | None, options: dict[str, Any],
                show_progress_bar: bool | None) -> list[Any]:
    """Send the texts in chunks and return the workers' outputs in chunk order."""
    if chunk_size is None:
        chunk_size = max(1, min(math.ceil(len(texts) / len(pool["processes"]) / 10), 5000))
    options = dict(options, show_progress_bar=False, convert_to_numpy=True, precision="float32")
    starts = range(0, len(texts), chunk_size)
    for chunk_id, start in enumerate(starts):
        pool["input"].put([chunk_id, texts[start : start + chunk_size], options])
    outputs: list[Any] = [None] * len(starts)
    bar = _progress(len(starts), show_progress_bar)
    for _ in range(len(starts)):
        chunk_id, output = _next_result(pool)
        outputs[chunk_id] = output
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    for output in outputs:
        if isinstance(output, BaseException):
            raise output
    return outputs


def _next_result(pool: Pool, poll_seconds: float = 1.0) -> list[Any]:
    """The next [chunk_id, output]; a dead worker is an error instead of an endless wait."""
    while True:
        try:
            return pool["output"].get(timeout=poll_seconds)
        except queue.Empty:
            pass
        dead = [p for p in pool["processes"] if not p.is_alive()]
        if dead:
            details = ", ".join(f"pid {p.pid} (exit code {p.exitcode})" for p in dead)
            raise SentforgeError(
                f"{len(dead)} multi-process pool worker(s) died: {details}. Stop the pool with "
                "stop_multi_process_pool(pool) and start a new one."
            )


def _worker(device: str, model: "SentenceTransformer", threads: int, inputs: Any, outputs: Any) -> None:
    """A worker's loop: encode each chunk on ``device`` and send back [chunk_id, result or exception]."""
    if threads:
        torch.set_num_threads(threads)
    model.to(device)
    while True:
        chunk_id, texts, options = inputs.get()
        try:
            result = encode_here(model, texts, device=device, **options)
            if isinstance(result, list):
                result = [r.cpu() if isinstance(r, torch.Tensor) else r for r in result]
        except Exception as err:  # noqa: BLE001 - reported to the caller, who raises it
            logger.exception("Encoding chunk %d failed on %s", chunk_id, device)
            result = err if _picklable(err) else SentforgeError(f"{type(err).__name__}: {err}")
        outputs.put([chunk_id, result])


def _picklable(value: Any) -> bool:
    import pickle

    try:
        pickle.loads(pickle.dumps(value))
    except Exception:  # noqa: BLE001
        return False
    return True


@contextlib.contextmanager
def _without_process_local_state(model: Any) -> Iterator[None]:
    """Leave out of the workers' copy what only this process needs and cannot be pickled: functions set on
    the instance (e.g. a card writer, a save refusal) and the training-run record."""
    removed = {
        name: value for name, value in vars(model).items()
        if isinstance(value, (types.FunctionType, types.MethodType)) or name == "training_run"
    }
    for name in removed:
        vars(model).pop(name)
    try:
        yield
    finally:
        vars(model).update(removed)


def _progress(total: int, show: bool | None):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Chunks", unit="chunk")


class MultiProcessMixin:
    """Adds the pool methods of sentence-transformers to SentenceTransformer."""

    def start_multi_process_pool(self, target_devices: list[str] | None = None) -> Pool:
        """Start worker processes for ``encode(..., pool=pool)``: one per device in ``target_devices`` (e.g.
        ``["cuda:0", "cuda:1"]`` or ``["cpu"] * 4``); by default every CUDA device, else 4 CPU workers. The
        model is moved to the CPU. Stop the pool with ``stop_multi_process_pool(pool)``."""
        return start_multi_process_pool(self, target_devices)

    @staticmethod
    def stop_multi_process_pool(pool: Pool) -> None:
        """Stop the workers of a pool from ``start_multi_process_pool``."""
        stop_multi_process_pool(pool)

    def encode_multi_process(
        self,
        sentences: list[str],
        pool: Pool,
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        chunk_size: int | None = None,
        show_progress_bar: bool | None = None,
        precision: str = "float32",
        normalize_embeddings: bool = False,
        truncate_dim: int | None = None,
    ) -> np.ndarray:
        """Older name of ``encode(sentences, pool=pool, ...)``: a numpy array of sentence embeddings."""
        return self.encode(
            sentences, prompt_name=prompt_name, prompt=prompt, batch_size=batch_size,
            show_progress_bar=show_progress_bar, output_value="sentence_embedding", precision=precision,
            convert_to_numpy=True, convert_to_tensor=False, normalize_embeddings=normalize_embeddings,
            truncate_dim=truncate_dim, pool=pool, chunk_size=chunk_size,
        )
