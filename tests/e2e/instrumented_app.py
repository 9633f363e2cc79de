"""An instrumented application (OpenLLMetry or OpenInference) calling a prompt through the gateway.

Run as its own process (instrumentation patches the openai SDK for good: `uninstrument` leaves
it wrapped): `python instrumented_app.py URL KEY PROMPT simple|batch openllmetry|openinference`.
It calls the prompt
sync, streamed and async with the official openai SDK and exports its client spans to the
same server. `simple` exports each span as it ends; `batch` holds them until told to flush
(a line on stdin), after printing `called`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import openai
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

EXTRA = {"promptlane": {"variables": {"ticket": "my card was charged twice"}}}


def instrument(url: str, key: str, mode: str, instrumentation: str) -> TracerProvider:
    """Return a tracer provider exporting to the server; instrument the openai SDK with it."""
    provider = TracerProvider(resource=Resource.create({"service.name": "support-app"}))
    headers = {"Authorization": f"Bearer {key}"}
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers=headers)
    if mode == "batch":
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600_000))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if instrumentation == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInference

        OpenInference().instrument(tracer_provider=provider)
    else:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=provider)
    return provider


def call(url: str, key: str, prompt: str) -> None:
    """Call the prompt sync, streamed and async (one answer each)."""
    kwargs: dict[str, Any] = {"model": f"promptlane/{prompt}@production", "messages": []}
    kwargs["extra_body"] = EXTRA
    with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as sdk:
        assert sdk.chat.completions.create(**kwargs).choices[0].message.content
        chunks = sdk.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    async def call_async() -> None:
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as sdk:
            answer = await sdk.chat.completions.create(**kwargs)
            assert answer.choices[0].message.content

    asyncio.run(call_async())


def main(url: str, key: str, prompt: str, mode: str, instrumentation: str) -> None:
    """Call, then export every span (in batch mode only once stdin says so)."""
    provider = instrument(url, key, mode, instrumentation)
    call(url, key, prompt)
    if mode == "batch":
        print("called", flush=True)
        sys.stdin.readline()
    provider.force_flush()
    provider.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:6])
