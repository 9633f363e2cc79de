"""The NLP side of the PII engine: a tokenizer-only engine, or a spaCy model for names.

Presidio's own engines download a model when it is missing; these never do. The
tokenizer-only engine gives Presidio tokens and lower-cased words as lemmas, which is what
its context enhancer compares with the recognizers' context words.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import spacy
from presidio_analyzer import EntityRecognizer
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.language import Language
from spacy.tokens import Doc


class TokenizerEngine(NlpEngine):
    """Tokens and lower-cased words, from a blank spaCy pipeline (no model, no entities)."""

    def __init__(self, language: str) -> None:
        """Create the blank pipeline for `language`."""
        self.language = language
        self.nlp: Language = spacy.blank(language)

    def load(self) -> None:
        """Nothing to load: the blank pipeline is ready."""

    def is_loaded(self) -> bool:
        """Return True: the blank pipeline is always ready."""
        return True

    def _artifacts(self, doc: Doc) -> NlpArtifacts:
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.lower_ for token in doc],
            nlp_engine=self,
            language=self.language,
            scores=[],
        )

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """Tokenize one text."""
        return self._artifacts(self.nlp(text))

    def process_batch(  # type: ignore[override]
        self, texts: list[str], language: str, **_: Any
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        """Tokenize several texts."""
        for doc in self.nlp.pipe(texts):
            yield doc.text, self._artifacts(doc)

    def is_stopword(self, word: str, language: str) -> bool:
        """Return whether spaCy lists `word` as a stop word of the pipeline's language."""
        return bool(self.nlp.vocab[word].is_stop)

    def is_punct(self, word: str, language: str) -> bool:
        """Return whether `word` is punctuation."""
        return bool(self.nlp.vocab[word].is_punct)

    def get_supported_entities(self) -> list[str]:
        """Return no entities: there is no named-entity model."""
        return []

    def get_supported_languages(self) -> list[str]:
        """Return the one language."""
        return [self.language]


def check_model(model: str) -> None:
    """Raise ValueError unless `model` is an installed spaCy package or a model directory.

    Presidio would download a missing model; promptlane never does.
    """
    if not (spacy.util.is_package(model) or Path(model).is_dir()):
        raise ValueError(
            f"spaCy model {model!r} is neither an installed package nor a directory "
            "(promptlane downloads nothing: install the model's package first)"
        )


def model_engine(language: str, model: str) -> NlpEngine:
    """Return Presidio's spaCy engine on an installed model (a package name or a path)."""
    check_model(model)
    engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": model}])
    engine.load()
    return engine


def ner_recognizer(language: str) -> EntityRecognizer:
    """Return Presidio's recognizer of the model's person and location entities."""
    recognizer: EntityRecognizer = SpacyRecognizer(
        supported_language=language, supported_entities=["PERSON", "LOCATION"]
    )
    return recognizer


class WordContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer matching whole words, and long words inside compounds.

    Presidio's default substring match lets `id` match `paid`; whole words alone miss German
    compounds (`Kreditkartennummer` holds `karte`). Words of five letters or more also match
    inside a longer word.
    """

    @staticmethod
    def _find_supportive_word_in_context(
        context_list: list[str], recognizer_context_list: list[str], matching_mode: str = ""
    ) -> str:
        words = [word.lower() for word in context_list or ()]
        for wanted in recognizer_context_list or ():
            wanted = wanted.lower()
            if any(w == wanted or (len(wanted) >= 5 and wanted in w) for w in words):
                return wanted
        return ""
