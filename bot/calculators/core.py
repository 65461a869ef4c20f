"""Shared pieces of the labor-rights calculators: the result types, fact questions, validation, formatting.

Standard library only, no I/O: a calculator takes ``{fact_name: value}`` and returns a ``Calculation``,
raises ``MissingFacts`` (what to ask next, most important first) or ``InvalidFacts`` (a polite
Vietnamese request to check one number). Money is computed with ``Decimal`` and rounded half up to
whole đồng.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from zoneinfo import ZoneInfo

# The date on which every rule in this package was last checked against the legal texts.
AS_OF = dt.date(2026, 12, 3)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

MAX_MONTHS = 600  # 50 years with one employer / of contributions
MAX_SALARY = 1_000_000_000  # đồng per month
MAX_HOURLY = 10_000_000  # đồng per hour


def today() -> dt.date:
    """Today in Vietnam (the calculators that depend on the date accept ``today=`` for tests)."""
    return dt.datetime.now(VN_TZ).date()


@dataclass(frozen=True)
class Fact:
    name: str
    question: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Calculation:
    kind: str
    value: int | float | str
    unit: str
    summary: str
    steps: tuple[str, ...]
    assumptions: tuple[str, ...]
    legal_basis: str
    as_of: dt.date
    eligible: bool = True


class InvalidFacts(ValueError):
    """Absurd input. ``str(exc)`` is a polite Vietnamese request naming the number to check; ``names`` the facts concerned."""

    def __init__(self, message: str, names: tuple[str, ...] = ()):
        super().__init__(message)
        self.names = tuple(names)


class MissingFacts(Exception):
    """Required facts are missing; ``names`` lists them in the order they should be asked."""

    def __init__(self, names):
        self.names = tuple(names)
        super().__init__(", ".join(self.names))


@dataclass(frozen=True)
class Calculator:
    name: str
    title: str
    required: tuple[Fact, ...]
    optional: tuple[Fact, ...]
    compute: Callable[[dict], Calculation]


YES_NO = (("Có", "co"), ("Không", "khong"))

FACTS: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact("months_worked", "Bạn đã làm việc cho công ty này bao lâu (ví dụ: 3 năm 5 tháng)?"),
        Fact("bhtn_months", "Trong thời gian làm ở công ty này, bạn đã đóng bảo hiểm thất nghiệp bao lâu (ví dụ: 2 năm; chưa đóng thì trả lời 0)?"),
        Fact("bhxh_months", "Bạn đã đóng bảo hiểm xã hội tổng cộng bao lâu (ví dụ: 16 năm)?"),
        Fact("salary", "Lương tháng theo hợp đồng của bạn là bao nhiêu (ví dụ: 9 triệu)?"),
        Fact("hourly_wage", "Tiền lương một giờ làm việc bình thường của bạn là bao nhiêu? Nếu không rõ, bạn cho mình biết lương tháng nhé (ví dụ: 9 triệu)."),
        Fact("hours", "Bạn đã làm thêm bao nhiêu giờ (ví dụ: 3 giờ)?"),
        Fact("day_type", "Bạn làm thêm vào ngày nào?", (("Ngày thường", "thuong"), ("Ngày nghỉ hằng tuần", "nghi_tuan"), ("Ngày lễ, Tết", "le"))),
        Fact("night", "Giờ làm thêm có rơi vào ban đêm (từ 22 giờ đến 6 giờ sáng) không?", YES_NO),
        Fact("daytime_overtime", "Trong ngày đó, trước khi làm thêm ban đêm, bạn có làm thêm giờ vào ban ngày không?", YES_NO),
        Fact("birth_year", "Bạn sinh năm nào (ví dụ: 1968)?"),
        Fact("birth_month", "Bạn sinh tháng mấy (từ 1 đến 12)?"),
        Fact("sex", "Giới tính của bạn là gì?", (("Nam", "nam"), ("Nữ", "nu"))),
        Fact("hazardous", "Bạn có làm nghề, công việc nặng nhọc, độc hại, nguy hiểm không?", YES_NO),
        Fact("region", "Nơi bạn làm việc thuộc vùng lương tối thiểu nào?", (("Vùng I", "I"), ("Vùng II", "II"), ("Vùng III", "III"), ("Vùng IV", "IV"))),
        Fact("months_this_year", "Năm nay bạn đã làm việc được mấy tháng (ví dụ: 6 tháng)?"),
        Fact("sick_days", "Bạn nghỉ ốm bao nhiêu ngày làm việc (không tính ngày nghỉ hằng tuần, lễ, Tết)?"),
        Fact("minor_or_disabled", "Bạn là người chưa thành niên (dưới 18 tuổi) hoặc người khuyết tật phải không?", YES_NO),
    )
}


def fact(name: str, question: str | None = None) -> Fact:
    """The shared fact, optionally with a question worded for one calculator."""
    base = FACTS[name]
    return base if question is None else replace(base, question=question)


# Vietnamese nouns used in validation messages.
NOUNS = {
    "months_worked": "thời gian làm việc",
    "bhtn_months": "thời gian đóng bảo hiểm thất nghiệp",
    "bhxh_months": "thời gian đóng bảo hiểm xã hội",
    "salary": "mức lương",
    "hourly_wage": "tiền lương một giờ",
    "hours": "số giờ làm",
    "day_type": "loại ngày làm thêm",
    "birth_year": "năm sinh",
    "birth_month": "tháng sinh",
    "sex": "giới tính",
    "region": "vùng lương tối thiểu",
    "months_this_year": "số tháng làm việc trong năm nay",
    "sick_days": "số ngày nghỉ ốm",
}

# Units echoed after a rejected number.
UNITS = {"hours": "giờ", "sick_days": "ngày", "months_this_year": "tháng"}


# ---------------------------------------------------------------- formatting


def _group(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return ".".join(out)


def format_money(v: int) -> str:
    """15750000 -> '15.750.000' (dots between thousands, no unit)."""
    v = int(v)
    return ("-" if v < 0 else "") + _group(str(abs(v)))


def format_number(x: float | int | Decimal) -> str:
    """3.5 -> '3,5'; 12.0 -> '12'; 1234.25 -> '1.234,25' (at most two decimals, rounded half up)."""
    d = x if isinstance(x, Decimal) else Decimal(str(x))
    if not d.is_finite():
        return str(x)
    with localcontext() as ctx:
        ctx.prec = max(28, d.adjusted() + 10)
        d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    whole, _, frac = f"{abs(d):f}".partition(".")
    frac = frac.rstrip("0")
    return sign + _group(whole) + ("," + frac if frac else "")


def format_duration(months: int) -> str:
    """41 -> '3 năm 5 tháng'; 24 -> '2 năm'; 7 -> '7 tháng'; 0 -> '0 tháng'."""
    years, rest = divmod(int(months), 12)
    if years and rest:
        return f"{years} năm {rest} tháng"
    if years:
        return f"{years} năm"
    return f"{rest} tháng"


def round_money(amount: Decimal) -> int:
    """Whole đồng, half up."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(amount: int | Decimal) -> str:
    """'15.750.000 đồng'."""
    return f"{format_money(round_money(Decimal(amount)))} đồng"


# ---------------------------------------------------------------- reading facts


def present(facts: Mapping, name: str) -> bool:
    value = facts.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def require(facts: Mapping, names: tuple[str, ...]) -> None:
    """Raise MissingFacts for the names (in this order) that have no value."""
    missing = [n for n in names if not present(facts, n)]
    if missing:
        raise MissingFacts(missing)


def _shown(name: str, value) -> str | None:
    """How a rejected value is echoed back, or None when it is too odd to repeat."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() < 13:  # exact: abs() may overflow
        if name.endswith("months") or name == "months_worked":
            if value == value.to_integral_value() and value >= 0:
                return format_duration(int(value))
            return f"{format_number(value)} tháng"
        if name in ("salary", "hourly_wage"):
            return f"{format_number(value)} đồng"
        if name == "birth_year":
            return str(value)
        unit = UNITS.get(name)
        return f"{format_number(value)} {unit}" if unit else format_number(value)
    if isinstance(value, str) and len(value) <= 20:
        return f"“{value}”"
    return None


def invalid(name: str, value=None, reason: str = "") -> InvalidFacts:
    """A polite Vietnamese request to check one fact (``reason`` is appended as a short explanation)."""
    noun = NOUNS.get(name, name)
    shown = _shown(name, value)
    head = f"Mình thấy {noun} bạn cho biết ({shown}) chưa hợp lý" if shown else f"Mình thấy {noun} bạn cho biết chưa hợp lý"
    tail = f" {reason}" if reason else ""
    return InvalidFacts(f"{head}.{tail} Bạn vui lòng kiểm tra lại {noun} giúp mình nhé.", (name,))


_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


def _decimal(facts: Mapping, name: str) -> Decimal:
    raw = facts[name]
    if isinstance(raw, bool):
        raise invalid(name)
    try:
        if isinstance(raw, Decimal):
            d = raw
        elif isinstance(raw, int):
            d = Decimal(raw)
        elif isinstance(raw, float):
            d = Decimal(repr(raw))
        elif isinstance(raw, str):
            text = raw.strip()
            if _THOUSANDS.fullmatch(text):  # "9.000.000" written the Vietnamese way
                text = text.replace(".", "")
            d = Decimal(text.replace(",", "."))
        else:
            raise invalid(name)
    except (InvalidOperation, ValueError, OverflowError):
        raise invalid(name, str(raw)) from None
    if not d.is_finite():
        raise invalid(name)
    return d


def number(facts: Mapping, name: str, *, low: Decimal | int, high: Decimal | int, low_inclusive: bool = True, reason: str = "") -> Decimal:
    """A number within [low, high] (or (low, high] when ``low_inclusive`` is false)."""
    d = _decimal(facts, name)
    too_low = d < low if low_inclusive else d <= low
    if too_low or d > high:
        raise invalid(name, d, reason)
    return d


def integer(facts: Mapping, name: str, *, low: int, high: int, reason: str = "") -> int:
    d = number(facts, name, low=low, high=high, reason=reason)
    if d != d.to_integral_value():
        hint = "Con số này cần là số tháng tròn, ví dụ 12 tháng chứ không phải 12,5 tháng." if "months" in name else "Con số này cần là số nguyên."
        raise invalid(name, d, hint)
    return int(d)


def months(facts: Mapping, name: str) -> int:
    """A count of months between 0 and 50 years."""
    return integer(facts, name, low=0, high=MAX_MONTHS, reason="Con số này cần từ 0 đến 50 năm.")


def salary(facts: Mapping, name: str = "salary") -> Decimal:
    return number(facts, name, low=0, high=MAX_SALARY, low_inclusive=False, reason="Mức lương tháng cần lớn hơn 0 và không quá 1 tỷ đồng.")


_TRUE = {"co", "có", "true", "yes", "1", "y", "phai", "phải", "dung", "đúng"}
_FALSE = {"khong", "không", "false", "no", "0", "n", "ko", "k"}


def flag(facts: Mapping, name: str, default: bool = False) -> bool:
    """A yes/no fact: bools, or the quick-reply values 'co' / 'khong' (and a few spellings)."""
    if not present(facts, name):
        return default
    raw = facts[name]
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    # Echo only what prints safely: str() of an integer beyond 4,300 digits raises ValueError.
    shown = str(raw)[:20] if isinstance(raw, (str, float, Decimal)) or (isinstance(raw, int) and abs(raw) < 10**20) else ""
    answer = f"câu trả lời “{shown}”" if shown else "câu trả lời này"
    raise InvalidFacts(f"Mình chưa hiểu {answer}. Bạn vui lòng trả lời “Có” hoặc “Không” giúp mình nhé.", (name,))


CHOICE_HINTS = {
    "day_type": "Bạn chọn giúp mình: ngày thường, ngày nghỉ hằng tuần hoặc ngày lễ, Tết.",
    "region": "Vùng lương tối thiểu là vùng I, II, III hoặc IV.",
}


def choice(facts: Mapping, name: str, allowed: tuple[str, ...]) -> str:
    raw = facts[name]
    text = raw.strip() if isinstance(raw, str) else raw
    for option in allowed:
        if isinstance(text, str) and text.lower() == option.lower():
            return option
    if name == "sex":
        raise InvalidFacts("Tuổi nghỉ hưu theo luật được tính riêng cho lao động nam và lao động nữ. Bạn vui lòng chọn “Nam” hoặc “Nữ” giúp mình nhé.", (name,))
    raise invalid(name, raw if isinstance(raw, str) else None, CHOICE_HINTS.get(name, ""))


# ---------------------------------------------------------------- shared rules


def allowance_years(months_count: int) -> Decimal:
    """Years counted for severance / job-loss allowance (NĐ 145/2020 Điều 8 k3).

    Whole years, plus half a year for 1–6 odd months and a whole year for more than 6.
    """
    years, odd = divmod(months_count, 12)
    if odd == 0:
        return Decimal(years)
    return Decimal(years) + (Decimal("0.5") if odd <= 6 else Decimal(1))


def year_word(years: Decimal) -> str:
    return f"{format_number(years)} năm"
