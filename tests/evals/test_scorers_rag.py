"""The four ragas metrics, for real, against a local OpenAI-compatible server on 127.0.0.1.

The server is a tiny word-overlap "model": it recognises which ragas prompt it was sent by the
output schema's title in the prompt, reads the prompt's input JSON, and answers with JSON
that satisfies that schema, so every metric's arithmetic runs on known verdicts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from evals.connections.resolver import ResolvedConnection, StaticConnections
from evals.errors import ScorerError
from evals.llm import http as openai_http
from evals.schemas import ScorerSpec
from evals.scorers.base import Score, Scorer
from evals.scorers.registry import RagasSettings, ScorerContext, build_scorers
from tracing import pricing

MODEL = "fake-rag-judge"
STOPWORDS = frozenset(
    {"a", "an", "and", "are", "about", "as", "at", "be", "by", "for", "has", "have", "in", "is"}
    | {"it", "its", "of", "on", "or", "the", "to", "was", "what", "which", "who", "with"}
)
_INPUT_RE = re.compile(
    r"Now perform the same with the following input\s*input: (\{.*\})\s*Output:", re.S
)
DIMENSIONS = 64


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]


def supported(statement: str, context: str) -> int:
    return int(words(statement) <= words(context))


def _statements(data: dict[str, Any]) -> dict[str, Any]:
    return {"statements": [s.rstrip(".") for s in sentences(data["answer"])]}


def _nli(data: dict[str, Any]) -> dict[str, Any]:
    verdicts = [
        {"statement": s, "reason": "word overlap", "verdict": supported(s, data["context"])}
        for s in data["statements"]
    ]
    return {"statements": verdicts}


def _question(data: dict[str, Any]) -> dict[str, Any]:
    response = data["response"]
    if "don't know" in response.lower():
        return {"question": "What is this about?", "noncommittal": 1}
    return {"question": "What is the capital of France?", "noncommittal": 0}


def _precision(data: dict[str, Any]) -> dict[str, Any]:
    useful = len(words(data["context"]) & words(data["answer"])) >= 2
    return {"reason": "shares key words with the answer", "verdict": int(useful)}


def _recall(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "classifications": [
            {"statement": s, "reason": "word overlap", "attributed": supported(s, data["context"])}
            for s in sentences(data["answer"])
        ]
    }


ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "StatementGeneratorOutput": _statements,
    "NLIStatementOutput": _nli,
    "AnswerRelevanceOutput": _question,
    "ContextPrecisionOutput": _precision,
    "ContextRecallOutput": _recall,
}


def embed(text: str) -> list[float]:
    """Hash words into a fixed-size bag-of-words vector (same words, same direction)."""
    vector = [0.0] * DIMENSIONS
    for word in words(text) or {text}:
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    return vector


@dataclass
class FakeServer:
    """An OpenAI-compatible chat + embeddings server answering ragas's prompts."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = "\n".join(str(m.get("content", "")) for m in body["messages"])
        titles = [t for t in ANSWERS if f'"title": "{t}"' in prompt]
        data = _INPUT_RE.search(prompt)
        if len(titles) != 1 or data is None:
            return _completion(body, "I cannot tell which prompt this is.")
        answer = ANSWERS[titles[0]](json.loads(data.group(1)))
        return _completion(body, json.dumps(answer))

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for i, text in enumerate(texts):
            vector: Any = embed(text)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": vector})
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return {"object": "list", "data": data, "model": body["model"], "usage": usage}


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.requests.append({"path": self.path, **body})
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.endswith("/chat/completions"):
                payload = server.chat(body)
            elif self.path.endswith("/embeddings"):
                payload = server.embeddings(body)
            else:
                self.send_error(404)
                return
            raw = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


QUESTION = {"question": "What is the capital of France?", "locale": "en"}
OUTPUT = "Paris is the capital of France. Paris has the Eiffel Tower."
CONTEXTS = ["Paris is the capital of France.", "Bananas are yellow and sweet."]
REFERENCE = "Paris is the capital of France. It has about two million inhabitants."


RAG_KEY = "sk-rag-connection-key"


def rag_connections(api_base: str, **fields: Any) -> StaticConnections:
    return StaticConnections([ResolvedConnection("rag", "openai", api_base, RAG_KEY, **fields)])


def build(server: FakeServer, kind: str, **params: Any) -> Scorer:
    ctx = ScorerContext(
        ragas=RagasSettings(model=MODEL, connection="rag"),
        connections=rag_connections(server.api_base),
    )
    [scorer] = build_scorers([ScorerSpec(type=kind, params=params)], ctx)
    return scorer


async def run(
    scorer: Scorer,
    *,
    output: str = OUTPUT,
    contexts: list[str] = CONTEXTS,
    expected: Any = REFERENCE,
) -> Score:
    return await scorer.score(
        output=output, expected=expected, input=QUESTION, contexts=contexts, metadata={}
    )


async def test_faithfulness(server: FakeServer) -> None:
    before = len(server.requests)
    score = await run(build(server, "faithfulness"))
    # Two claims; the contexts support "Paris is the capital of France" only.
    assert score.value == pytest.approx(0.5)
    chats = server.requests[before:]
    assert [r["model"] for r in chats] == [MODEL, MODEL]
    assert server.headers[-1]["authorization"] == f"Bearer {RAG_KEY}"  # the connection's key
    assert "What is the capital of France?" in json.dumps(chats[0]["messages"])


async def test_response_relevancy(server: FakeServer) -> None:
    scorer = build(server, "response_relevancy", embedding_model="fake-embed", strictness=2)
    before = len(server.requests)
    assert (await run(scorer)).value == pytest.approx(1.0)
    paths = [r["path"] for r in server.requests[before:]]
    assert paths.count("/v1/chat/completions") == 2
    assert "/v1/embeddings" in paths
    assert all(r["model"] == "fake-embed" for r in server.requests[before:] if "embed" in r["path"])
    evasive = await run(scorer, output="I don't know.")
    assert evasive.value == 0.0


async def test_context_precision_rewards_useful_contexts_first(server: FakeServer) -> None:
    scorer = build(server, "context_precision")
    assert (await run(scorer)).value == pytest.approx(1.0)
    assert (await run(scorer, contexts=CONTEXTS[::-1])).value == pytest.approx(0.5)


async def test_context_recall(server: FakeServer) -> None:
    # The reference's second claim (two million inhabitants) is in no context.
    assert (await run(build(server, "context_recall"))).value == pytest.approx(0.5)


async def test_missing_inputs_are_scorer_errors(server: FakeServer) -> None:
    with pytest.raises(ScorerError, match="needs the item's contexts"):
        await run(build(server, "faithfulness"), contexts=[])
    with pytest.raises(ScorerError, match="reference"):
        await run(build(server, "context_recall"), expected=None)


async def test_unreachable_endpoint_is_a_scorer_error() -> None:
    ctx = ScorerContext(
        ragas=RagasSettings(model=MODEL, connection="rag"),
        connections=rag_connections("http://127.0.0.1:9/v1"),
    )
    spec = ScorerSpec(type="context_recall", params={"timeout": 2})
    [scorer] = build_scorers([spec], ctx)
    with pytest.raises(ScorerError, match="context_recall: "):
        await run(scorer)


@pytest.mark.parametrize(
    ("connections", "message"),
    [
        (None, "no connection named 'openai'"),
        (StaticConnections(), "no connection named 'openai'"),
        (
            StaticConnections([ResolvedConnection("openai", "anthropic", None, RAG_KEY)]),
            "connection 'openai' is for anthropic",
        ),
        (
            StaticConnections([ResolvedConnection("openai", "openai", problem="key not set")]),
            "connection 'openai': key not set",
        ),
    ],
)
async def test_ragas_needs_an_openai_compatible_connection(
    server: FakeServer, connections: StaticConnections | None, message: str
) -> None:
    ctx = ScorerContext(ragas=RagasSettings(model=MODEL), connections=connections)
    [scorer] = build_scorers([ScorerSpec(type="context_recall")], ctx)
    before = len(server.requests)
    with pytest.raises(ScorerError, match=message):
        await run(scorer)
    assert len(server.requests) == before


def price(model: str, tokens_in: int, tokens_out: int) -> float:
    cost = openai_http.cost(model, tokens_in, tokens_out, loader=pricing.bundled_costs)
    assert cost is not None, f"litellm's price map has no {model}"
    return cost


async def test_a_score_costs_what_its_ragas_calls_cost(server: FakeServer) -> None:
    scorer = build(
        server,
        "response_relevancy",
        model="gpt-4o-mini",
        embedding_model="text-embedding-3-small",
        strictness=2,
    )
    before = len(server.requests)
    score = await run(scorer)
    calls = server.requests[before:]
    chats = sum(1 for r in calls if r["path"].endswith("/chat/completions"))
    embedded = [r["input"] for r in calls if r["path"].endswith("/embeddings")]
    texts = sum(len(i) if isinstance(i, list) else 1 for i in embedded)
    assert chats == 2
    assert texts > 0
    # The fake bills 10 + 10 tokens a chat and 1 token a text embedded.
    expected = chats * price("gpt-4o-mini", 10, 10) + texts * price("text-embedding-3-small", 1, 0)
    assert score.cost_usd == pytest.approx(expected)


async def test_items_scored_at_once_are_billed_apart(server: FakeServer) -> None:
    scorer = build(server, "faithfulness", model="gpt-4o-mini")
    one, other = await asyncio.gather(run(scorer), run(scorer, output="Paris is in France."))
    # Faithfulness makes two calls an item (statements, then verdicts).
    assert one.cost_usd == other.cost_usd == pytest.approx(2 * price("gpt-4o-mini", 10, 10))


async def test_calls_to_a_model_without_a_price_cost_nothing_known(server: FakeServer) -> None:
    assert (await run(build(server, "faithfulness"))).cost_usd is None
