"""Every bad request is a 4xx in OpenAI's error shape with a clear message, and the server keeps serving."""

from __future__ import annotations

import json
import socket
import time

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from sentforge import SentenceTransformer  # noqa: E402
from sentforge.index import VectorIndex  # noqa: E402
from sentforge.serving import BackgroundServer, ServeConfig, app_for_model  # noqa: E402

KEY = "secret"
AUTH = {"Authorization": f"Bearer {KEY}"}
LONG = " ".join(["river"] * 200)

# (name, method, path, request kwargs, expected status, words the message must contain)
BAD_REQUESTS = [
    ("invalid JSON", "POST", "/v1/embeddings", {"content": b'{"input": "x",'}, 400, "not valid JSON"),
    ("empty body", "POST", "/v1/embeddings", {"content": b""}, 400, "body is empty"),
    ("body not an object", "POST", "/v1/embeddings", {"json": ["a", "b"]}, 400, "must be a JSON object"),
    ("missing input", "POST", "/v1/embeddings", {"json": {"model": "m"}}, 400, "'input' is required"),
    ("input null", "POST", "/v1/embeddings", {"json": {"input": None}}, 400, "'input' is required"),
    ("input number", "POST", "/v1/embeddings", {"json": {"input": 42}}, 400, "got a number"),
    ("input object", "POST", "/v1/embeddings", {"json": {"input": {"text": "x"}}}, 400, "got an object"),
    ("empty list", "POST", "/v1/embeddings", {"json": {"input": []}}, 400, "empty list"),
    ("empty string", "POST", "/v1/embeddings", {"json": {"input": ""}}, 400, "'input' is empty"),
    ("empty string in list", "POST", "/v1/embeddings", {"json": {"input": ["ok", "  "]}}, 400, "'input[1]' is empty"),
    ("non-string in list", "POST", "/v1/embeddings", {"json": {"input": ["ok", 7]}}, 400,
     "'input[1]' must be a string"),
    ("token ids", "POST", "/v1/embeddings", {"json": {"input": [101, 2023, 102]}}, 400, "token ids"),
    ("token id lists", "POST", "/v1/embeddings", {"json": {"input": [[101, 102]]}}, 400, "token ids"),
    ("too many inputs", "POST", "/v1/embeddings", {"json": {"input": ["a cat"] * 9}}, 400, "at most 8"),
    ("over-long text, truncate off", "POST", "/embed", {"json": {"inputs": [LONG], "truncate": False}}, 413,
     "more than the model reads"),
    ("dimensions not an int", "POST", "/v1/embeddings", {"json": {"input": "x", "dimensions": "8"}}, 400,
     "'dimensions' must be an integer"),
    ("dimensions zero", "POST", "/v1/embeddings", {"json": {"input": "x", "dimensions": 0}}, 400, "from 1 to 32"),
    ("dimensions above the model's", "POST", "/v1/embeddings", {"json": {"input": "x", "dimensions": 33}}, 400,
     "from 1 to 32"),
    ("unknown encoding_format", "POST", "/v1/embeddings", {"json": {"input": "x", "encoding_format": "int8"}}, 400,
     "'float' or 'base64'"),
    ("model not a string", "POST", "/v1/embeddings", {"json": {"input": "x", "model": 3}}, 400, "'model' must be"),
    ("normalize not a bool", "POST", "/embed", {"json": {"inputs": "x", "normalize": "yes"}}, 400, "true or false"),
    ("similarity without sentences", "POST", "/similarity", {"json": {"inputs": {"source_sentence": "x"}}}, 400,
     "'inputs.sentences' is required"),
    ("wrong API key", "POST", "/v1/embeddings", {"json": {"input": "x"}, "headers": {"Authorization": "Bearer nope"}},
     401, "Incorrect API key"),
    ("missing API key", "POST", "/v1/embeddings", {"json": {"input": "x"}, "headers": {"Authorization": ""}}, 401,
     "Missing API key"),
    ("unknown route", "POST", "/v1/embedding", {"json": {"input": "x"}}, 404, "no such route"),
    ("wrong method", "GET", "/v1/embeddings", {}, 405, "not allowed"),
    ("non-JSON content type", "POST", "/v1/embeddings",
     {"content": b"input=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415,
     "application/json"),
    ("body too large", "POST", "/v1/embeddings", {"json": {"input": "x" * 5000}}, 413, "at most 4,096"),
    ("search k zero", "POST", "/v1/search", {"json": {"query": "cat", "k": 0}}, 400, "'k' must be from 1 to 50"),
    ("search k too big", "POST", "/v1/search", {"json": {"query": "cat", "k": 51}}, 400, "'k' must be from 1 to 50"),
    ("search k not an int", "POST", "/v1/search", {"json": {"query": "cat", "k": 2.5}}, 400, "'k' must be an integer"),
    ("search query missing", "POST", "/v1/search", {"json": {"k": 3}}, 400, "'query' is required"),
    ("unpaired surrogate in a text", "POST", "/v1/embeddings", {"content": b'{"input": ["ok", "abc \\ud800 def"]}'},
     400, "'input[1]' holds an unpaired surrogate"),
    ("unpaired surrogate in a query", "POST", "/v1/search", {"content": b'{"query": "\\udfff", "k": 2}'}, 400,
     "unpaired surrogate"),
    ("unpaired surrogate in a TEI text", "POST", "/embed", {"content": b'{"inputs": "x \\ud83d"}'}, 400,
     "unpaired surrogate"),
    ("lists nested too deeply", "POST", "/v1/embeddings",
     {"content": b'{"input": ' + b"[" * 1500 + b"]" * 1500 + b"}"}, 400, "nests lists or objects too deeply"),
]


@pytest.fixture(scope="module")
def server(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    index = VectorIndex.build(model, ["a", "b", "c"], ["the cat sat", "a dog ran", "money in the bank"])
    config = ServeConfig(api_key=KEY, max_inputs=8, max_body_bytes=4096, max_k=50)
    with BackgroundServer(app_for_model(model, "tiny", config, index=index, model_folder=tiny_bert_dir)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as client:
        yield client


def test_there_are_at_least_twenty_kinds():
    assert len({status for *_, status, _ in BAD_REQUESTS}) >= 6 and len(BAD_REQUESTS) >= 20


@pytest.mark.parametrize("name, method, path, kwargs, status, words", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_request_gets_a_clear_4xx_in_openai_shape(http, name, method, path, kwargs, status, words):
    kwargs = dict(kwargs)
    headers = {**AUTH, **kwargs.pop("headers", {})}
    if "content" in kwargs and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    reply = http.request(method, path, headers=headers, **kwargs)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert words in error["message"]
    assert error["type"] == "invalid_request_error"


def test_server_keeps_serving_after_every_bad_request(http):
    for name, method, path, kwargs, status, _ in BAD_REQUESTS:
        kwargs = dict(kwargs)
        headers = {**AUTH, **kwargs.pop("headers", {})}
        assert http.request(method, path, headers=headers, **kwargs).status_code == status, name
    good = http.post("/v1/embeddings", json={"input": ["the cat sat", "a dog ran"], "encoding_format": "float"})
    assert good.status_code == 200 and len(good.json()["data"]) == 2
    assert http.post("/v1/search", json={"query": "a cat", "k": 2}).status_code == 200
    assert http.get("/health").json()["status"] == "ok"


def test_errors_are_counted_in_metrics(http):
    http.post("/v1/embeddings", json={"input": ""})
    text = http.get("/metrics").text
    assert 'sentforge_requests_total{route="/v1/embeddings",status="400"}' in text
    assert 'sentforge_request_errors_total{code="empty_input",route="/v1/embeddings"}' in text
    assert 'sentforge_requests_total{route="other",status="404"}' in text


def test_health_and_metrics_need_no_key(server):
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert httpx.get(f"{server.url}/metrics").status_code == 200


def test_raw_garbage_and_half_requests_do_not_break_the_server(server, http):
    host, port = "127.0.0.1", server.port
    half_request = b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    for payload in (b"NOT HTTP AT ALL\r\n\r\n", half_request):
        with socket.create_connection((host, port), timeout=5) as raw:
            raw.sendall(payload)
    reply = http.post("/v1/embeddings", json={"input": "still here"})
    assert reply.status_code == 200, reply.text
    assert json.loads(reply.text)["data"][0]["index"] == 0


def test_client_leaving_mid_body_is_recorded_as_gone_not_as_a_server_error(server, http):
    """A body cut short by the client is a 499 in the metrics (nginx's 'client closed request'), not a 500."""
    before = http.get("/metrics").text
    head = (b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: 1000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(head + b'{"input": "the cat sat')
    for _ in range(100):  # the server notices the closed socket asynchronously
        after = http.get("/metrics").text
        if 'route="/v1/embeddings",status="499"' in after:
            break
        time.sleep(0.05)
    assert 'sentforge_requests_total{route="/v1/embeddings",status="499"}' in after
    assert _count(after, "/v1/embeddings", "500") == _count(before, "/v1/embeddings", "500") == 0
    assert http.post("/v1/embeddings", json={"input": "still here"}).status_code == 200


def _count(metrics: str, route: str, status: str) -> float:
    prefix = f'sentforge_requests_total{{route="{route}",status="{status}"}} '
    return sum(float(line[len(prefix):]) for line in metrics.splitlines() if line.startswith(prefix))
