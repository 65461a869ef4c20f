"""Vietnamese word segmentation with underthesea, wrapped so it is cached and testable.

Vietnamese writes one syllable per space-separated token; a word can span several syllables
("người lao động"). ``segment`` returns words with their syllables joined by "_" so that a
bag-of-words model sees "người_lao_động" as one feature.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

logger = logging.getLogger(__name__)

# Segmenting very long messages costs time and adds nothing to intent detection.
MAX_SEGMENT_CHARS = 2000


class Segmenter:
    """Callable word segmenter: ``Segmenter()(text) -> list[str]``.

    ``backend`` is any callable ``str -> list[str]`` returning words with spaces inside
    (underthesea's ``word_tokenize`` by default); it is injectable for tests. Results are cached
    per instance (``cache_size`` entries).
    """

    def __init__(self, backend=None, cache_size: int = 50_000):
        if backend is None:
            from underthesea import word_tokenize as backend  # imported lazily: ~0.5 s
        self._backend = backend
        # underthesea loads its CRF model lazily into a module global on first use and is not safe
        # to call from several threads at once: every instance shares one lock (two instances with
        # their own locks once raced on that global: "'NoneType' object has no attribute 'process'").
        self._lock = _BACKEND_LOCK
        self._cached = lru_cache(maxsize=cache_size)(self._segment_uncached)

    def __call__(self, text: str) -> list[str]:
        return list(self._cached(text[:MAX_SEGMENT_CHARS]))

    def cache_info(self):
        return self._cached.cache_info()

    def _segment_uncached(self, text: str) -> tuple[str, ...]:
        if not text.strip():
            return ()
        try:
            with self._lock:
                words = self._backend(text)
        except Exception:  # the CRF segmenter must never take the bot down
            logger.exception("word segmentation failed; falling back to whitespace split")
            words = text.split()
        return tuple(w.replace(" ", "_") for w in words if w.strip())


_BACKEND_LOCK = threading.Lock()
_DEFAULT_LOCK = threading.Lock()
_default: Segmenter | None = None
WARM_UP_TEXT = "người lao động được nghỉ phép năm"


def default_segmenter() -> Segmenter:
    """The process-wide segmenter (one cache for every model loaded in the process)."""
    global _default
    with _DEFAULT_LOCK:
        if _default is None:
            _default = Segmenter()
        return _default


def warm_up() -> None:
    """Load the segmentation model now, before the first message (the runtime calls this when it
    prepares); raises if segmentation does not work, instead of silently splitting on spaces."""
    segmenter = default_segmenter()
    with segmenter._lock:
        words = segmenter._backend(WARM_UP_TEXT)
    if not words or not any(" " in w for w in words):  # no compound word found: not segmenting
        raise RuntimeError(f"word segmentation is not working (got {words!r})")


def segment(text: str) -> list[str]:
    """Segment ``text`` with the process-wide cached segmenter."""
    return default_segmenter()(text)
