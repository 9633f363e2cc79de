"""The web console's static files (an HTML shell and ES modules) served by `routes.console`.

Entry point: `BUNDLE.find` (a file's bytes, content type and ETag, or None).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from tracing.static import CSS, HTML, JS, SVG, AssetBundle

INDEX: Final = "index.html"
CONTENT_TYPES: Final[Mapping[str, str]] = {
    INDEX: HTML,
    "style.css": CSS,
    "favicon.svg": SVG,
    "app.js": JS,
    "call.js": JS,
    "calls.js": JS,
    "compare.js": JS,
    "core.js": JS,
    "curate.js": JS,
    "dataset.js": JS,
    "datasets.js": JS,
    "delivery.js": JS,
    "diff.js": JS,
    "incident.js": JS,
    "incidents.js": JS,
    "monitor.js": JS,
    "monitors.js": JS,
    "obs.js": JS,
    "playground.js": JS,
    "prompts.js": JS,
    "prompt.js": JS,
    "promote.js": JS,
    "render.js": JS,
    "run.js": JS,
    "runitems.js": JS,
    "runs.js": JS,
    "startrun.js": JS,
    "suite.js": JS,
    "suites.js": JS,
    "trace.js": JS,
    "traces.js": JS,
    "webhook.js": JS,
    "webhooks.js": JS,
}
BUNDLE: Final = AssetBundle(__name__, CONTENT_TYPES, INDEX)
