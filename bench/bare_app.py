"""Bare FastAPI baseline: one GET route that returns fixed bytes, served like promptlane.

Run by bench/resolve.py as `python bench/bare_app.py --port N`, with BENCH_BODY_FILE (the bytes
to return) and BENCH_PATH (the route) in the environment. It also sinks OTLP/HTTP spans on
`POST /v1/traces`, so a promptlane with tracing on can export somewhere local.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

HOST = "127.0.0.1"


def create_app() -> FastAPI:
    """Build an app whose only route returns the bytes in BENCH_BODY_FILE as JSON."""
    body = Path(os.environ["BENCH_BODY_FILE"]).read_bytes()
    path = os.environ.get("BENCH_PATH", "/")
    app = FastAPI()

    @app.get(path)
    async def return_body() -> Response:
        """Return the fixed body."""
        return Response(content=body, media_type="application/json")

    @app.post("/v1/traces")
    async def sink_traces() -> Response:
        """Accept and discard OTLP/HTTP spans (the traced promptlane exports here)."""
        return Response(content=b"", media_type="application/x-protobuf")

    return app


def main() -> None:
    """Serve the bare app with the same uvicorn arguments as `promptlane serve`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Same keyword arguments as api/cli/serve.py; log level as the benchmark sets it there.
    uvicorn.run(
        "bare_app:create_app",
        factory=True,
        host=HOST,
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
