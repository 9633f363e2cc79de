"""The process bootstrap: environment defaults, warnings, litellm readiness, set once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

from api import bootstrap

ROOT = Path(__file__).resolve().parents[2]


def test_bootstrap_is_idempotent() -> None:
    bootstrap.bootstrap()
    filters = list(warnings.filters)
    bootstrap.bootstrap()
    assert warnings.filters == filters
    for name, value in bootstrap.ENV_DEFAULTS.items():
        assert os.environ.get(name) is not None, (name, value)


def run_python(code: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in bootstrap.ENV_DEFAULTS}
    env["HF_HUB_OFFLINE"] = "0"  # a value the operator set is kept
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_the_cli_bootstraps_without_importing_litellm_or_ragas() -> None:
    answer = run_python(
        """
        import json, os, sys
        from api import cli
        sys.argv = ["promptlane", "--help"]
        try:
            cli.main()
        except SystemExit:
            pass
        names = ("LITELLM_LOCAL_MODEL_COST_MAP", "RAGAS_DO_NOT_TRACK", "HF_HUB_OFFLINE")
        heavy = ("litellm", "ragas", "evals.llm", "evals.scorers")
        loaded = sorted(m for m in sys.modules if m.startswith(heavy))
        print(json.dumps({"env": {n: os.environ.get(n) for n in names}, "loaded": loaded}))
        """
    )
    assert answer == {
        "env": {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "RAGAS_DO_NOT_TRACK": "true",
            "HF_HUB_OFFLINE": "0",
        },
        "loaded": [],
    }


def test_litellm_is_imported_once_offline_and_then_frozen() -> None:
    answer = run_python(
        """
        import asyncio, gc, json, os, sys
        from api.bootstrap import litellm_ready, load_litellm
        from evals.llm.client import ensure_litellm
        assert "litellm" not in sys.modules
        asyncio.run(litellm_ready())
        frozen = gc.get_freeze_count()
        asyncio.run(litellm_ready())
        custom = {entry["provider"] for entry in ensure_litellm().custom_provider_map}
        print(json.dumps({
            "same": load_litellm() is ensure_litellm(),
            "offline_models": "offline" in custom,
            "frozen": frozen > 0,
            "frozen_once": gc.get_freeze_count() == frozen,
            "cost_map": os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP"),
        }))
        """
    )
    assert answer == {
        "same": True,
        "offline_models": True,
        "frozen": True,
        "frozen_once": True,
        "cost_map": "True",
    }
