"""Rasa interoperability: our Vietnamese pipeline inside a Rasa project, a Rasa bot behind our channels.

- ``bot.rasa.VietnameseTokenizer``: a Rasa 3.x tokenizer component (our normaliser + underthesea
  word segmentation). Rasa is imported only when this attribute is first read, so ``import bot`` and
  the product never need Rasa installed (Rasa 3.6 runs on Python 3.10 only).
- ``bot.rasa.export``: ``python -m bot export-rasa OUT_DIR`` writes a trainable Rasa 3.6 project.
- ``bot.rasa.dialogue``: ``BOT_ENGINE=rasa``: the turn asks a Rasa server what to say.
"""

from __future__ import annotations

__all__ = ["VietnameseTokenizer"]


def __getattr__(name: str):
    # Rasa resolves "bot.rasa.VietnameseTokenizer" with importlib + getattr: this hook imports Rasa then.
    if name == "VietnameseTokenizer":
        from .tokenizer import VietnameseTokenizer

        return VietnameseTokenizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
