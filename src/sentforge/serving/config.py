"""Settings of the embedding server (the `sentforge serve` options), with their defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SentforgeError


@dataclass(frozen=True)
class ServeConfig:
    """What the server accepts and how it batches.

    ``max_batch_tokens``: tokens packed into one model call (requests wait at most ``max_wait_ms``
    for others to join); ``max_inputs``: texts per request; ``truncate``: cut over-long texts to the
    model's ``max_seq_length`` (else refuse them with 413); ``api_key``: required as
    ``Authorization: Bearer KEY`` when set; ``max_body_bytes``: largest request body;
    ``max_k``: most hits one search may ask for; ``batch_size``: texts per forward pass inside a batch;
    ``precision``: the torch weights (float32, int8, bfloat16); ``backend``: ``torch`` or ``onnx``
    (onnxruntime runs the encoder; ``onnx_file`` picks a graph in the model's ``onnx/`` folder, e.g. an
    int8 one written by ``export_dynamic_quantized_onnx_model``).
    """

    max_batch_tokens: int = 16384
    max_wait_ms: float = 2.0
    max_inputs: int = 2048
    truncate: bool = True
    api_key: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    max_k: int = 1000
    batch_size: int = 32
    precision: str = "float32"
    backend: str = "torch"
    onnx_file: str | None = None

    @property
    def weights_precision(self) -> str:
        """What the served weights are: ``precision`` for torch; for ONNX what the graph's name says
        (``model_qint8_*.onnx``, written by ``export_dynamic_quantized_onnx_model``, is int8)."""
        if self.backend != "onnx":
            return self.precision
        return "int8" if (self.onnx_file or "").startswith("model_qint8") else "float32"

    def __post_init__(self) -> None:
        for name in ("max_batch_tokens", "max_inputs", "max_body_bytes", "max_k", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SentforgeError(f"{name} must be a positive integer, got {value!r}.")
        if self.precision not in ("float32", "int8", "bfloat16"):
            raise SentforgeError(f"precision must be float32, int8 or bfloat16, got {self.precision!r}.")
        if self.backend not in ("torch", "onnx"):
            raise SentforgeError(f"backend must be torch or onnx, got {self.backend!r}.")
        if self.backend == "onnx" and self.precision != "float32":
            raise SentforgeError(
                f"--precision {self.precision} sets the torch weights; with --backend onnx the ONNX graph decides. "
                "For int8 on ONNX, write one with sentforge.backends.export_dynamic_quantized_onnx_model and pass "
                "--onnx-file model_qint8_avx512_vnni.onnx (its name in the model's onnx/ folder).")
        if self.onnx_file is not None and self.backend != "onnx":
            raise SentforgeError("--onnx-file picks an ONNX graph: add --backend onnx.")
        if not self.max_wait_ms >= 0:
            raise SentforgeError(f"max_wait_ms must be 0 or more, got {self.max_wait_ms!r}.")
        if self.api_key is not None and not self.api_key.strip():
            raise SentforgeError("The API key is empty. Pass a non-empty --api-key, "
                                 "or leave it out to serve without one.")
