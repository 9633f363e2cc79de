"""JSON Schemas of the files users write: prompt, dataset and suite files, for their editors.

Built from the models the server validates with, so an editor's checks and the server's agree;
served at `GET /v1/schemas/{name}.json` and kept in the repository under docs/schemas/
(`python -m api.server.file_schemas docs/schemas` rewrites them; a test keeps them equal).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from api.server.params import NAME_PATTERN
from evals.schemas import DatasetItemIn, DatasetVersionCreate, SuiteSpec
from prompts.schemas import VersionCreate

DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
_NAME: Final = {
    "type": "string",
    "pattern": NAME_PATTERN,
    "description": "The prompt's name (folders with '/'); default: the file's path below the "
    "root given to `promptlane prompts push`, without the suffix",
}


def _document(title: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DRAFT, "$id": f"urn:promptlane:schema:{name}", "title": title, **schema}


def prompt_file() -> dict[str, Any]:
    """A prompt file (YAML or JSON): a version body, plus an optional `name`."""
    schema = VersionCreate.model_json_schema()
    schema["properties"] = {"name": _NAME, **schema["properties"]}
    schema.pop("title", None)
    return _document("promptlane prompt file", "prompt-file", schema)


def dataset_file() -> dict[str, Any]:
    """A JSON dataset file: a list of items, or an object with `items` (JSONL: an item a line)."""
    version = DatasetVersionCreate.model_json_schema(ref_template="#/$defs/{model}")
    defs = version.pop("$defs", {})
    version.pop("title", None)
    defs["DatasetVersionCreate"] = version
    defs.setdefault("DatasetItemIn", DatasetItemIn.model_json_schema())
    schema = {
        "oneOf": [
            {"type": "array", "items": {"$ref": "#/$defs/DatasetItemIn"}, "minItems": 1},
            {"$ref": "#/$defs/DatasetVersionCreate"},
        ],
        "$defs": defs,
    }
    return _document("promptlane dataset file", "dataset-file", schema)


def suite_file() -> dict[str, Any]:
    """A suite file (YAML): `dataset` may also be written `name` or `name@version`."""
    schema = SuiteSpec.model_json_schema()
    schema.pop("title", None)
    shorthand = {"type": "string", "description": "name, or name@version to pin a version"}
    schema["properties"]["dataset"] = {"anyOf": [shorthand, schema["properties"]["dataset"]]}
    return _document("promptlane suite file", "suite-file", schema)


FILE_SCHEMAS: Final[dict[str, Callable[[], dict[str, Any]]]] = {
    "prompt-file": prompt_file,
    "dataset-file": dataset_file,
    "suite-file": suite_file,
}


def render(name: str) -> str:
    """Return the schema document `name` as the repository stores it."""
    return json.dumps(FILE_SCHEMAS[name](), indent=2, sort_keys=True) + "\n"


def write_all(directory: Path) -> list[Path]:
    """Write every schema as `<name>.schema.json` into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILE_SCHEMAS:
        path = directory / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        sys.stdout.write(f"{written}\n")
