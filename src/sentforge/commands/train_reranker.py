"""`sentforge train-reranker`: train a cross-encoder to rerank a retriever's results."""

from typing import Optional

import typer

from .console import user_errors


@user_errors
def train_reranker(
    data: str = typer.Argument(..., help="(query, positive passage) pairs: a file, a hub id, or scifact:train."),
    retriever: str = typer.Option(..., "--retriever", help="Bi-encoder that retrieves candidates, mines negatives."),
    base: Optional[str] = typer.Option(
        None, "--base", help="Model the cross-encoder starts from (default: the retriever)."
    ),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Output folder (default: output/reranker-<base>-<data>)."
    ),
    epochs: Optional[float] = typer.Option(
        None, "--epochs", help="Training epochs (default: enough for about 500 steps, 1 to 4)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Training batch size."),
    negatives: int = typer.Option(5, "--negatives", help="Hard negatives mined per query."),
    sampling: str = typer.Option(
        "random", "--sampling",
        help="random: negatives drawn from the retriever's top --top-k (what the reranker reorders); top: the hardest.",
    ),
    skip_above: float = typer.Option(
        0.95, "--skip-above", help="Skip mined candidates scoring above this share of the positive's score."
    ),
    top_k: int = typer.Option(100, "--top-k", help="Retrieved passages reranked per held-out query."),
    loss: str = typer.Option("BinaryCrossEntropyLoss", "--loss", help="Cross-encoder loss class name."),
    lr: float = typer.Option(5e-5, "--lr", help="Learning rate of the encoder."),
    head_lr: Optional[float] = typer.Option(
        None, "--head-lr", help="Learning rate of a new classification head (default: 20 x --lr)."
    ),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Truncate each pair to N tokens."),
    corpus: Optional[str] = typer.Option(
        None, "--corpus",
        help="Extra passages to retrieve from: .txt (one per line), a table with 'text', or scifact:corpus.",
    ),
    seed: int = typer.Option(42, "--seed", help="Seed of the hold-out split, the new head and the shuffling."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after N steps (overrides --epochs)."),
    device: Optional[str] = typer.Option(
        None, "--device", help="cpu, cuda, cuda:1, mps... (default: cuda when there is one, else cpu)."
    ),
    bf16: bool = typer.Option(
        False, "--bf16", help="Train in bfloat16 mixed precision (meant for GPUs; on a CPU float32 is faster).",
    ),
) -> None:
    """Mine hard negatives, train a reranker, compare reranking with the retriever on held-out queries."""
    from .console import metrics_table, console, quiet_libraries, say
    from ..cross_encoder.reranker_training import METRICS_FILE, RerankerOptions, train_reranker as run

    quiet_libraries()
    options = RerankerOptions(
        data=data, retriever=retriever, base=base, output=output, epochs=epochs, batch_size=batch_size,
        negatives=negatives, sampling=sampling, skip_above=skip_above, top_k=top_k, loss=loss, lr=lr, head_lr=head_lr, max_length=max_length,
        corpus=corpus, seed=seed, max_steps=max_steps, device=device, bf16=bf16,
    )
    from .progress import RichProgress

    progress = RichProgress(console)
    try:
        result = run(options, say=say, progress=progress)
    finally:
        progress.stop()
    console.print(metrics_table(
        f"Held-out reranking of the retriever's top {top_k} ({result['heldout_queries']} queries)",
        {"retriever": result["retriever"], "reranked": result["reranked"],
         "fused": {k: v for k, v in result["fused"].items() if k != "reranker_weight"}}, primary="ndcg@10",
    ))
    weight = result["fused"]["reranker_weight"]
    say(f"Fused = {weight:g} x reranker + {1 - weight:g} x cosine (standard scores per query), the weight with the "
        "best held-out nDCG@10; `sentforge search --rerank` and `serve --reranker` use it."
        + (" The reranker did not improve on the retriever's order here: search keeps the retriever's order."
           if weight == 0 else ""))
    say(f"Saved the reranker, its card and {METRICS_FILE} to {result['output']}", style="green")
