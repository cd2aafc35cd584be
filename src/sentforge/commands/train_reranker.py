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
    epochs: float = typer.Option(1.0, "--epochs", help="Training epochs."),
    batch_size: int = typer.Option(32, "--batch-size", help="Training batch size."),
    negatives: int = typer.Option(5, "--negatives", help="Hard negatives mined per query."),
    skip_above: float = typer.Option(
        0.95, "--skip-above", help="Skip mined candidates scoring above this share of the positive's score."
    ),
    top_k: int = typer.Option(100, "--top-k", help="Retrieved passages reranked per held-out query."),
    loss: str = typer.Option("BinaryCrossEntropyLoss", "--loss", help="Cross-encoder loss class name."),
    lr: float = typer.Option(2e-5, "--lr", help="Learning rate."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Truncate each pair to N tokens."),
    corpus: Optional[str] = typer.Option(
        None, "--corpus",
        help="Extra passages to retrieve from: .txt (one per line), a table with 'text', or scifact:corpus.",
    ),
    seed: int = typer.Option(42, "--seed", help="Seed of the hold-out split, the new head and the shuffling."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after N steps (overrides --epochs)."),
) -> None:
    """Mine hard negatives, train a reranker, compare reranking with the retriever on held-out queries."""
    from .console import metrics_table, console, quiet_libraries, say
    from ..cross_encoder.reranker_training import METRICS_FILE, RerankerOptions, train_reranker as run

    quiet_libraries()
    options = RerankerOptions(
        data=data, retriever=retriever, base=base, output=output, epochs=epochs, batch_size=batch_size,
        negatives=negatives, skip_above=skip_above, top_k=top_k, loss=loss, lr=lr, max_length=max_length,
        corpus=corpus, seed=seed, max_steps=max_steps,
    )
    result = run(options, say=say)
    console.print(metrics_table(
        f"Held-out reranking of the retriever's top {top_k} ({result['heldout_queries']} queries)",
        {"retriever": result["retriever"], "reranked": result["reranked"]}, primary="ndcg@10",
    ))
    say(f"Saved the reranker, its card and {METRICS_FILE} to {result['output']}", style="green")
