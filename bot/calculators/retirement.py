"""Retirement age (tuổi nghỉ hưu) in normal working conditions.

Legal basis: Điều 169 Bộ luật Lao động 2019; Điều 4 and Phụ lục I Nghị định 135/2020/NĐ-CP.
From 2021 the age rises each calendar year: men from 60 years 3 months by 3 months a year up to 62
(2028), women from 55 years 4 months by 4 months a year up to 60 (2035). The age that applies is
the one of the calendar year in which the worker reaches it; retirement is at the end of that month
and the pension starts the following month. Workers who reached 60 (men) / 55 (women) before 2021
keep the old age.
"""

from __future__ import annotations

import datetime as dt

from .core import AS_OF, Calculation, Calculator, choice, fact, integer, invalid, present, require, today

LEGAL_BASIS = "Điều 169 Bộ luật Lao động 2019; Điều 4 và Phụ lục I Nghị định 135/2020/NĐ-CP"

# sex -> (age before the roadmap, monthly step per year from 2021, cap), all in months
ROADMAP = {"nam": (60 * 12, 3, 62 * 12), "nu": (55 * 12, 4, 60 * 12)}
FIRST_YEAR = 2021
MIN_BIRTH_YEAR = 1940


def age_in_year(sex: str, year: int) -> int:
    """Retirement age in months for the calendar year (normal working conditions)."""
    base, step, cap = ROADMAP[sex]
    if year < FIRST_YEAR:
        return base
    return min(cap, base + step * (year - FIRST_YEAR + 1))


def retirement_month(sex: str, birth_year: int, birth_month: int) -> tuple[int, int, int]:
    """(year, month, age in months) of the month in which the worker reaches retirement age."""
    born = birth_year * 12 + (birth_month - 1)
    base = ROADMAP[sex][0]
    if (born + base) // 12 < FIRST_YEAR:
        reached = born + base
        return reached // 12, reached % 12 + 1, base
    year = FIRST_YEAR
    while True:
        age = age_in_year(sex, year)
        reached = born + age
        if reached // 12 <= year:
            return reached // 12, reached % 12 + 1, age
        year += 1


def format_age(age_months: int) -> str:
    years, rest = divmod(age_months, 12)
    return f"{years} tuổi {rest} tháng" if rest else f"{years} tuổi"


def compute(facts: dict, *, today_: dt.date | None = None) -> Calculation:
    now = today_ or today()
    sex = choice(facts, "sex", tuple(ROADMAP)) if present(facts, "sex") else None
    year = None
    if present(facts, "birth_year"):
        year = integer(facts, "birth_year", low=MIN_BIRTH_YEAR, high=now.year, reason=f"Năm sinh cần từ {MIN_BIRTH_YEAR} đến {now.year}.")
        if now.year - year > 100:
            raise invalid("birth_year", None, "Năm sinh này cho thấy bạn đã trên 100 tuổi.")
    month = integer(facts, "birth_month", low=1, high=12, reason="Tháng sinh cần từ 1 đến 12.") if present(facts, "birth_month") else None
    require(facts, ("sex", "birth_year", "birth_month"))
    if (year, month) > (now.year, now.month):
        raise invalid("birth_month", None, "Tháng sinh không thể ở sau tháng hiện tại.")

    ret_year, ret_month, age = retirement_month(sex, year, month)
    pension_year, pension_month = (ret_year + 1, 1) if ret_month == 12 else (ret_year, ret_month + 1)
    when = f"{ret_month:02d}/{ret_year}"
    pension = f"{pension_month:02d}/{pension_year}"
    who = "nam" if sex == "nam" else "nữ"
    if (ret_year, ret_month) < (now.year, now.month):
        summary = f"Bạn đã đủ tuổi nghỉ hưu ({format_age(age)}) từ tháng {when}; lương hưu được hưởng từ tháng {pension}."
    else:
        summary = f"Bạn đủ tuổi nghỉ hưu ({format_age(age)}) vào tháng {when}; lương hưu được hưởng từ tháng {pension}."
    if (year * 12 + month - 1 + ROADMAP[sex][0]) // 12 < FIRST_YEAR:
        rule = f"Lao động {who} đủ {format_age(age)} trước năm {FIRST_YEAR} → áp dụng tuổi nghỉ hưu cũ {format_age(age)}"
    else:
        rule = f"Lao động {who}, năm {ret_year} tuổi nghỉ hưu là {format_age(age)}"
    steps = (rule, f"Sinh tháng {month:02d}/{year} + {format_age(age)} = tháng {when}")
    return Calculation(
        kind="retirement",
        value=when,
        unit="tháng/năm",
        summary=summary,
        steps=steps,
        assumptions=(
            "Tính cho điều kiện lao động bình thường; làm nghề nặng nhọc, độc hại, nguy hiểm có thể nghỉ sớm hơn tối đa 5 tuổi.",
            "Thời điểm nghỉ hưu là hết ngày cuối cùng của tháng đủ tuổi nghỉ hưu; lương hưu tính từ tháng liền kề sau đó.",
            "Để hưởng lương hưu, bạn cần đủ số năm đóng bảo hiểm xã hội bắt buộc theo Luật Bảo hiểm xã hội 2024 (tối thiểu 15 năm).",
        ),
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
    )


CALCULATOR = Calculator(
    name="retirement",
    title="Tuổi nghỉ hưu",
    required=(fact("sex"), fact("birth_year"), fact("birth_month")),
    optional=(),
    compute=compute,
)
