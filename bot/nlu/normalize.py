"""Text normalisation for Vietnamese chat messages.

The pipeline, in order:

1. Unicode NFC, so that precomposed and combining forms compare equal.
2. Personal data (URLs, e-mails, ID-card and phone numbers) replaced by placeholder words, so they
   neither leak into features nor into logs.
3. Lower-casing, emoji removed, elongations collapsed ("nhaaa" -> "nha").
4. One tone-mark placement per syllable ("hoà" and "hòa" both become "hòa").
5. Money amounts written the chat way ("6tr", "500k") spelled out.
6. Abbreviations and teencode expanded from a table maintainers edit (``nlu_data/abbreviations.yml``).

``strip_accents`` removes every Vietnamese diacritic ("điều khoản" -> "dieu khoan"); the classifier
uses it to build features that also match messages typed without diacritics.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import yaml_lines

logger = logging.getLogger(__name__)

PLACEHOLDER_URL = "zzurl"
PLACEHOLDER_EMAIL = "zzemail"
PLACEHOLDER_PHONE = "zzphone"
PLACEHOLDER_IDCARD = "zzidcard"

# --- diacritics -------------------------------------------------------------------------------

# Tone marks as combining characters (after NFD): huyền, sắc, hỏi, ngã, nặng.
_TONE_MARKS = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
# Letters that carry a vowel-quality mark; in a cluster the tone goes on them.
_MARKED_VOWELS = set("ăâêôơ")


def strip_accents(text: str) -> str:
    """Remove all Vietnamese diacritics (tones and vowel marks), and map đ to d."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return kept.replace("đ", "d").replace("Đ", "D")


def _split_tone(syllable: str) -> tuple[str, str | None]:
    """Return the syllable without its tone mark (NFC) and the tone mark (or None)."""
    tone = None
    out = []
    for ch in unicodedata.normalize("NFD", syllable):
        if ch in _TONE_MARKS:
            tone = ch
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out)), tone


def _tone_position(base: str) -> int | None:
    """Index in ``base`` (a toneless lower-case syllable) where the tone mark belongs.

    Uses the traditional placement ("hòa", "thủy", "khỏe"), which most Vietnamese text uses.
    """
    # Locate the vowel cluster, treating the "u" of "qu" and the "i" of "gi" as consonants.
    start = 0
    if base.startswith("qu"):
        start = 2
    elif base.startswith("gi") and len(base) > 2 and base[2] in _VOWELS:
        start = 2
    i = start
    while i < len(base) and base[i] not in _VOWELS:
        i += 1
    if i >= len(base):
        # "gi" alone ("gì") or no vowel: put the tone on the last vowel-ish letter if any.
        for j in range(len(base) - 1, -1, -1):
            if base[j] in _VOWELS:
                return j
        return None
    j = i
    while j < len(base) and base[j] in _VOWELS:
        j += 1
    cluster = range(i, j)
    has_final = j < len(base)
    for k in cluster:
        if base[k] in _MARKED_VOWELS:
            # "ươ": the tone goes on ơ; the loop finds ơ last only if we search from the end.
            last_marked = max(m for m in cluster if base[m] in _MARKED_VOWELS)
            return last_marked
    n = len(cluster)
    if n == 1:
        return i
    if has_final:
        return j - 1
    if n == 2:
        return i
    return i + 1


def normalize_tone_placement(text: str) -> str:
    """Put every syllable's tone mark in one canonical place (input must be lower case NFC)."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        base, tone = _split_tone(word)
        if tone is None:
            return word
        pos = _tone_position(base)
        if pos is None:
            return word
        placed = base[: pos + 1] + tone + base[pos + 1 :]
        return unicodedata.normalize("NFC", placed)

    return _WORD_RE.sub(fix, text)


_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)

# --- personal data ----------------------------------------------------------------------------

_URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9.-]+\.(?:com|vn|net|org|me|ly|io)(?:/\S*)?\b")
_EMAIL_RE = re.compile(r"(?i)\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Numbers may be typed with spaces or dots between groups: "0912 345 678", "0912.345.678".
_PHONE_RE = re.compile(r"(?<![\w.])(?:\+?84|0)(?:[ .\-]?\d){8,10}(?![\w])")
_IDCARD_RE = re.compile(r"(?<![\w.])\d{12}(?!\w)|(?<![\w.])\d{9}(?!\w)")


def mask_personal_data(text: str) -> str:
    """Replace URLs, e-mail addresses, ID-card and phone numbers with placeholder words."""
    text = _EMAIL_RE.sub(f" {PLACEHOLDER_EMAIL} ", text)
    text = _URL_RE.sub(f" {PLACEHOLDER_URL} ", text)
    text = _IDCARD_RE.sub(f" {PLACEHOLDER_IDCARD} ", text)
    text = _PHONE_RE.sub(f" {PLACEHOLDER_PHONE} ", text)
    return text


# --- emoji, elongation, punctuation ---------------------------------------------------------

_EMOJI_RE = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols & pictographs ext.
    "\u2600-\u27bf"  # misc symbols, dingbats
    "\u2b00-\u2bff"
    "\ufe0f\u200d"  # variation selector, zero-width joiner
    "\U000e0000-\U000e007f"
    "]+"
)
_TEXT_EMOTICON_RE = re.compile(r"(?<!\w)(?::\)+|:\(+|:d+|=\)+|<3|:v|\^\^|:p)(?!\w)", re.IGNORECASE)
_REPEATED_PUNCT_RE = re.compile(r"([!?.,])\1+")
_SPACE_RE = re.compile(r"\s+")
# Money written the chat way: "6tr", "6 tr" -> "6 triệu"; "500k" -> "500 nghìn" (digits attached only:
# a lone "k" is "không").
_MILLION_RE = re.compile(r"(\d)\s?tr(?![^\W\d])")  # "4tr5" too
_THOUSAND_RE = re.compile(r"(\d)k(?![\w])")


def collapse_elongation(text: str) -> str:
    """Collapse elongated letters: "nhaaa" -> "nha", "điiii" -> "đi", "hảaaa" -> "hả", "hmmm" -> "hm".

    A vowel repeated three or more times (ignoring tone marks) is collapsed anywhere; a consonant
    only at the end of a word, so that acronyms such as "cccd" survive.
    """

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        bases = strip_accents(word).lower()
        if len(bases) != len(word):  # not one base letter per character: compare letter by letter
            bases = "".join(strip_accents(ch).lower()[:1] or ch for ch in word)
        if not _has_run(bases, 3):
            return word  # the common case: nothing elongated
        if len(set(bases)) == 1:
            return word  # "kkkkk" is laughter, not the teencode "k"
        out: list[str] = []
        i = 0
        while i < len(word):
            base = bases[i]
            j = i + 1
            while j < len(word) and bases[j] == base:
                j += 1
            run = j - i
            if run >= 3 and (base in _PLAIN_VOWELS or j == len(word)):
                out.append(word[i])
            else:
                out.append(word[i:j])
            i = j
        return "".join(out)

    return _WORD_RE.sub(fix, text)


_PLAIN_VOWELS = set("aeiouy")


def _has_run(s: str, n: int) -> bool:
    run = 1
    for a, b in zip(s, s[1:]):
        run = run + 1 if a == b else 1
        if run >= n:
            return True
    return False


# --- abbreviations ------------------------------------------------------------------------------


class AbbreviationTableError(ValueError):
    """The abbreviation table file is malformed."""


def load_abbreviations(path: str | Path) -> dict[str, str]:
    """Read the maintainers' abbreviation table: a YAML mapping ``short: expansion``.

    Keys are matched as whole tokens, case-insensitively, with or without diacritics as written.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = yaml_lines.error_location(exc, str(path))
        raise AbbreviationTableError(f"{where}: YAML không hợp lệ ({getattr(exc, 'problem', exc)})") from exc
    except (ValueError, TypeError, RecursionError) as exc:  # an impossible date, a huge integer, nesting too deep
        raise AbbreviationTableError(f"{path}: YAML không đọc được ({type(exc).__name__})") from None
    table = (data or {}).get("abbreviations", data) if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise AbbreviationTableError(f"{path}: cần một bảng 'abbreviations:' dạng viết_tắt: từ_đầy_đủ")
    result: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(key, str) or not isinstance(value, str) or not key.strip() or not value.strip():
            raise AbbreviationTableError(f"{path}: mục {key!r}: {value!r} phải là hai chuỗi không rỗng")
        k = normalize_tone_placement(unicodedata.normalize("NFC", key.strip().lower()))
        result[k] = normalize_tone_placement(unicodedata.normalize("NFC", value.strip().lower()))
    return result


@dataclass
class Normalizer:
    """Callable text normaliser; ``abbreviations`` maps whole tokens to their expansion."""

    abbreviations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._abbr = dict(self.abbreviations)
        if self._abbr:
            keys = sorted(self._abbr, key=len, reverse=True)
            alternatives = "|".join(re.escape(k) for k in keys)
            self._abbr_re: re.Pattern[str] | None = re.compile(
                rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])", re.UNICODE
            )
        else:
            self._abbr_re = None

    def __call__(self, text: str) -> str:
        return self.normalize(text)

    def normalize(self, text: str) -> str:
        if not text:
            return ""
        text = unicodedata.normalize("NFC", str(text))
        text = mask_personal_data(text)
        text = text.lower()
        text = _EMOJI_RE.sub(" ", text)
        text = _TEXT_EMOTICON_RE.sub(" ", text)
        text = collapse_elongation(text)
        text = _REPEATED_PUNCT_RE.sub(r"\1", text)
        text = normalize_tone_placement(text)
        text = _MILLION_RE.sub(r"\1 triệu ", text)
        text = _THOUSAND_RE.sub(r"\1 nghìn", text)
        if self._abbr_re is not None:
            text = self._abbr_re.sub(lambda m: self._abbr[m.group(0)], text)
        return _SPACE_RE.sub(" ", text).strip()


def default_normalizer(abbreviations_path: str | Path | None = None) -> Normalizer:
    """A normaliser with the project's abbreviation table (if the file exists)."""
    if abbreviations_path is None:
        abbreviations_path = Path(__file__).resolve().parents[2] / "nlu_data" / "abbreviations.yml"
    path = Path(abbreviations_path)
    if path.exists():
        return Normalizer(load_abbreviations(path))
    logger.warning("abbreviation table %s not found; continuing without it", path)
    return Normalizer({})
