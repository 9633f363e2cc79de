"""Every server setting is documented: docs/deployment.md has a row for its variable."""

from __future__ import annotations

import re
from pathlib import Path

from api.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def test_every_setting_has_a_row_in_the_deployment_guide() -> None:
    first_cells = re.findall(r"^\|([^|]+)\|", DOC.read_text(encoding="utf-8"), re.M)
    rows = {name for cell in first_cells for name in re.findall(r"`(PROMPTLANE_[A-Z0-9_]+)`", cell)}
    variables = {f"PROMPTLANE_{name.upper()}" for name in Settings.model_fields}
    assert variables - rows == set()
