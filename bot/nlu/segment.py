"""Long messages: sentences, and which of them ask something.

Workers often tell their story first and ask at the end, sometimes two things at once ("…công ty
nợ lương 2 tháng. Em nghỉ thì có được trợ cấp thôi việc không? Còn phép năm chưa nghỉ thì sao
ạ?"). ``sentences`` splits on sentence punctuation and line breaks (chat messages rarely end
sentences cleanly, so a comma followed by a question opener also splits); ``questions`` keeps the
sentences that ask (a question mark, or a Vietnamese question word).
"""

from __future__ import annotations

import re

from .entities import fold

# A message at least this long, or with more than one sentence, is read sentence by sentence too.
LONG_MESSAGE_CHARS = 140

_SPLIT = re.compile(r"(?<=[.!?…;])\s+|\n+|(?<=\?)(?=\S)")
# A comma starts a new question when the next words open one ("…, vậy em có được…", "…, còn…").
_CLAUSE = re.compile(r",\s*(?=(?:vay|the|con|cho (?:em|minh|toi|hoi)|xin hoi|em muon hoi|minh muon hoi|hoi)\b)")
_QUESTION = re.compile(
    r"\?|\b(?:khong|ko|k|hong|chua|ko a|khong a|sao|the nao|nhu the nao|ra sao|bao nhieu|bn|may|gi|nao|dau|ai|co duoc|duoc khong|dc ko"
    r"|co phai|phai khong|dung khong|hay khong|co can|tinh sao|lam sao|lam gi|bao gio|khi nao|bao lau|o dau|ha|nhi|chu)\b"
    r"\W*(?:a|ad|vay|z|nhe|nha|ak|ah|mn|ban|anh chi|chi|anh|em)?\W*$"
)
_ASK_OPENER = re.compile(r"^\W*(?:cho (?:em|minh|toi|chau|con) hoi|xin hoi|em muon hoi|minh muon hoi|hoi|tu van|giai dap)\b")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or clause, in order, without surrounding spaces."""
    folded = fold(text)
    spans, pos = [], 0
    cuts = sorted({m.end() for m in _SPLIT.finditer(text)} | {m.start() + 1 for m in _CLAUSE.finditer(folded)})
    for cut in [*cuts, len(text)]:
        chunk = text[pos:cut]
        stripped = chunk.strip(" \t\r\n,;")
        if stripped:
            start = pos + chunk.index(stripped)
            spans.append((start, start + len(stripped)))
        pos = cut
    return spans


def is_question(sentence: str) -> bool:
    folded = fold(sentence).strip()
    return bool(_QUESTION.search(folded) or _ASK_OPENER.match(folded))


def questions(text: str) -> list[str]:
    """The sentences of ``text`` that ask something (the last sentence if none does)."""
    spans = sentences(text)
    asked = [text[s:e] for s, e in spans if is_question(text[s:e])]
    if not asked and spans:
        asked = [text[spans[-1][0]: spans[-1][1]]]
    return asked


def is_long(text: str) -> bool:
    return len(text) >= LONG_MESSAGE_CHARS or len(sentences(text)) > 1


def is_real_question(sentence: str) -> bool:
    """A question worth an officer's time if the bot cannot answer it: it asks, and says something
    (at least six words), not just "đúng không ạ"."""
    return is_question(sentence) and len(fold(sentence).split()) >= 6
