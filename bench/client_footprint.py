"""Measure what the client package costs an application, against the server's stack.

Installs clients/python into a fresh virtualenv with the project's uv (versions pinned by
uv.lock, so the figures describe the locked set), then reports, in the same run:

- installed size: the client's distributions, and the server's runtime distributions in this
  checkout's .venv (`uv export --no-dev`), both summed from the files their RECORDs list (so
  neither counts bytecode caches), plus the client venv's whole site-packages on disk;
- import time: `import promptlane_client` in the fresh venv, and `import api.server.app` (what
  `promptlane serve` imports before it starts) in .venv, each in a fresh isolated interpreter
  (`python -I`), timed around the import itself; interleaved runs, median and spread.

Nothing leaves the machine but uv's registry look-ups (its cache answers most). Timings never
make it fail; a client venv that holds a server package does.

    .venv/bin/python bench/client_footprint.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
UV: Final = str(Path(sys.executable).parent / "uv")
HEAVY: Final = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "litellm", "ragas", "pandas")
TIMED: Final = (
    "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
)
MB: Final = 1_000_000


def uv(*args: str, cwd: Path = ROOT) -> str:
    """Run the project's uv; return its stdout."""
    done = subprocess.run([UV, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"uv {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def locked(*args: str) -> list[str]:
    """Return the `name==version` pins `uv export` gives for these arguments (no workspace)."""
    out = uv("export", "--frozen", "--no-emit-workspace", "--no-hashes", "--no-header", *args)
    return [line.split(" ")[0] for line in out.splitlines() if "==" in line]


def install_client(tmp: Path) -> Path:
    """Create a venv holding only the client package (locked versions); return its python."""
    constraints = tmp / "constraints.txt"
    constraints.write_text("\n".join(locked("--package", "promptlane-client")) + "\n")
    venv = tmp / "venv"
    uv("venv", "-q", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    client = str(ROOT / "clients" / "python")
    uv("pip", "install", "-q", "--python", str(python), "-c", str(constraints), client)
    return python


def site_packages(python: Path) -> Path:
    """Return a venv's site-packages directory."""
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def on_disk(path: Path) -> int:
    """Return the bytes of every file under `path`."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def recorded(dists: Iterable[metadata.Distribution]) -> dict[str, int]:
    """Return each distribution's size as its RECORD lists it."""
    sizes: dict[str, int] = {}
    for dist in dists:
        total = sum(f.size or 0 for f in dist.files or ())
        sizes[dist.metadata["Name"].lower()] = total
    return sizes


def client_sizes(python: Path) -> dict[str, int]:
    """Return the client venv's distributions and their recorded sizes."""
    return recorded(metadata.distributions(path=[str(site_packages(python))]))


def server_sizes() -> dict[str, int]:
    """Return the server's runtime distributions (locked, no dev tools) and their sizes."""
    names = {pin.split("==")[0].lower() for pin in locked("--no-dev")}
    installed = metadata.distributions(path=[str(site_packages(Path(sys.executable)))])
    return {name: size for name, size in recorded(installed).items() if name in names}


def import_seconds(python: Path, module: str) -> float:
    """Return how long `import module` takes in a fresh isolated interpreter."""
    out = subprocess.run(
        [python, "-I", "-c", TIMED.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),  # never the checkout: the client venv must not see it
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PROMPTLANE_"))},
    )
    return float(out.stdout.strip())


def import_times(client: Path, runs: int) -> dict[str, list[float]]:
    """Time both imports in interleaved runs (after one untimed run each writes bytecode)."""
    pairs = {
        "client": (client, "promptlane_client"),
        "server": (Path(sys.executable), "api.server.app"),
    }
    for python, module in pairs.values():
        import_seconds(python, module)
    times: dict[str, list[float]] = {name: [] for name in pairs}
    for _ in range(runs):
        for name, (python, module) in pairs.items():
            times[name].append(import_seconds(python, module))
    return times


def summary(values: Sequence[float]) -> dict[str, float]:
    """Return the median and spread of timings, in milliseconds."""
    ms = sorted(v * 1000 for v in values)
    return {"median": statistics.median(ms), "min": ms[0], "max": ms[-1]}


def run(runs: int) -> dict[str, Any]:
    """Measure everything; return the figures."""
    with tempfile.TemporaryDirectory(prefix="promptlane-footprint-") as tmp:
        python = install_client(Path(tmp))
        disk = on_disk(site_packages(python))
        client = client_sizes(python)
        leaked = sorted(set(HEAVY) & set(client)) + sorted({"promptlane"} & set(client))
        assert not leaked, f"the client venv holds {leaked}"
        times = import_times(python, runs)
    server = server_sizes()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load": os.getloadavg(),
        },
        "python": platform.python_version(),
        "runs": runs,
        "client": {
            "distributions": len(client),
            "recorded_bytes": sum(client.values()),
            "site_packages_bytes": disk,
            "import_ms": summary(times["client"]),
            "largest": dict(sorted(client.items(), key=lambda kv: -kv[1])[:5]),
        },
        "server": {
            "distributions": len(server),
            "recorded_bytes": sum(server.values()),
            "import_ms": summary(times["server"]),
            "heavy_present": sorted(set(HEAVY) & set(server)),
        },
    }


def print_table(results: dict[str, Any]) -> None:
    """Print the figures side by side, with ratios."""
    client, server = results["client"], results["server"]
    print(
        f"\nclient package vs server stack, {results['machine']['cpus']} CPUs,"
        f" Python {results['python']}, load {results['machine']['load'][0]:.1f}"
    )
    print(f"{'':<40} {'client':>10} {'server':>10} {'ratio':>7}")
    rows = [
        ("distributions installed", client["distributions"], server["distributions"]),
        ("installed size, MB", client["recorded_bytes"] / MB, server["recorded_bytes"] / MB),
        ("import, ms (median)", client["import_ms"]["median"], server["import_ms"]["median"]),
    ]
    for label, a, b in rows:
        print(f"{label:<40} {a:>10.1f} {b:>10.1f} {a / b:>7.3f}")
    print(
        f"client site-packages on disk: {client['site_packages_bytes'] / MB:.1f} MB;"
        f" import ms min-max: client {client['import_ms']['min']:.0f}-"
        f"{client['import_ms']['max']:.0f}, server {server['import_ms']['min']:.0f}-"
        f"{server['import_ms']['max']:.0f} ({results['runs']} runs each)"
    )
    largest = ", ".join(f"{name} {size / MB:.1f}" for name, size in client["largest"].items())
    print(f"largest client distributions (MB): {largest}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement; return 0 unless the client venv holds what it must not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per import")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    try:
        results = run(args.runs)
    except AssertionError as exc:
        print(f"bench: failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
