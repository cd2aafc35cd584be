"""Score a saved model on a shared set's real test split (never used to choose anything during training).

    python examples/test_split_eval.py scifact output/all-MiniLM-L6-v2-train        # nDCG@10, 300 claims, 5,183 abstracts
    python examples/test_split_eval.py stsb output/all-MiniLM-L6-v2-sts-train       # Spearman (cosine) on sts-test
    python examples/test_split_eval.py mrpc output/all-MiniLM-L6-v2-msr-para-train  # accuracy / AP on msr-para-test
    python examples/test_split_eval.py scifact all-MiniLM-L6-v2 --truncate-dim 96    # the base model, cut to 96 dims

NLI has no test split: its runs report the held-out triplet accuracy that `sentforge train` prints.
Data comes from ../shared/data (or $SENTFORGE_SHARED_DATA).
"""

from __future__ import annotations

import argparse
import json
import time

from sentforge import SentenceTransformer
from sentforge.data.shared_sets import load_mrpc, load_scifact, load_stsb
from sentforge.evaluation import (
    BinaryClassificationEvaluator,
    EmbeddingSimilarityEvaluator,
    InformationRetrievalEvaluator,
)

PRIMARY = {"scifact": "scifact-test_cosine_ndcg@10", "stsb": "sts-test_spearman_cosine", "mrpc": "mrpc-test_cosine_ap"}


def evaluator_for(name: str, batch_size: int, truncate_dim: int | None):
    """The test-split evaluator of a shared set."""
    if name == "scifact":
        test = load_scifact("test")
        return InformationRetrievalEvaluator(test.queries, test.corpus, test.relevant_docs, name="scifact-test",
                                             batch_size=batch_size, truncate_dim=truncate_dim)
    if name == "stsb":
        test = load_stsb("test")
        return EmbeddingSimilarityEvaluator(test["sentence1"], test["sentence2"], test["score"], name="sts-test",
                                            batch_size=batch_size, truncate_dim=truncate_dim)
    test = load_mrpc("test")
    columns = test.column_names
    return BinaryClassificationEvaluator(test[columns[0]], test[columns[1]], [int(v) for v in test[columns[2]]],
                                         name="mrpc-test", batch_size=batch_size, truncate_dim=truncate_dim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", choices=sorted(PRIMARY))
    parser.add_argument("model", help="a model folder or id")
    parser.add_argument("--truncate-dim", type=int, default=None, help="cut the embeddings to this many dimensions")
    parser.add_argument("--batch-size", type=int, default=64)
    opts = parser.parse_args()
    started = time.perf_counter()
    model = SentenceTransformer(opts.model, device="cpu")
    metrics = evaluator_for(opts.set, opts.batch_size, opts.truncate_dim)(model)
    primary = PRIMARY[opts.set]
    dim = f" at {opts.truncate_dim} dims" if opts.truncate_dim else ""
    print(f"{opts.set} test {primary}{dim}: {metrics[primary]:.4f}  ({time.perf_counter() - started:.0f} s)")
    print(json.dumps({k: round(v, 4) for k, v in metrics.items()}))


if __name__ == "__main__":
    main()
