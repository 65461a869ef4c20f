"""Overtime pay (tiền lương làm thêm giờ) and night-work pay (tiền lương làm việc vào ban đêm).

Legal basis: Điều 98 Bộ luật Lao động 2019; Điều 55, 56, 57 Nghị định 145/2020/NĐ-CP.
Overtime: at least 150% on a normal day, 200% on a weekly rest day, 300% on a public holiday or Tết.
Night work (22:00–06:00) that is not overtime: +30%. Night overtime: the overtime rate + 30% + 20% of
the daytime rate of that day (100% on a normal day without daytime overtime, 150% with it; 200% on a
weekly rest day; 300% on a holiday).
"""

from __future__ import annotations

from decimal import Decimal

from .core import (
    AS_OF,
    MAX_HOURLY,
    Calculation,
    Calculator,
    MissingFacts,
    choice,
    fact,
    flag,
    format_money,
    format_number,
    money,
    number,
    present,
    require,
    round_money,
    salary,
)

LEGAL_BASIS = "Điều 98 Bộ luật Lao động 2019; Điều 55, 56, 57 Nghị định 145/2020/NĐ-CP"
NIGHT_LEGAL_BASIS = "Điều 98 Bộ luật Lao động 2019; Điều 56 Nghị định 145/2020/NĐ-CP"

STANDARD_DAYS = 26
HOURS_PER_DAY = 8

OVERTIME_RATE = {"thuong": 150, "nghi_tuan": 200, "le": 300}
DAY_NAMES = {"thuong": "ngày thường", "nghi_tuan": "ngày nghỉ hằng tuần", "le": "ngày lễ, Tết"}
NIGHT_EXTRA = 30
NIGHT_OVERTIME_SHARE = 20


def daytime_rate(day_type: str, daytime_overtime: bool) -> int:
    if day_type == "thuong":
        return 150 if daytime_overtime else 100
    return OVERTIME_RATE[day_type]


def overtime_rate(day_type: str, night: bool, daytime_overtime: bool) -> int:
    """Percent of the normal hourly wage: 150/200/300 by day; at night 200 (210 after daytime overtime), 270, 390."""
    rate = OVERTIME_RATE[day_type]
    if night:
        rate += NIGHT_EXTRA + NIGHT_OVERTIME_SHARE * daytime_rate(day_type, daytime_overtime) // 100
    return rate


def read_hourly(facts: dict) -> tuple[Decimal, list[str], list[str]]:
    """The normal hourly wage, with the steps and assumptions that explain where it came from."""
    if present(facts, "hourly_wage"):
        reason = "Tiền lương một giờ cần lớn hơn 0 và không quá 10 triệu đồng."
        hourly = number(facts, "hourly_wage", low=0, high=MAX_HOURLY, low_inclusive=False, reason=reason)
        return hourly, [], [f"{money(hourly)}/giờ là tiền lương giờ thực trả của ngày làm việc bình thường."]
    if present(facts, "salary"):
        monthly = salary(facts)
        hourly = monthly / STANDARD_DAYS / HOURS_PER_DAY
        sign = "=" if hourly == round_money(hourly) else "≈"
        step = f"{format_money(round_money(monthly))} ÷ {STANDARD_DAYS} ngày ÷ {HOURS_PER_DAY} giờ {sign} {format_money(round_money(hourly))} đồng/giờ"
        assumption = (
            f"Tiền lương giờ được suy ra từ lương tháng {money(monthly)} ÷ {STANDARD_DAYS} ngày ÷ {HOURS_PER_DAY} giờ"
            " (số ngày làm việc chuẩn do công ty quy định, tối đa 26 ngày; 8 giờ mỗi ngày)."
            " Nếu công ty quy định ít ngày hơn thì tiền lương giờ của bạn cao hơn."
        )
        return hourly, [step], [assumption]
    raise MissingFacts(("hourly_wage",))


def read_hours(facts: dict) -> Decimal:
    return number(facts, "hours", low=0, high=24, low_inclusive=False, reason="Số giờ làm trong một ngày cần lớn hơn 0 và không quá 24 giờ.")


def _validate_present(facts: dict, names: tuple[str, ...]) -> None:
    """Check the facts that were given before asking for the missing ones."""
    if "hours" in names and present(facts, "hours"):
        read_hours(facts)
    if "day_type" in names and present(facts, "day_type"):
        choice(facts, "day_type", tuple(OVERTIME_RATE))
    if present(facts, "hourly_wage") or present(facts, "salary"):
        read_hourly(facts)


def compute(facts: dict) -> Calculation:
    _validate_present(facts, ("hours", "day_type"))
    if not (present(facts, "hourly_wage") or present(facts, "salary")):
        missing = ["hourly_wage"] + [n for n in ("hours", "day_type") if not present(facts, n)]
        raise MissingFacts(missing)
    require(facts, ("hours", "day_type"))
    hourly, steps, assumptions = read_hourly(facts)
    hours = read_hours(facts)
    day_type = choice(facts, "day_type", tuple(OVERTIME_RATE))
    night = flag(facts, "night")
    daytime_ot = flag(facts, "daytime_overtime")
    rate = overtime_rate(day_type, night, daytime_ot)
    amount = round_money(hourly * rate * hours / 100)

    if night:
        steps.append(
            f"Làm thêm ban đêm {DAY_NAMES[day_type]}: {OVERTIME_RATE[day_type]}% + {NIGHT_EXTRA}%"
            f" + 20% × {daytime_rate(day_type, daytime_ot)}% = {rate}%"
        )
    sign = "=" if hourly == round_money(hourly) else "≈"
    steps.append(f"{format_money(round_money(hourly))} × {rate}% × {format_number(hours)} giờ {sign} {format_money(amount)} đồng")
    when = f"vào ban đêm {DAY_NAMES[day_type]}" if night else f"vào {DAY_NAMES[day_type]}"
    about = "khoảng" if not present(facts, "hourly_wage") else "ít nhất"
    summary = f"Tiền lương cho {format_number(hours)} giờ làm thêm {when} của bạn {about} {format_money(amount)} đồng ({rate}%)."

    if not night:
        assumptions.append("Giờ làm thêm nằm ngoài khoảng 22 giờ đến 6 giờ sáng; làm thêm ban đêm được trả cao hơn.")
    elif day_type == "thuong":
        if daytime_ot:
            assumptions.append("Trong ngày đó bạn có làm thêm giờ vào ban ngày trước khi làm thêm ban đêm.")
        else:
            assumptions.append("Trong ngày đó bạn không làm thêm giờ vào ban ngày trước khi làm thêm ban đêm.")
    if day_type == "le":
        assumptions.append(
            "Người hưởng lương tháng đã có tiền lương của chính ngày lễ, Tết trong lương tháng; người hưởng lương theo ngày được trả thêm"
            " tiền lương ngày lễ, Tết. Số tiền trên chỉ là phần làm thêm giờ."
        )
    assumptions.append("Đây là mức tối thiểu theo luật; công ty có thể trả cao hơn.")
    if hours > 12:
        assumptions.append(
            "Theo Điều 107 Bộ luật Lao động, tổng giờ làm bình thường và làm thêm thường không quá 12 giờ trong một ngày; bạn nên kiểm tra lại số giờ."
        )
    return Calculation(
        kind="overtime",
        value=amount,
        unit="đồng",
        summary=summary,
        steps=tuple(steps[-3:]),
        assumptions=tuple(assumptions),
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
    )


def compute_night_shift(facts: dict) -> Calculation:
    """Night work that is not overtime: at least 130% of the normal hourly wage."""
    if present(facts, "hours"):
        read_hours(facts)
    if present(facts, "hourly_wage") or present(facts, "salary"):
        read_hourly(facts)
    else:
        raise MissingFacts(["hourly_wage"] + ([] if present(facts, "hours") else ["hours"]))
    require(facts, ("hours",))
    hourly, steps, assumptions = read_hourly(facts)
    hours = read_hours(facts)
    rate = 100 + NIGHT_EXTRA
    amount = round_money(hourly * rate * hours / 100)
    extra = round_money(hourly * NIGHT_EXTRA * hours / 100)
    sign = "=" if hourly == round_money(hourly) else "≈"
    shown = format_money(round_money(hourly))
    steps.append(f"{shown} × {rate}% × {format_number(hours)} giờ {sign} {format_money(amount)} đồng")
    steps.append(f"Phần trả thêm vì làm ban đêm: {shown} × {NIGHT_EXTRA}% × {format_number(hours)} giờ {sign} {format_money(extra)} đồng")
    assumptions.append("Đây là giờ làm việc bình thường vào ban đêm (từ 22 giờ đến 6 giờ sáng), không phải làm thêm giờ.")
    assumptions.append("Người hưởng lương tháng đã có 100% tiền lương của các giờ này trong lương tháng; phần được trả thêm là 30%.")
    assumptions.append("Đây là mức tối thiểu theo luật; công ty có thể trả cao hơn.")
    about = "ít nhất" if present(facts, "hourly_wage") else "khoảng"
    return Calculation(
        kind="night_shift",
        value=amount,
        unit="đồng",
        summary=(
            f"Tiền lương cho {format_number(hours)} giờ làm việc ban đêm của bạn {about} {format_money(amount)} đồng (130%),"
            f" trong đó phần trả thêm vì làm ban đêm là {format_money(extra)} đồng."
        ),
        steps=tuple(steps[-3:]),
        assumptions=tuple(assumptions),
        legal_basis=NIGHT_LEGAL_BASIS,
        as_of=AS_OF,
    )


CALCULATOR = Calculator(
    name="overtime",
    title="Tiền lương làm thêm giờ",
    required=(fact("hourly_wage"), fact("hours"), fact("day_type")),
    optional=(fact("night"), fact("daytime_overtime")),
    compute=compute,
)

NIGHT_SHIFT = Calculator(
    name="night_shift",
    title="Tiền lương làm việc ban đêm",
    required=(fact("hourly_wage"), fact("hours", "Bạn đã làm bao nhiêu giờ vào ban đêm, từ 22 giờ đến 6 giờ sáng (ví dụ: 8 giờ)?")),
    optional=(),
    compute=compute_night_shift,
)
