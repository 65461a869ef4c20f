"""Sickness benefit (trợ cấp ốm đau) from social insurance.

Legal basis: Luật Bảo hiểm xã hội 2024 (Luật số 41/2024/QH15, in force from 01/07/2025): Điều 45 (amount)
and Điều 43 (yearly maximum days). Per day = 75% × the wage used for BHXH contributions in the most
recent month before the month of leave ÷ 24. Yearly maximum in working days: under 15 years of
contributions 30, 15 to under 30 years 40, 30 years or more 60; heavy/toxic/dangerous work 40/50/70.
The article numbers are flagged for confirmation in the assumptions.
"""

from __future__ import annotations

from decimal import Decimal

from .core import AS_OF, Calculation, Calculator, fact, flag, format_duration, format_money, integer, money, months, present, require, round_money, salary

LEGAL_BASIS = "Điều 43, 45 Luật Bảo hiểm xã hội 2024 (Luật số 41/2024/QH15)"

RATE = Decimal("0.75")
DAYS_PER_MONTH = 24


def yearly_maximum(bhxh_months: int, hazardous: bool) -> int:
    """Maximum sick-leave days paid in a year (working days)."""
    if bhxh_months < 15 * 12:
        days = 30
    elif bhxh_months < 30 * 12:
        days = 40
    else:
        days = 60
    return days + 10 if hazardous else days


def compute(facts: dict) -> Calculation:
    wage = salary(facts) if present(facts, "salary") else None
    days = integer(facts, "sick_days", low=1, high=365, reason="Số ngày nghỉ ốm cần từ 1 đến 365 ngày.") if present(facts, "sick_days") else None
    bhxh = months(facts, "bhxh_months") if present(facts, "bhxh_months") else None
    hazardous = flag(facts, "hazardous")
    require(facts, ("salary", "sick_days"))

    per_day = RATE * wage / DAYS_PER_MONTH
    per_day_exact = per_day == round_money(per_day)
    steps = [f"75% × {format_money(round_money(wage))} ÷ {DAYS_PER_MONTH} {'=' if per_day_exact else '≈'} {format_money(round_money(per_day))} đồng/ngày"]
    assumptions = [
        f"{money(wage)} là tiền lương làm căn cứ đóng bảo hiểm xã hội của tháng gần nhất trước tháng bạn nghỉ ốm.",
        "Bạn nghỉ ốm có xác nhận của cơ sở khám bệnh, chữa bệnh; số ngày là ngày làm việc, không tính ngày nghỉ lễ, Tết và nghỉ hằng tuần.",
    ]
    paid_days = days
    maximum = None
    if bhxh is not None:
        maximum = yearly_maximum(bhxh, hazardous)
        work = "nghề nặng nhọc, độc hại, nguy hiểm" if hazardous else "điều kiện làm việc bình thường"
        assumptions.append(
            f"Với {format_duration(bhxh)} đóng bảo hiểm xã hội và {work}, bạn được hưởng tối đa {maximum} ngày trong một năm"
            " (giả sử đây là lần nghỉ ốm đầu tiên trong năm)."
        )
        if days > maximum:
            paid_days = maximum
            steps.append(f"Nghỉ {days} ngày, vượt mức tối đa {maximum} ngày/năm → tính {maximum} ngày")
    else:
        assumptions.append(
            "Mỗi năm chỉ được hưởng tối đa 30, 40 hoặc 60 ngày tùy thời gian đóng bảo hiểm xã hội (nghề nặng nhọc, độc hại: 40, 50 hoặc 70 ngày);"
            " số tiền trên chưa đối chiếu giới hạn này."
        )
    amount = round_money(RATE * wage * paid_days / DAYS_PER_MONTH)
    steps.append(f"{format_money(round_money(per_day))} × {paid_days} ngày {'=' if per_day_exact else '≈'} {format_money(amount)} đồng")
    summary = f"Trợ cấp ốm đau cho {paid_days} ngày nghỉ của bạn khoảng {format_money(amount)} đồng."
    if paid_days != days:
        summary = (
            f"Trợ cấp ốm đau của bạn khoảng {format_money(amount)} đồng cho {paid_days} ngày (mức tối đa trong năm);"
            f" {days - paid_days} ngày còn lại chưa được tính, trừ trường hợp bệnh cần chữa trị dài ngày."
        )
    assumptions.append("Khoản này do cơ quan bảo hiểm xã hội chi trả; cán bộ công đoàn có thể xác nhận điều khoản áp dụng theo Luật Bảo hiểm xã hội 2024.")
    return Calculation(
        kind="sick_pay",
        value=amount,
        unit="đồng",
        summary=summary,
        steps=tuple(steps),
        assumptions=tuple(assumptions),
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
    )


CALCULATOR = Calculator(
    name="sick_pay",
    title="Trợ cấp ốm đau",
    required=(
        fact("salary", "Tiền lương đóng bảo hiểm xã hội của tháng gần nhất trước khi bạn nghỉ ốm là bao nhiêu (ví dụ: 7 triệu)?"),
        fact("sick_days"),
    ),
    optional=(fact("bhxh_months"), fact("hazardous")),
    compute=compute,
)
