"""Does a message tell what the employer did to the writer, without asking anything?

Workers who bring a dispute often just state it: "cty trả lương trễ 15-20 ngày mỗi tháng",
"chủ xưởng giữ căn cước của công nhân để không cho nghỉ". The classifier rightly finds the FAQ topic
(late wages, withheld papers), but the message is a personal dispute, which the union wants an
officer to see. A *dispute statement* is a message, normalised and without diacritics, that names
the writer's side (em, mình, tôi, chúng em, công nhân…) and the employer's side (công ty, chủ,
sếp, xưởng, giám đốc…) and has no question word or question mark.

Measured on the project's data (2026-11-27): 39 of 7,607 FAQ training examples and 2 of 485
calibration questions are dispute statements, against 93 of 264 complaint training examples and
11 of 50 calibration complaints. Requiring the writer's side keeps this low: with the employer alone,
160 FAQ examples would count.
"""

from __future__ import annotations

import re

_QUESTION = re.compile(
    r"\?|\b(sao|gi|nao|bao nhieu|may|the nao|ntn|hoi|lam sao|phai lam|dung luat|co duoc|ha|nhi|giup|xin|"
    r"cach|the|tinh|bao lau|bao gio|khi nao|o dau|ai)\b"
    # "không"/"chưa" ask only at the end ("... có được không ạ"); inside a sentence they negate.
    r"|\b(khong|chua)( (a|vay|v|z|ha|nhi|the|admin|mn|moi nguoi|anh chi|chi|anh|nhe|nha|ban))*\s*[.!]*\s*$"
)
_WRITER = re.compile(r"\b(em|minh|toi|tui|to|chung em|bon em|chung toi|con em|vo em|chong em|cong nhan)\b")
_EMPLOYER = re.compile(
    r"\b(cong ty|chu|sep|xuong|giam doc|quan ly|to truong|nhan su|truong phong|doanh nghiep|chu thau|ben em)\b"
)


def is_dispute_statement(plain: str) -> bool:
    """``plain``: the normalised message without diacritics (abbreviations already expanded)."""
    return bool(_WRITER.search(plain) and _EMPLOYER.search(plain) and not _QUESTION.search(plain))
