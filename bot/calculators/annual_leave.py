"""Annual paid leave (nghỉ hằng năm, "phép năm").

Legal basis: Điều 113, 114 Bộ luật Lao động 2019; Điều 65, 66 Nghị định 145/2020/NĐ-CP.
12 working days a year (14 for minors, people with disabilities and heavy/toxic/dangerous work),
plus one day for each full 5 years with the same employer; pro rata for less than 12 months.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .core import AS_OF, Calculation, Calculator, fact, flag, format_duration, format_number, integer, invalid, months, present, require

LEGAL_BASIS = "Điều 113, 114 Bộ luật Lao động 2019; Điều 65, 66 Nghị định 145/2020/NĐ-CP"


def compute(facts: dict) -> Calculation:
    """Needs ``months_worked`` (time with this employer) or ``months_this_year``; ``months_worked`` is asked for when both are missing.

    With ``months_this_year`` < 12 the leave is pro rata to it; otherwise a worker with 12 months or more
    with the employer has the full year. Seniority days come from ``months_worked`` when known.
    """
    worked = months(facts, "months_worked") if present(facts, "months_worked") else None
    this_year = None
    if present(facts, "months_this_year"):
        this_year = integer(facts, "months_this_year", low=0, high=12, reason="Một năm chỉ có tối đa 12 tháng.")
        if worked is not None and this_year > worked:
            raise invalid(
                "months_this_year",
                Decimal(this_year),
                f"Số tháng làm việc năm nay không thể nhiều hơn tổng thời gian bạn làm cho công ty ({format_duration(worked)}).",
            )
    if worked is None and this_year is None:
        require(facts, ("months_worked",))
    hazardous = flag(facts, "hazardous")
    minor_or_disabled = flag(facts, "minor_or_disabled")
    base = 14 if (hazardous or minor_or_disabled) else 12
    seniority = (worked // 60) if worked is not None else 0

    if this_year is not None and this_year < 12:
        months_counted = this_year
    elif this_year is None and worked < 12:
        months_counted = worked
    else:
        months_counted = 12

    steps = []
    if minor_or_disabled:
        steps.append("Người chưa thành niên hoặc người khuyết tật: 14 ngày phép cơ bản")
    elif hazardous:
        steps.append("Công việc nặng nhọc, độc hại, nguy hiểm: 14 ngày phép cơ bản")
    else:
        steps.append("Điều kiện làm việc bình thường: 12 ngày phép cơ bản")
    if seniority:
        steps.append(f"Thâm niên {format_duration(worked)} (đủ {seniority * 5} năm) → cộng thêm {seniority} ngày")

    assumptions = []
    if not hazardous and not minor_or_disabled:
        assumptions.append("Bạn làm công việc trong điều kiện bình thường, không thuộc danh mục nghề nặng nhọc, độc hại, nguy hiểm.")
    assumptions.append("Người làm nghề, công việc đặc biệt nặng nhọc, độc hại, nguy hiểm được 16 ngày; cách tính này chưa xét trường hợp đó.")
    if worked is None:
        assumptions.append("Chưa tính ngày phép tăng thêm theo thâm niên (cứ đủ 5 năm làm cho một công ty thì thêm 1 ngày) vì chưa biết bạn đã làm bao lâu.")

    total = base + seniority
    if months_counted == 12:
        value: int | float = total
        steps.append(f"{base} + {seniority} = {total} ngày" if seniority else f"Cả năm: {total} ngày")
        summary = f"Bạn được nghỉ hằng năm {total} ngày làm việc, hưởng nguyên lương."
    else:
        exact = Decimal(total) * months_counted / 12
        rounded = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        is_exact = rounded == exact
        value = int(exact) if exact == exact.to_integral_value() else float(rounded)
        shown = format_number(value)
        about = "" if is_exact else "khoảng "
        days = f"({base} + {seniority})" if seniority else f"{base}"
        steps.append(f"{days} ÷ 12 × {months_counted} tháng {'=' if is_exact else '≈'} {shown} ngày")
        summary = f"Với {months_counted} tháng làm việc, bạn được nghỉ hằng năm {about}{shown} ngày làm việc, hưởng nguyên lương."
        if not is_exact:
            assumptions.append(
                "Số ngày lẻ được làm tròn đến một chữ số thập phân; cách làm tròn cụ thể có thể theo quy chế của công ty, cán bộ công đoàn có thể xác nhận."
            )
        assumptions.append(
            "Tháng làm việc chưa đủ tháng vẫn được tính là một tháng nếu số ngày làm việc và nghỉ có lương chiếm từ một nửa số ngày làm việc của tháng."
        )
    assumptions.append("Nếu nghỉ việc mà chưa nghỉ hết phép năm, công ty phải trả tiền lương cho những ngày chưa nghỉ.")
    eligible = value != 0
    if not eligible:
        summary = "Bạn chưa có ngày nghỉ hằng năm vì chưa có tháng làm việc nào được tính."
    return Calculation(
        kind="annual_leave",
        value=value,
        unit="ngày",
        summary=summary,
        steps=tuple(steps[-3:]),
        assumptions=tuple(assumptions),
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
        eligible=eligible,
    )


CALCULATOR = Calculator(
    name="annual_leave",
    title="Nghỉ phép năm",
    required=(fact("months_worked"),),
    optional=(fact("months_this_year"), fact("hazardous"), fact("minor_or_disabled")),
    compute=compute,
)
