"""sentforge.util against sentence_transformers.util: the same results on the same random inputs."""

from __future__ import annotations

import functools
import logging
import os

import numpy as np
import pytest
import torch
from sentence_transformers import util as st_util

from sentforge import util
from sentforge.errors import SentforgeError


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and the CPUs here are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def assert_same(ours, theirs, atol: float = 1e-6) -> None:
    ours, theirs = torch.as_tensor(np.asarray(ours)), torch.as_tensor(np.asarray(theirs))
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours.double(), theirs.double(), atol=atol, rtol=0)


# ---------------------------------------------------------------- similarity

MATRIX = ["cos_sim", "dot_score", "euclidean_sim", "manhattan_sim", "pytorch_cos_sim"]
PAIRWISE = ["pairwise_cos_sim", "pairwise_dot_score", "pairwise_euclidean_sim", "pairwise_manhattan_sim",
            "pairwise_angle_sim"]


@pytest.mark.parametrize("name", MATRIX + PAIRWISE)
@pytest.mark.parametrize("kind", ["tensor", "numpy", "list", "odd_dim"])
def test_similarity_functions_match(name, kind):
    dim = 7 if kind == "odd_dim" else 8
    a, b = rand(5, dim, seed=1), rand(5 if name in PAIRWISE else 3, dim, seed=2)
    if kind == "numpy":
        a, b = a.numpy(), b.numpy()
    elif kind == "list":
        a, b = list(a), list(b)
    assert_same(getattr(util, name)(a, b), getattr(st_util, name)(a, b), atol=1e-5)


def test_single_vectors_are_a_batch_of_one():
    a, b = rand(8, seed=1), rand(3, 8, seed=2)
    for name in MATRIX:
        assert_same(getattr(util, name)(a, b), getattr(st_util, name)(a, b), atol=1e-5)


def multi_vectors(items: int, seed: int, dim: int = 6) -> list[torch.Tensor]:
    lengths = torch.randint(1, 7, (items,), generator=torch.Generator().manual_seed(seed)).tolist()
    return [rand(n, dim, seed=seed * 100 + i) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("name", ["maxsim", "mean_maxsim", "maxsim_pairwise", "mean_maxsim_pairwise"])
@pytest.mark.parametrize("kind", ["list", "padded", "masked", "single", "chunked"])
def test_maxsim_matches(name, kind):
    pairwise = "pairwise" in name
    a, b = multi_vectors(4, 1), multi_vectors(4 if pairwise else 5, 2)
    kwargs = {}
    if kind in ("padded", "masked"):
        a = torch.nn.utils.rnn.pad_sequence(a, batch_first=True)
        b = torch.nn.utils.rnn.pad_sequence(b, batch_first=True)
    if kind == "masked":  # hide a few real tokens as well as the padding
        kwargs = {
            "a_mask": a.any(-1) & (torch.arange(a.shape[1]) != 1),
            "b_mask": b.any(-1) & (torch.arange(b.shape[1]) != 0),
        }
    if kind == "single":
        a, b = a[0], (b[0] if pairwise else b)
    if kind == "chunked":
        kwargs = {"chunk_elements": 50}
    assert_same(getattr(util, name)(a, b, **kwargs), getattr(st_util, name)(a, b, **kwargs), atol=1e-5)


def test_maxsim_scores_an_empty_document_below_everything():
    a, b = rand(2, 3, 4, seed=1), rand(2, 3, 4, seed=2)
    b_mask = torch.tensor([[1, 1, 0], [0, 0, 0]])
    assert_same(util.maxsim(a, b, b_mask=b_mask), st_util.maxsim(a, b, b_mask=b_mask))
    assert util.maxsim(a[:0], b).shape == st_util.maxsim(a[:0], b).shape == (0, 2)


# ---------------------------------------------------------------- tensors


def test_tensor_helpers_match():
    x = rand(4, 10, seed=3)
    assert_same(util.normalize_embeddings(x), st_util.normalize_embeddings(x))
    assert_same(util.truncate_embeddings(x, 4), st_util.truncate_embeddings(x, 4))
    assert isinstance(util.truncate_embeddings(x.numpy(), 4), np.ndarray)
    assert_same(util.select_max_active_dims(x, 3), st_util.select_max_active_dims(x, 3))
    assert_same(util.select_max_active_dims(x.numpy(), 3), st_util.select_max_active_dims(x.numpy(), 3))
    sparse = util.select_max_active_dims(x, 3)
    assert_same(util.compute_count_vector(sparse), st_util.compute_count_vector(sparse))
    assert_same(util.compute_count_vector(sparse[0]), st_util.compute_count_vector(sparse[0]))
    assert_same(util.to_scipy_coo(sparse.to_sparse()).toarray(), st_util.to_scipy_coo(sparse.to_sparse()).toarray())
    batch = {"input_ids": torch.ones(2, 3, dtype=torch.long), "name": "text"}
    assert util.batch_to_device(dict(batch), "cpu").keys() == st_util.batch_to_device(dict(batch), "cpu").keys()


@pytest.mark.parametrize("name", ["stack_padded_token_embeddings", "cat_padded_token_embeddings"])
def test_padded_token_embeddings_match(name):
    embeddings = [rand(3, 2, 4, seed=1), rand(3, 5, 4, seed=2)]
    masks = [torch.ones(3, 2, dtype=torch.long), torch.ones(3, 5, dtype=torch.long)]
    for ours, theirs in zip(getattr(util, name)(embeddings, masks), getattr(st_util, name)(embeddings, masks)):
        assert_same(ours, theirs)


def test_repad_flattened_features_matches():
    def flat():
        return {"cu_seq_lens_q": torch.tensor([0, 2, 5]), "token_embeddings": rand(1, 5, 4),
                "input_ids": torch.arange(1, 6).unsqueeze(0), "position_ids": torch.arange(5).unsqueeze(0)}

    ours, theirs = util.repad_flattened_features(flat()), st_util.repad_flattened_features(flat())
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert_same(ours[key].float(), theirs[key].float())


# ---------------------------------------------------------------- search


@pytest.mark.parametrize("chunks", [{}, {"query_chunk_size": 3, "corpus_chunk_size": 7}])
@pytest.mark.parametrize("score_function", ["cos_sim", "dot_score"])
def test_semantic_search_matches(chunks, score_function):
    queries, corpus = rand(10, 16, seed=1), rand(30, 16, seed=2)
    kwargs = dict(top_k=5, **chunks)
    ours = util.semantic_search(queries, corpus, score_function=getattr(util, score_function), **kwargs)
    theirs = st_util.semantic_search(queries, corpus, score_function=getattr(st_util, score_function), **kwargs)
    assert [[h["corpus_id"] for h in row] for row in ours] == [[h["corpus_id"] for h in row] for row in theirs]
    assert_same([[h["score"] for h in row] for row in ours], [[h["score"] for h in row] for row in theirs])
    assert util.information_retrieval(queries, corpus, top_k=2) == util.semantic_search(queries, corpus, top_k=2)


@pytest.mark.parametrize("kwargs", [{}, {"top_k": 3, "max_pairs": 10, "query_chunk_size": 4, "corpus_chunk_size": 9}])
def test_paraphrase_mining_embeddings_matches(kwargs):
    embeddings = rand(25, 8, seed=4)
    ours = util.paraphrase_mining_embeddings(embeddings, **kwargs)
    theirs = st_util.paraphrase_mining_embeddings(embeddings, **kwargs)
    assert [p[1:] for p in ours] == [p[1:] for p in theirs]
    assert_same([p[0] for p in ours], [p[0] for p in theirs])


def test_paraphrase_mining_with_a_model_matches(tiny_bert_dir):
    import sentforge

    model = sentforge.SentenceTransformer(tiny_bert_dir, device="cpu")
    sentences = ["the cat sat on the mat", "a cat sat on a mat", "the dog ran in the park", "red car", "a red car"]
    ours = util.paraphrase_mining(model, sentences, top_k=2)
    theirs = st_util.paraphrase_mining(model, sentences, top_k=2)  # their function drives our model
    assert [p[1:] for p in ours] == [p[1:] for p in theirs]


def clustered(seed: int = 5) -> torch.Tensor:
    centers = rand(4, 16, seed=seed) * 3
    sizes = [12, 7, 15, 3]
    points = [centers[i] + 0.3 * rand(n, 16, seed=seed + i + 1) for i, n in enumerate(sizes)]
    order = torch.randperm(42, generator=torch.Generator().manual_seed(0))
    return torch.cat(points + [rand(5, 16, seed=seed + 9) * 3])[order]


@pytest.mark.parametrize("kwargs", [{}, {"threshold": 0.6, "min_community_size": 3, "batch_size": 5}])
def test_community_detection_matches(kwargs):
    embeddings = clustered()
    ours = util.community_detection(embeddings, **kwargs)
    assert ours == st_util.community_detection(embeddings, **kwargs)
    assert ours == util.community_detection(embeddings.numpy(), **kwargs)
    if kwargs:
        assert len(ours) >= 3
    assert util.community_detection(embeddings[:2], min_community_size=3) == []


@pytest.mark.parametrize("precision", ["float32", "int8", "uint8", "binary", "ubinary"])
@pytest.mark.parametrize("calibration", ["ranges", "calibration_embeddings", "own", "multi_vector"])
def test_quantize_embeddings_matches(precision, calibration):
    embeddings = rand(8, 16, seed=6).numpy()
    kwargs = {
        "ranges": {"ranges": np.vstack([embeddings.min(0), embeddings.max(0)]) * 0.8},
        "calibration_embeddings": {"calibration_embeddings": rand(20, 16, seed=7).numpy()},
    }.get(calibration, {})
    if calibration == "multi_vector":
        embeddings = [rand(3, 16, seed=8), rand(5, 16, seed=9)]
    ours = util.quantize_embeddings(embeddings, precision, **kwargs)
    theirs = st_util.quantize_embeddings(embeddings, precision, **kwargs)
    for a, b in zip(ours if isinstance(ours, list) else [ours], theirs if isinstance(theirs, list) else [theirs]):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)


# ---------------------------------------------------------------- misc


def test_names_and_imports_match():
    assert util.fullname(util.LoggingHandler()) == "sentforge.util.logging.LoggingHandler"
    assert util.fullname(3) == st_util.fullname(3) == "int"
    assert util.import_from_string("sentforge.losses.MSELoss") is __import__("sentforge").losses.MSELoss
    assert util.import_from_string("sentforge.models.Pooling").__name__ == "Pooling"
    with pytest.raises(ImportError):
        util.import_from_string("nodots")
    with pytest.raises(ImportError):
        util.import_from_string("sentforge.models.NoSuchModule")
    assert util.ORIGINAL_TRANSFORMER_MODELS == st_util.ORIGINAL_TRANSFORMER_MODELS
    for fct in (util.cos_sim, functools.partial(util.cos_sim), util.pairwise_dot_score):
        assert util.similarity_fct_name(fct) == st_util.similarity_fct_name(fct)

    def scaled(a, b, scale=2.0):
        return a @ b.T * scale

    assert util.similarity_fct_name(functools.partial(scaled, scale=3.0)) == "scaled(scale=3.0)"


def test_check_teacher_targets_matches(caplog):
    scores = torch.tensor([[1.0, float("nan")]])
    with pytest.raises(ValueError, match="NaN"):
        util.check_teacher_targets(scores.softmax(-1), scores, 1.0, "Loss")
    wide = torch.tensor([[0.0, 500.0]], dtype=torch.float32)
    with caplog.at_level(logging.WARNING):
        util.check_teacher_targets(wide.softmax(-1), wide, 1.0, "Loss")
        st_util.check_teacher_targets(wide.softmax(-1), wide, 1.0, "Loss")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and messages[0] == messages[1]


def test_environment_matches():
    assert util.get_device_name() == st_util.get_device_name()
    assert util.is_dist_initialized() is st_util.is_dist_initialized() is False
    assert util.get_rank() == 0 and util.get_world_size() == 1
    for name in ("is_accelerate_available", "is_datasets_available", "is_training_available"):
        assert getattr(util, name)() == getattr(st_util, name)()
    x = rand(2, 3)
    assert util.all_gather(x) is x and util.all_gather_with_grad(x) is x
    assert util.all_gather_padded(x, x)[0] is x
    util.check_version_requirements({"torch": ">=1.0"})
    requirement = {"torch": {"specifier": ">=999", "reason": "Needs the future."}, "python": "<3"}
    with pytest.raises(ImportError) as ours:
        util.check_version_requirements(requirement, "my/model")
    with pytest.raises(ImportError) as theirs:
        st_util.check_version_requirements(requirement, "my/model")
    assert str(ours.value) == str(theirs.value)


def test_context_managers_and_csv(tmp_path):
    with util.disable_logging():
        assert logging.root.manager.disable == logging.CRITICAL
    assert logging.root.manager.disable == 0
    path = tmp_path / "results.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert util.append_to_last_row(str(path), [3]) is True
    assert path.read_text(encoding="utf-8").splitlines() == ["a,b", "1,2,3"]
    (tmp_path / "header.csv").write_text("a,b\n", encoding="utf-8")
    assert util.append_to_last_row(str(tmp_path / "header.csv"), [3]) is False


def test_logging_handler_writes_through_tqdm(capsys):
    logger = logging.getLogger("sentforge.test.handler")
    logger.addHandler(util.LoggingHandler())
    logger.setLevel(logging.INFO)
    try:
        logger.info("hello from the handler")
    finally:
        logger.handlers.clear()
    assert "hello from the handler" in capsys.readouterr().out


def test_model_files_match(tiny_bert_dir, tmp_path):
    for args in [(tiny_bert_dir, "config.json"), (tiny_bert_dir, "missing.json")]:
        assert util.load_file_path(*args) == st_util.load_file_path(*args)
    assert util.load_dir_path(os.path.dirname(tiny_bert_dir), os.path.basename(tiny_bert_dir)) == tiny_bert_dir
    assert util.load_dir_path(tiny_bert_dir, "nope") is None
    assert util.is_sentence_transformer_model(tiny_bert_dir) is st_util.is_sentence_transformer_model(tiny_bert_dir)
    with pytest.raises(ValueError, match="relative path"):
        util.load_file_path(tiny_bert_dir, "../config.json")


def test_http_get_fails_with_a_clear_error_offline(tmp_path):
    target = tmp_path / "file.bin"
    with pytest.raises(SentforgeError, match="Could not download"):
        util.http_get("http://127.0.0.1:9/file.bin", str(target))
    assert not target.exists() and not (tmp_path / "file.bin_part").exists()


@pytest.mark.parametrize("options", [{}, {"output_format": "lists"}, {"max_list_length": 2}])
def test_resolve_ids_matches(options):
    from datasets import Dataset

    queries = Dataset.from_dict({"query_id": [10, 11, 12], "text": ["q0", "q1", "q2"]})
    documents = Dataset.from_dict({"doc_id": ["a", "b", "c", "a"], "text": ["A", "B", "C", "A2"]})
    train = Dataset.from_dict({
        "query_id": [12, 10],
        "positive_id": ["b", "a"],
        "document_ids": [["a", "b", "c"], ["c", "b", "a"]],
        "scores": [[0.9, 0.5, 0.1], [0.3, 0.2, 0.1]],
        "dropped": [1, 2],
    })
    lookups = {"query_id": queries, "positive_id": (documents, "doc_id"), "document_ids": (documents, "doc_id", "text")}
    batch = train[:]
    ours = util.resolve_ids(lookups, **options)(dict(batch))
    theirs = st_util.resolve_ids(lookups, **options)(dict(batch))
    assert ours == theirs
    assert ours["positive"] == ["B", "A2"]  # a duplicated ID resolves to its last row
    with pytest.raises(KeyError, match="not found"):
        util.resolve_ids({"query_id": queries})({"query_id": [99]})
    with pytest.raises(ValueError, match="infer the ID column"):
        util.resolve_ids({"positive_id": Dataset.from_dict({"x": [1], "y": [2]})})
