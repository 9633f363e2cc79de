"""PROMPTLANE_PII_SPACY_MODEL: a model that is not installed stops the start (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from api.db import Database
from api.server.app import create_app
from evals.scorers.safety import pii_engine
from tests.conftest import make_settings


async def test_a_missing_spacy_model_stops_the_start(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    settings = make_settings(database_url, tmp_path, pii_spacy_model="xx_not_installed_sm")
    app = create_app(settings, database=db)
    with pytest.raises(RuntimeError, match=r"PROMPTLANE_PII_SPACY_MODEL: .*downloads nothing"):
        async with app.router.lifespan_context(app):
            pass
    assert pii_engine.covered_kinds() == frozenset(pii_engine.PII_KINDS) - pii_engine.NER_KINDS


async def test_an_installed_model_adds_names_and_addresses(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    nlp = spacy.blank("en")  # built here: an entity ruler stands in for a trained model
    nlp.add_pipe("entity_ruler").add_patterns(  # type: ignore[attr-defined]
        [{"label": "PERSON", "pattern": [{"LOWER": "grace"}, {"LOWER": "hopper"}]}]
    )
    nlp.to_disk(tmp_path / "model")
    settings = make_settings(database_url, tmp_path, pii_spacy_model=str(tmp_path / "model"))
    app = create_app(settings, database=db)
    try:
        async with app.router.lifespan_context(app):
            assert pii_engine.covered_kinds() == frozenset(pii_engine.PII_KINDS)
    finally:
        pii_engine.configure(spacy_model=None)
