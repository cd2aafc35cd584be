"""What the routes share: the embedding service, the settings, the metrics, the optional index and reranker."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .config import ServeConfig
from .metrics import ServingMetrics
from .reranking import RerankService
from .service import EmbeddingService


@dataclass
class ServerState:
    service: EmbeddingService
    config: ServeConfig
    metrics: ServingMetrics
    index: Any = None
    reranker: RerankService | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def model_name(self) -> str:
        return self.service.model_name
