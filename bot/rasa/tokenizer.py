"""``VietnameseTokenizer``: a Rasa 3.x tokenizer with our normaliser and underthesea segmentation.

Rasa's ``WhitespaceTokenizer`` cuts Vietnamese into syllables ("người", "lao", "động"); this one
normalises the message the way our engine does (``bot.nlu.normalize``: tone placement, teencode and
abbreviations, masked personal data, money) and segments words with underthesea (``bot.nlu.tokenize``),
so Rasa's featurizers see "người_lao_động" as one token. With ``strip_accents`` (the default) each
token is also written without diacritics, so "nghi phep nam" and "nghỉ phép năm" get the same
features (our engine's choice, see README).

Token offsets point into the original message when the word can be found there (compared in lower
case and without diacritics); a word the normaliser produced (an expanded abbreviation) takes the
span of the original text it replaced, approximately. Offsets only matter for entity extraction,
which the exported project leaves to our own extractor.

This module imports Rasa: use it through ``bot.rasa.VietnameseTokenizer`` in a Rasa environment.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalize import Normalizer, default_normalizer, load_abbreviations, strip_accents
from bot.nlu.tokenize import Segmenter


def _fold(text: str) -> str:
    return strip_accents(unicodedata.normalize("NFC", text).lower())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Normalise, segment into words (syllables joined by "_"), optionally strip diacritics."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # The teencode/abbreviation table: a mapping, or the path of an abbreviations.yml;
            # None: the project's nlu_data/abbreviations.yml.
            "abbreviations": None,
            # Write tokens without diacritics (after segmenting the text with them).
            "strip_accents": True,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["vi"]

    @staticmethod
    def required_packages() -> list[str]:
        return ["underthesea"]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        table = config.get("abbreviations")
        if isinstance(table, dict):  # the table itself (export-rasa writes it into config.yml)
            self._normalize: Normalizer = Normalizer({str(k): str(v) for k, v in table.items()})
        elif table:  # a path to an abbreviations.yml
            self._normalize = Normalizer(load_abbreviations(table))
        else:
            self._normalize = default_normalizer()
        self._segment = Segmenter()
        self._strip = bool(config.get("strip_accents", True))

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> VietnameseTokenizer:
        return cls(config)

    def words(self, text: str) -> list[str]:
        """The words of ``text`` as this tokenizer emits them (for tests and the benchmark)."""
        words = self._segment(self._normalize(text))
        return [strip_accents(w) if self._strip else w for w in words]

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        words = self._segment(self._normalize(text))
        folded = _fold(text)
        tokens, cursor = [], 0
        for word in words:
            key = _fold(word.replace("_", " "))
            found = folded.find(key, cursor)
            if found >= 0:
                start, end = found, found + len(key)
            else:  # a word the normaliser wrote (an expanded abbreviation): the next original chunk
                start = min(cursor, len(text))
                while start < len(text) and text[start].isspace():
                    start += 1
                nxt = text.find(" ", start + 1)
                end = len(text) if nxt < 0 else nxt
                end = max(end, start)
            cursor = max(cursor, end)
            tokens.append(Token(strip_accents(word) if self._strip else word, start, end))
        return self._apply_token_pattern(tokens)
