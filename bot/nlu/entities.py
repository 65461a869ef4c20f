"""Entities in Vietnamese worker messages: the facts of the worker's own case.

Rule- and lexicon-based, because these facts are exact: money as chat writes it ("8tr", "7tr5",
"8 triệu", "8.000.000đ", "500k", "30 nghìn một giờ"), durations ("3 năm 4 tháng", "3n5t",
"2 năm rưỡi", "từ 3/2021 đến 8/2024", "từ 2019 đến nay"), hours, days, month/year of birth, sex
(only where the text says it: "nam", "nữ", "lao động nữ"; never from a pronoun), day type, night
work, region, heavy/toxic work, contract type, and "no insurance paid".

Matching runs on a *folded* copy of the message: NFC, lower case, diacritics removed, one
character for one character, so every match maps back to exact offsets in the message. Where the
folded text is ambiguous ("nam" is both *năm*, year, and *nam*, male), the original is consulted.

Each entity is a Rasa-shaped dict: ``entity``, ``value``, ``start``, ``end``, ``extractor``, and
where it applies ``role`` (``salary``/``hourly``/``daily`` for money; ``bhtn``/``bhxh``/``probation``
for durations; ``sick`` for days) and ``approximate`` ("gần 3 năm", "từ 2019 đến nay").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

EXTRACTOR = "VietnameseRuleExtractor"

# Roman numerals and words for the minimum-wage regions.
_REGIONS = {"1": "I", "i": "I", "mot": "I", "2": "II", "ii": "II", "hai": "II", "3": "III", "iii": "III", "ba": "III",
            "4": "IV", "iv": "IV", "bon": "IV"}


def fold(text: str) -> str:
    """Lower case without diacritics, the same length as ``text`` (which must be NFC)."""
    out = []
    for ch in text:
        low = ch.lower()
        if len(low) != 1:
            low = ch
        base = unicodedata.normalize("NFD", low)[0]
        out.append("d" if base in "đĐ" else base)
    return "".join(out)


# --- numbers -------------------------------------------------------------------------------------

_NUM = r"\d+(?:[.,]\d+)*"


def _number(token: str) -> Decimal:
    """'9' -> 9, '7,5' / '7.5' -> 7.5, '8.000.000' / '8,000,000' -> 8000000 (exact, any size)."""
    token = token.strip()
    groups = re.split(r"[.,]", token)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        return Decimal("".join(groups))  # thousands separators
    if len(groups) == 2:
        return Decimal(f"{groups[0]}.{groups[1]}")
    return Decimal("".join(groups))


# --- money ---------------------------------------------------------------------------------------

_MONEY = re.compile(
    rf"(?P<neg>-\s*)?(?P<num>{_NUM})\s*(?P<unit>trieu|tr|cu|m|k|nghin|ngan|ng|ty|dong|vnd|d)?(?![a-z])"
)
# "7tr5", "7 triệu 500", "7tr500k", "7 triệu 500 nghìn": the part after the millions
_MILLION_TAIL = re.compile(r"\s*(?P<frac>\d{1,3})(?P<k>\s*(?:k|nghin|ngan))?(?![\d.,]\d)(?!\s*(?:nam|thang|ngay|tieng|gio|h|t|n|tuoi|lan|%)\b)")
_PER_HOUR = re.compile(r"^\s*(?:/|mot|1|moi|tren|1\s*)?\s*(?:/\s*)?(?:h|gio|tieng)\b")
_PER_DAY = re.compile(r"^\s*(?:/|mot|1|moi)\s*(?:ngay|cong)\b")
_PER_MONTH = re.compile(r"^\s*(?:/|mot|1|moi)\s*thang\b")
_SALARY_CUE = re.compile(r"(?:luong|lg|thu nhap|muc luong|hop dong|hd|bhxh|bhtn|dong bao hiem|binh quan|tra|nhan)\W*(?:\w+\W+){0,4}$")
_HOURLY_CUE = re.compile(r"(?:luong|lg|tien)\s*(?:theo\s*)?(?:gio|h|1 gio|mot gio|mot tieng)\W*(?:\w+\W+){0,2}$")
_DAILY_CUE = re.compile(r"(?:luong|lg|tien)\s*(?:theo\s*)?(?:ngay|cong)\W*(?:\w+\W+){0,2}$")


def _money(folded: str) -> Iterable[dict]:
    for m in _MONEY.finditer(folded):
        num, unit = m.group("num"), m.group("unit")
        end = m.end()
        if unit in ("trieu", "tr", "cu", "m"):
            value = _number(num) * 1_000_000
            tail = _MILLION_TAIL.match(folded, end)
            if tail and "." not in num and "," not in num:
                frac = tail.group("frac")
                value += int(frac) * 1000 if tail.group("k") else int(frac) * 10 ** (6 - len(frac))
                end = tail.end()
        elif unit in ("k", "nghin", "ngan", "ng"):
            value = _number(num) * 1000
        elif unit == "ty":
            value = _number(num) * 1_000_000_000
        else:
            groups = re.split(r"[.,]", num)
            grouped = len(groups) > 1 and all(len(g) == 3 for g in groups[1:])
            if not (grouped or (num.isdigit() and len(num) >= 5)) or _number(num) < 1000:
                continue  # "3", "2019", "7,5": not money without a unit
            if not grouped and re.match(r"^(?:19|20)\d{2}$", num):
                continue
            value = _number(num)
        before = folded[max(0, m.start() - 40): m.start()]
        after = folded[end: end + 16]
        role = None
        for pattern, name in ((_PER_HOUR, "hourly"), (_PER_DAY, "daily"), (_PER_MONTH, "salary")):
            hit = pattern.match(after)
            if hit:
                role = name
                end += hit.end()
                break
        if role is None:
            if _HOURLY_CUE.search(before):
                role = "hourly"
            elif _DAILY_CUE.search(before):
                role = "daily"
            elif _SALARY_CUE.search(before):
                role = "salary"
        if m.group("neg"):
            value = -value
        start = m.start() if m.group("neg") else m.start("num")
        yield _entity("money", int(value.to_integral_value()), start, end, role=role)


# --- durations -----------------------------------------------------------------------------------

_APPROX = re.compile(r"(?:gan|khoang|tam|hon|ngot|xap xi|chung|tren|duoi)\s*$")
_YEARS = r"(?:nam\b|n(?=\d|\b))"
_MONTHS = r"(?:thang|th|t)\b"
_DURATION = re.compile(
    rf"(?P<y>\d{{1,3}}(?:[.,]5)?)\s*{_YEARS}(?:\s*(?:va\s*)?(?P<ym>\d{{1,2}})\s*{_MONTHS}|\s*(?P<half>ruoi))?"
    rf"|(?P<m>\d{{1,3}})\s*{_MONTHS}(?P<mhalf>\s*ruoi)?"
    r"|(?P<halfyear>nua nam)"
)
# "từ ngày 01/03/2018 đến hết ngày 31/08/2024": exact dates; the end day counts as worked.
_DATE_SPAN = re.compile(
    r"tu\s*(?:ngay\s*)?(?P<d1>\d{1,2})\s*/\s*(?P<m1>\d{1,2})\s*/\s*(?P<y1>(?:19|20)\d{2})\s*(?:[a-z]+\s+){0,4}?(?:den|toi|-)\s*(?:het\s*)?(?:ngay\s*)?"
    r"(?P<d2>\d{1,2})\s*/\s*(?P<m2>\d{1,2})\s*/\s*(?P<y2>(?:19|20)\d{2})"
)
_SPAN = re.compile(
    r"tu\s*(?:thang\s*)?(?:(?P<m1>\d{1,2})\s*[/-]\s*|thang\s*(?P<m1b>\d{1,2})\s*(?:nam\s*)?)?(?:nam\s*)?(?P<y1>(?:19|20)\d{2})"
    r"\s*(?:den|toi|-|->)\s*(?:(?P<now>nay|bay gio|hien tai|gio)"
    r"|(?:thang\s*)?(?:(?P<m2>\d{1,2})\s*[/-]\s*|thang\s*(?P<m2b>\d{1,2})\s*(?:nam\s*)?)?(?:nam\s*)?(?P<y2>(?:19|20)\d{2}))"
)
_ROLE_CUES = (
    ("bhtn", re.compile(r"(?:bhtn|bao hiem that nghiep|that nghiep)")),
    ("bhxh", re.compile(r"(?:bhxh|bao hiem xa hoi|bao hiem)")),
    ("probation", re.compile(r"thu viec")),
)
# A duration right after these words is not working time: it is something else.
_NOT_WORK = re.compile(
    r"\b(?:nghi|om|sinh|thai san|huong|duoc huong|tro cap trong|sau|truoc|con|be|chau|no|no luong|cham|cham luong|tre|tre luong|thieu|muon|"
    r"khong tra|chua tra|bao truoc|thu viec|trong|trong vong|vong|cam ket|han|thoi han|hop dong|hd|ky)\b\s*(?:\w+\s*){0,1}$"
)


# "lương 6 tháng cuối", "6 tháng gần nhất": a reference period, not working time.
_NOT_WORK_AFTER = re.compile(r"\s*(?:cuoi|gan nhat|gan day|lien ke|truoc khi|dau tien|dau)\b")


_RATE_AFTER = re.compile(r"\s*(?:thi\s*)?(?:duoc|dc|duoc huong|co)\s*(?:nghi|huong|bao nhieu|bn|may)\b")


def _duration_role(folded: str, start: int, end: int) -> str | None:
    # Within the same clause: "đóng bhtn 1 năm", "đóng bảo hiểm thất nghiệp cho mình được 3 năm", "1 năm có BHTN".
    before = re.split(r"[.,;!?\n]", folded[max(0, start - 40): start])[-1]
    after = folded[end: end + 50]
    for role, cue in _ROLE_CUES:
        if cue.search(before) or re.match(rf"^\s*(?:(?:co|duoc|dc|da|dong|tham gia)\s*)*{cue.pattern}", after):
            return role
    return None


def _months_between(start: dt.date, last_day: dt.date) -> int:
    """Whole months from ``start`` to the end of ``last_day`` (both days worked)."""
    end = last_day + dt.timedelta(days=1)
    months = (end.year - start.year) * 12 + end.month - start.month
    return months if end.day >= start.day else months - 1


def _durations(folded: str, today: dt.date) -> Iterable[dict]:
    taken: list[tuple[int, int]] = []
    for m in _DATE_SPAN.finditer(folded):
        try:
            first = dt.date(int(m.group("y1")), int(m.group("m1")), int(m.group("d1")))
            last = dt.date(int(m.group("y2")), int(m.group("m2")), int(m.group("d2")))
        except ValueError:
            continue
        taken.append((m.start(), m.end()))
        yield _entity("duration", _months_between(first, last), m.start(), m.end(), role=_duration_role(folded, m.start(), m.end()))
    for m in _SPAN.finditer(folded):
        if any(s <= m.start() < e for s, e in taken):
            continue
        y1 = int(m.group("y1"))
        m1 = m.group("m1") or m.group("m1b")
        if m.group("now"):
            y2, m2 = today.year, today.month
        else:
            y2 = int(m.group("y2"))
            m2 = m.group("m2") or m.group("m2b")
            m2 = int(m2) if m2 else None
        approximate = m1 is None or m2 is None
        months = (y2 - y1) * 12 + ((m2 or 1) - (int(m1) if m1 else 1))
        if m1 and not (1 <= int(m1) <= 12) or (m2 and not (1 <= m2 <= 12)):
            continue
        taken.append((m.start(), m.end()))
        yield _entity("duration", months, m.start(), m.end(), role=_duration_role(folded, m.start(), m.end()), approximate=approximate)
    for m in _DURATION.finditer(folded):
        if any(s <= m.start() < e for s, e in taken):
            continue
        # "3 năm 2019", "năm 2020": a year, not a duration
        if m.group("y") and re.match(r"^\s*(?:19|20)\d{2}\b", folded[m.end():]):
            continue
        if m.group("m") and re.match(r"^\s*[/-]\s*(?:19|20)?\d{2}\b", folded[m.end():]):
            continue  # "3/2021"
        if m.group("m") and re.search(r"(?:sinh|sn|ngay|thang)\s*$", folded[max(0, m.start() - 8): m.start()]):
            continue  # "sinh tháng 3", "ngày 5 tháng 3"
        if m.group("halfyear"):
            months = 6
        elif m.group("y"):
            years = _number(m.group("y"))
            months = int(years * 12) + (int(m.group("ym")) if m.group("ym") else 0) + (6 if m.group("half") else 0)
        else:
            months = int(m.group("m"))
        # "t" and "n" alone are too ambiguous ("8 t" may be "tôi"): accepted only glued to the number ("3n5t")
        if m.group("m") and re.fullmatch(r"\d+\s+t", m.group(0)):
            continue
        if m.group("y") and re.fullmatch(r"[\d.,]+\s+n", " ".join(m.group(0).split()[:2])):
            continue
        before = folded[max(0, m.start() - 12): m.start()]
        approximate = bool(_APPROX.search(before))
        salary_period = _NOT_WORK_AFTER.match(folded, m.end()) and re.search(r"\b(?:luong|lg|thu nhap|binh quan)\b", folded[max(0, m.start() - 25): m.start()])
        if _RATE_AFTER.match(folded, m.end()) or salary_period:
            role = "other"  # "1 năm được nghỉ 12 ngày" (a rate), "lương 6 tháng cuối" (a reference period)
        else:
            role = _duration_role(folded, m.start(), m.end())
            if role is None and (_NOT_WORK_AFTER.match(folded, m.end()) or _NOT_WORK.search(folded[max(0, m.start() - 20): m.start()])):
                role = "other"
        yield _entity("duration", months, m.start(), m.end(), role=role, approximate=approximate)


# --- hours, days, ages, birth --------------------------------------------------------------------

_HOURS = re.compile(rf"(?P<n>{_NUM})\s*(?:tieng|gio|h)\b(?!\s*(?:/|sang|chieu|toi|dem)\b)(?:\s*(?P<half>ruoi))?")
_CLOCK_SPAN = re.compile(r"(?:tu\s*)?\b(?P<a>\d{1,2})\s*(?:h|gio)(?:\s*(?:toi|dem|sang))?\s*(?:den|toi|-)\s*(?P<b>\d{1,2})\s*(?:h|gio)(?:\s*(?:sang|dem|toi))?")
_DAYS = re.compile(r"(?P<n>\d{1,4})\s*(?:ngay|bua)\b")
_AGE = re.compile(r"(?P<n>\d{1,3})\s*tuoi\b")
_BIRTH = re.compile(
    r"(?:sinh|sn|ngay sinh|nam sinh|de nam)\s*(?:vao\s*)?(?:ngay\s*\d{1,2}\s*[/-]?\s*)?"
    r"(?:(?:thang\s*)?(?P<m>\d{1,2})\s*(?:[/-]|nam|\s)\s*|thang\s*(?P<mw>\d{1,2})\s*(?:nam\s*)?|nam\s*)?(?P<y>\d{4})"
)


def _hours(folded: str) -> Iterable[dict]:
    spans = []
    for m in _CLOCK_SPAN.finditer(folded):
        a, b = int(m.group("a")), int(m.group("b"))
        if a > 24 or b > 24:
            continue
        hours = (b - a) % 24 or 24
        spans.append((m.start(), m.end()))
        yield _entity("hours", float(hours), m.start(), m.end(), clock=[a, b])
        night = sum(1 for h in range(hours) if (a + h) % 24 >= 22 or (a + h) % 24 < 6)
        if night:
            yield _entity("night", True, m.start(), m.end(), night_hours=float(night))
    for m in _HOURS.finditer(folded):
        if any(s <= m.start() < e for s, e in spans):
            continue
        if re.search(r"\b(?:luc|tu|den|toi|khoang|truoc|sau|qua|gan|tam)\s*$", folded[max(0, m.start() - 7): m.start()]):
            continue  # a time of day, not a number of hours
        n = float(_number(m.group("n"))) + (0.5 if m.group("half") else 0)
        yield _entity("hours", n, m.start(), m.end())


def _days(folded: str) -> Iterable[dict]:
    for m in _DAYS.finditer(folded):
        before = folded[max(0, m.start() - 25): m.start()]
        role = "sick" if re.search(r"(?:om|benh|nam vien|dieu tri)", before + folded[m.end(): m.end() + 15]) else None
        yield _entity("days", int(m.group("n")), m.start(), m.end(), role=role)


def _ages(folded: str) -> Iterable[dict]:
    for m in _AGE.finditer(folded):
        yield _entity("age", int(m.group("n")), m.start(), m.end())


def _birth(folded: str) -> Iterable[dict]:
    for m in _BIRTH.finditer(folded):
        month = m.group("m") or m.group("mw")
        year = int(m.group("y"))
        if month:
            yield _entity("birth", f"{year:04d}-{int(month):02d}", m.start(), m.end())
        else:
            yield _entity("birth", f"{year:04d}", m.start(), m.end())


# --- words ---------------------------------------------------------------------------------------

_SEX = re.compile(
    r"(?:(?:la|gioi tinh|lao dong|nguoi|cong nhan|nhan vien|nld|ld|cn|toi|em|minh|chi|anh|co|ba|ong|chau|con)\s+(?:la\s+)?|^|[\s,(])"
    r"(?P<w>nam gioi|nu gioi|nam|nu)\b"
)
_DAY_TYPES = (
    ("le", re.compile(r"\b(?:ngay le|nghi le|le tet|ngay tet|dip tet|tet|le|mung \d|30/4|1/5|2/9|quoc khanh|gio to|ngay 1/1|tet duong lich)\b")),
    ("nghi_tuan", re.compile(
        r"\b(?:chu nhat|ngay nghi hang tuan|nghi hang tuan|ngay nghi tuan|ngay nghi"
        r"|(?:ngay|lam|vao|toi|sang|chieu|dem|nghi) cn|cn (?:r|roi|vua|vua roi|tuan truoc|qua|truoc))\b")),
    # Monday to Friday are working days everywhere; Saturday depends on the company, so it is not read.
    ("thuong", re.compile(r"\b(?:ngay thuong|ngay lam viec binh thuong|ngay binh thuong|ngay lam viec|thu (?:2|3|4|5|6|hai|ba|tu|nam|sau)|t[2-6])\b")),
)
_NIGHT = re.compile(r"\b(?:ban dem|ca dem|lam dem|tang ca dem|dem|ca 3(?!\s*(?:tieng|gio|h|buoi|ngay|lan))|tu 22h?|sau 22h?)\b")
_REGION = re.compile(r"\bvung\s*(?P<r>iv|iii|ii|i|1|2|3|4|mot|hai|ba|bon)\b")
_HAZARD = re.compile(r"\b(?:nang nhoc|doc hai|nguy hiem|nang nhoc doc hai)\b")
_NEGATION_BEFORE = re.compile(r"\b(?:khong|ko|k|chang|cha|khong phai|ko phai|chu khong)\s*(?:\w+\s*){0,4}$")
_CONTRACT = (
    ("khong_xac_dinh_thoi_han", re.compile(r"\b(?:khong xac dinh thoi han|vo thoi han|khong thoi han|hd khong xac dinh)\b")),
    ("xac_dinh_thoi_han", re.compile(r"\b(?:xac dinh thoi han|co thoi han|hop dong \d+ nam|hd \d+ nam)\b")),
    ("thoi_vu", re.compile(r"\b(?:thoi vu|mua vu)\b")),
)
_NO_INSURANCE = re.compile(
    r"\b(?:(?:khong|ko|k|hong|kh) (?:he |duoc |co )?(?:dong|tham gia|mua) (?:bao hiem|bhxh|bhtn|bh)"
    r"|chua (?:tung |bao gio )?(?:duoc )?dong (?:bao hiem|bhxh|bhtn|bh)|(?:khong|ko) co (?:bao hiem|bhxh|bhtn|bh))\b"
)


# "nam" after these is a place ("Việt Nam", "miền Nam"), before these a count of years.
_PLACE_BEFORE = re.compile(r"(?:viet|mien|ha|quang|long|hai|song|phuong)\s*$")
_YEAR_AFTER = re.compile(r"^\s*(?:\d|nay|ngoai|truoc|sau|roi|ruoi|thu|mien|bo|dinh|viet)")
# "nữ" after these is part of another word ("phụ nữ" is still a woman; "thiếu nữ", "công nữ" are not the writer).
_NU_COMPOUND = re.compile(r"(?:thieu|cong|ky|ca|hoang|ban|my)\s*$")


def _sex(folded: str, text: str) -> Iterable[dict]:
    for m in _SEX.finditer(folded):
        s, e = m.span("w")
        written = text[s:e].lower()
        if m.group("w").startswith("nam"):
            # Without diacritics "nam" may be "năm" (year): never guess.
            if written[:3] != "nam" or _YEAR_AFTER.match(folded[e: e + 12]) or _PLACE_BEFORE.search(folded[max(0, s - 8): s]):
                continue
            yield _entity("sex", "nam", s, e)
        elif not _NU_COMPOUND.search(folded[max(0, s - 7): s]):
            yield _entity("sex", "nu", s, e)


def _words(folded: str) -> Iterable[dict]:
    for value, pattern in _DAY_TYPES:
        for m in pattern.finditer(folded):
            yield _entity("day_type", value, m.start(), m.end())
    for m in _NIGHT.finditer(folded):
        yield _entity("night", True, m.start(), m.end())
    for m in _REGION.finditer(folded):
        yield _entity("region", _REGIONS[m.group("r")], m.start(), m.end())
    for m in _HAZARD.finditer(folded):
        # "không phải nặng nhọc độc hại": said, and denied
        negated = _NEGATION_BEFORE.search(re.split(r"[.,;!?\n]", folded[max(0, m.start() - 30): m.start()])[-1])
        yield _entity("hazardous", not negated, m.start(), m.end(), negated=bool(negated))
    for value, pattern in _CONTRACT:
        for m in pattern.finditer(folded):
            yield _entity("contract_type", value, m.start(), m.end())
    for m in _NO_INSURANCE.finditer(folded):
        yield _entity("insurance", "none", m.start(), m.end())


def _places(folded: str, places: Mapping[str, str]) -> Iterable[dict]:
    for name, region in places.items():
        key = fold(unicodedata.normalize("NFC", name))
        for m in re.finditer(rf"\b{re.escape(key)}\b", folded):
            yield _entity("region", region, m.start(), m.end(), place=name)


# --- the extractor -------------------------------------------------------------------------------


def _entity(name: str, value, start: int, end: int, **extra) -> dict:
    entity = {"entity": name, "value": value, "start": start, "end": end, "extractor": EXTRACTOR}
    entity.update({k: v for k, v in extra.items() if v is not None and v is not False})
    if value is False:
        entity["value"] = False
    return entity


def _overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


# Earlier kinds win an overlap: "8 triệu" is money, not a duration; "tháng 3/1970" is a birth.
_BY_PRIORITY = (_birth, _money, _durations, _hours, _days, _ages)


class EntityExtractor:
    """``extract(text)`` → Rasa-shaped entities, sorted by position.

    ``places`` maps a place name to a minimum-wage region ("Thuận An": "I"), from the table each
    union keeps in ``faq/places.yml``; ``today`` (injectable) resolves "đến nay".
    """

    def __init__(self, places: Mapping[str, str] | None = None, today: Callable[[], dt.date] = dt.date.today):
        self.places = dict(places or {})
        self.today = today

    def extract(self, text: str) -> list[dict]:
        if not text:
            return []
        text = unicodedata.normalize("NFC", text)[:4000]
        folded = fold(text)
        ranked: list[dict] = []
        found = [e for extract in _BY_PRIORITY for e in (extract(folded, self.today()) if extract is _durations else extract(folded))]
        for entity in [*found, *_words(folded), *_sex(folded, text), *_places(folded, self.places)]:
            if entity["entity"] == "night" or not any(_overlaps(entity, other) for other in ranked):  # night may overlap hours
                ranked.append(entity)
        ranked.sort(key=lambda e: (e["start"], e["end"]))
        return _dedupe(ranked)


def _dedupe(entities: list[dict]) -> list[dict]:
    seen, out = set(), []
    for e in entities:
        key = (e["entity"], e["start"], e["end"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
