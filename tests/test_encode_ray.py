"""`sentforge encode --ray`: Ray Data bulk encoding equals a local encode, row for row; one clear error per bad input.

One local Ray cluster (2 CPUs) serves the whole module; the tiny random BERT keeps each run to seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_cli import restore_library_state  # noqa: F401  (autouse fixture)
from test_cli import assert_user_error, invoke
from tiny_models import WORDS

from sentforge import SentenceTransformer

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from sentforge.bulk import encode_on_ray  # noqa: E402
from sentforge.bulk.ray_encode import actor_count, cpus_per_actor  # noqa: E402
from sentforge.bulk.ray_output import ShardWriter  # noqa: E402
from sentforge.errors import SentforgeError  # noqa: E402

SENTENCES = 500
"""STS-B test sentences for the MiniLM check (all ~2,700 pass too; 500 keep it to seconds on 2 cores)."""


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    context = ray.data.DataContext.get_current()
    if hasattr(context, "execution_no_progress_timeout_s"):  # a stalled run fails in minutes, not half an hour
        context.execution_no_progress_timeout_s = 300
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus() -> pa.Table:
    """120 texts of 1-24 words, with ids that are not in sorted order (so order can only be kept, not rebuilt)."""
    rng = np.random.default_rng(7)
    texts = [" ".join(rng.choice(WORDS, int(rng.integers(1, 25)))) for _ in range(120)]
    ids = [int(value) for value in rng.permutation(1000)[:120]]
    return pa.table({"doc": ids, "body": texts})


@pytest.fixture(scope="module")
def tiny(tiny_bert_dir) -> SentenceTransformer:
    return SentenceTransformer(tiny_bert_dir, device="cpu")


def read_shards(folder: Path) -> tuple[list, np.ndarray]:
    """Ids and embeddings of the parquet shards in a folder, in shard-name order."""
    shards = sorted(Path(folder).glob("*.parquet"))
    assert shards, f"no parquet shards in {folder}"
    table = pa.concat_tables([pq.read_table(shard) for shard in shards])
    assert table.column_names == ["id", "embedding"]
    return table.column("id").to_pylist(), np.array(table.column("embedding").to_pylist())


def test_float32_shards_equal_local_encode_in_corpus_order(ray_local, tiny_bert_dir, tiny, corpus, tmp_path) -> None:
    source = tmp_path / "corpus.parquet"
    pq.write_table(corpus, source)
    result = encode_on_ray(tiny_bert_dir, str(source), str(tmp_path / "out"), id_column="doc", text_column="body",
                           batch_size=8, num_actors=2, rows_per_call=16, rows_per_shard=40)

    ids, vectors = read_shards(tmp_path / "out")
    assert ids == corpus.column("doc").to_pylist()
    expected = tiny.encode(corpus.column("body").to_pylist(), batch_size=8, convert_to_numpy=True)
    assert vectors.shape == expected.shape
    np.testing.assert_allclose(vectors, expected, rtol=0, atol=1e-6)
    assert pq.read_schema(result.shards[0]).field("embedding").type == pa.list_(pa.float32())
    assert [Path(shard).name for shard in result.shards] == ["part-00000.parquet", "part-00001.parquet",
                                                             "part-00002.parquet"]
    assert result.rows == 120
    assert (result.dimension, result.dtype) == (expected.shape[1], "float32")


def test_int8_uses_the_whole_corpus_ranges(ray_local, tiny_bert_dir, tiny, corpus, tmp_path) -> None:
    source = tmp_path / "corpus.jsonl"
    source.write_text(corpus.to_pandas().to_json(orient="records", lines=True))
    encode_on_ray(tiny_bert_dir, str(source), str(tmp_path / "out"), id_column="doc", text_column="body",
                  precision="int8", num_actors=2, rows_per_call=16)

    ids, vectors = read_shards(tmp_path / "out")
    assert ids == corpus.column("doc").to_pylist()
    expected = tiny.encode(corpus.column("body").to_pylist(), precision="int8", convert_to_numpy=True)
    assert vectors.shape == expected.shape
    steps = np.abs(vectors.astype(np.int16) - expected.astype(np.int16))
    assert steps.max() <= 1 and (steps == 0).mean() > 0.99  # a float ulp may tip a value over a rounding edge


def test_cli_normalized_csv_folder(ray_local, tiny_bert_dir, tiny, corpus, tmp_path) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    frame = corpus.rename_columns(["id", "text"]).to_pandas()
    frame.iloc[:70].to_csv(shards / "a.csv", index=False)
    frame.iloc[70:].to_csv(shards / "b.csv", index=False)
    result = invoke("encode", tiny_bert_dir, shards, "--ray", "--out", tmp_path / "out", "--normalize",
                    "--num-actors", "2", "--batch-size", "16")
    assert result.exit_code == 0, result.output
    assert "Encoded 120 texts on Ray" in result.output

    ids, vectors = read_shards(tmp_path / "out")
    assert ids == frame["id"].tolist()
    expected = tiny.encode(frame["text"].tolist(), normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(vectors, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_errors_found_before_encoding(ray_local, tiny_bert_dir, corpus, tmp_path) -> None:
    source = tmp_path / "corpus.parquet"
    pq.write_table(corpus, source)
    assert_user_error(invoke("encode", tiny_bert_dir, tmp_path / "none.parquet", "--ray"), "not found")
    assert_user_error(invoke("encode", tiny_bert_dir, source, "--ray", "--out", tmp_path / "o1"), "No id column",
                      "--id-column")
    assert_user_error(invoke("encode", tiny_bert_dir, source, "--ray", "--id-column", "doc", "--out", tmp_path / "o2"),
                      "no column 'text'", "doc, body")
    assert_user_error(invoke("encode", tiny_bert_dir, source, "--ray", "--id-column", "doc", "--text-column", "doc",
                             "--out", tmp_path / "o3"), "Column 'doc' holds int64, not text")
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.parquet").write_bytes(b"")
    assert_user_error(invoke("encode", tiny_bert_dir, source, "--ray", "--out", full), "not empty")
    assert_user_error(invoke("encode", tiny_bert_dir, source, "--id-column", "doc"), "--id-column",
                      "only apply with --ray")
    assert_user_error(invoke("encode", tiny_bert_dir, source, "--ray", "--id-column", "doc", "--text-column", "body",
                             "--gpus-per-actor", "1", "--out", tmp_path / "o4"), "more GPUs than the Ray cluster has")


def test_actors_leave_one_cpu_for_ray_datas_own_tasks() -> None:
    """Ray Data lists files in a task that needs a whole CPU: copies holding every CPU would stall the run."""
    for cpus, actors in ((2, 2), (1, 1), (4, 4), (16, 4), (3, 8)):
        each = cpus_per_actor({"CPU": float(cpus)}, actors)
        assert 0 <= each <= 1
        assert cpus - each * actors >= 1 - 1e-9
    assert cpus_per_actor({"CPU": 16.0}, 4) == 1.0
    assert cpus_per_actor({"CPU": 2.0}, 2) == 0.5


def test_shard_writer_keeps_the_order_written_across_files(tmp_path) -> None:
    writer = ShardWriter(str(tmp_path / "out"), rows_per_shard=7)
    for start, stop in ((0, 3), (3, 3), (3, 20), (20, 21), (21, 30)):
        writer.write(pa.table({"id": list(range(start, stop))}))
    writer.close()
    shards = sorted((tmp_path / "out").glob("*.parquet"))
    assert [shard.name for shard in shards] == [f"part-{n:05d}.parquet" for n in range(5)]
    assert [pq.read_metadata(shard).num_rows for shard in shards] == [7, 7, 7, 7, 2]
    assert pa.concat_tables([pq.read_table(s) for s in shards]).column("id").to_pylist() == list(range(30))


def test_actor_count_follows_the_cluster() -> None:
    assert actor_count({"CPU": 6.0}) == 6
    assert actor_count({"CPU": 6.0}, num_actors=2) == 2
    assert actor_count({"CPU": 16.0, "GPU": 2.0}, gpus_per_actor=0.5) == 4
    assert actor_count({"CPU": 16.0, "GPU": 3.0}, gpus_per_actor=2) == 1
    with pytest.raises(SentforgeError, match="more GPUs"):
        actor_count({"CPU": 16.0}, num_actors=2, gpus_per_actor=1)


def test_empty_text_cell_reported_from_the_actor(ray_local, tiny_bert_dir, tmp_path) -> None:
    source = tmp_path / "gaps.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": ["the cat", None, "a dog"]}), source)
    result = invoke("encode", tiny_bert_dir, source, "--ray", "--num-actors", "1", "--out", tmp_path / "out")
    assert_user_error(result, "Column 'text' has 1 empty cell(s) (ids 'b')")


def test_import_sentforge_leaves_ray_unloaded() -> None:
    code = "import sys, sentforge, sentforge.cli, sentforge.bulk; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_missing_ray_says_how_to_install(tiny_bert_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    source = tmp_path / "corpus.csv"
    source.write_text("id,text\n1,the cat\n")
    assert_user_error(invoke("encode", tiny_bert_dir, source, "--ray"), 'pip install "sentforge[ray]"')


@pytest.mark.integration
def test_minilm_on_stsb_sentences_equals_local_encode(ray_local, minilm_path, shared_data, tmp_path) -> None:
    from sentforge.data.shared_sets import load_stsb

    pairs = load_stsb("test", root=shared_data)
    sentences = list(dict.fromkeys(list(pairs["sentence1"]) + list(pairs["sentence2"])))[:SENTENCES]
    source = tmp_path / "stsb.parquet"
    pq.write_table(pa.table({"id": [f"stsb-{i}" for i in range(len(sentences))], "text": sentences}), source)
    result = invoke("encode", minilm_path, source, "--ray", "--num-actors", "2", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output

    ids, vectors = read_shards(tmp_path / "out")
    assert ids == [f"stsb-{i}" for i in range(len(sentences))]
    expected = SentenceTransformer(minilm_path, device="cpu").encode(sentences, convert_to_numpy=True)
    assert vectors.shape == (len(sentences), 384)
    np.testing.assert_allclose(vectors, expected, rtol=0, atol=1e-6)
