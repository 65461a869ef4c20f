"""Unemployment benefit (trợ cấp thất nghiệp).

Legal basis: Luật Việc làm 2025 (Luật số 74/2025/QH15, in force from 01/01/2026); regional minimum
wages from Nghị định 293/2025/NĐ-CP (from 01/01/2026). Monthly benefit = 60% of the average wage of
the last 6 months of BHTN contributions, capped at 5 × the regional minimum monthly wage; 3 months
for 12–36 months of contributions, one more month for each further full 12 months, at most 12.
"""

from __future__ import annotations

from decimal import Decimal

from .core import (
    AS_OF,
    Calculation,
    Calculator,
    MissingFacts,
    choice,
    fact,
    format_duration,
    format_money,
    money,
    months,
    present,
    require,
    round_money,
    salary,
)

LEGAL_BASIS = "Luật Việc làm 2025 (Luật số 74/2025/QH15); Nghị định 293/2025/NĐ-CP về lương tối thiểu vùng"

MINIMUM_WAGE = {"I": 5_310_000, "II": 4_730_000, "III": 4_140_000, "IV": 3_700_000}
CAP_MULTIPLE = 5
RATE = Decimal("0.6")
MIN_MONTHS = 12


def benefit_months(bhtn_months: int) -> int:
    """3 months for 12–36 months of contributions, +1 for each further full 12 months, at most 12 (0 below 12)."""
    if bhtn_months < MIN_MONTHS:
        return 0
    return min(12, 3 + max(0, bhtn_months - 36) // 12)


ASSUMPTIONS = (
    "Bạn đã đóng bảo hiểm thất nghiệp đủ 12 tháng trở lên trong 24 tháng trước khi chấm dứt hợp đồng lao động.",
    "Bạn không đơn phương nghỉ việc trái luật và không đủ điều kiện hưởng lương hưu khi nghỉ việc.",
    "Bạn nộp hồ sơ tại trung tâm dịch vụ việc làm trong vòng 3 tháng kể từ ngày chấm dứt hợp đồng"
    " và vẫn chưa có việc làm sau 10 ngày làm việc kể từ ngày nộp hồ sơ.",
)


def compute(facts: dict) -> Calculation:
    bhtn = months(facts, "bhtn_months") if present(facts, "bhtn_months") else None
    wage = salary(facts) if present(facts, "salary") else None
    region = choice(facts, "region", tuple(MINIMUM_WAGE)) if present(facts, "region") else None
    if bhtn is not None and bhtn < MIN_MONTHS:
        return Calculation(
            kind="unemployment",
            value=0,
            unit="đồng",
            summary=f"Bạn chưa đủ điều kiện hưởng trợ cấp thất nghiệp vì mới đóng bảo hiểm thất nghiệp {format_duration(bhtn)}, chưa đủ 12 tháng.",
            steps=(f"{format_duration(bhtn)} < 12 tháng",),
            assumptions=("Thời gian đóng bảo hiểm thất nghiệp bạn cho biết là thời gian đã đóng mà chưa hưởng trợ cấp thất nghiệp.",),
            legal_basis=LEGAL_BASIS,
            as_of=AS_OF,
            eligible=False,
        )
    require(facts, ("bhtn_months", "salary"))
    raw = RATE * wage
    lowest_cap = CAP_MULTIPLE * min(MINIMUM_WAGE.values())
    if region is None and raw > lowest_cap:
        raise MissingFacts(("region",))
    steps = [f"60% × {format_money(round_money(wage))} = {format_money(round_money(raw))} đồng/tháng"]
    assumptions = list(ASSUMPTIONS)
    monthly = raw
    if region is not None:
        cap = CAP_MULTIPLE * MINIMUM_WAGE[region]
        if raw > cap:
            monthly = Decimal(cap)
            steps.append(
                f"Mức tối đa vùng {region}: 5 × {format_money(MINIMUM_WAGE[region])} = {format_money(cap)} đồng/tháng → hưởng {format_money(cap)} đồng/tháng"
            )
    else:
        assumptions.append(
            f"Mức hưởng chưa vượt mức tối đa của vùng thấp nhất (5 lần lương tối thiểu vùng IV = {money(lowest_cap)}/tháng) nên không cần biết vùng."
        )
    amount = round_money(monthly)
    count = benefit_months(bhtn)
    total = amount * count
    steps.append(f"{format_duration(bhtn)} đóng bảo hiểm thất nghiệp → {count} tháng; {format_money(amount)} × {count} = {format_money(total)} đồng")
    assumptions.insert(0, f"Lương {money(wage)} là bình quân tiền lương tháng đóng bảo hiểm thất nghiệp của 6 tháng gần nhất trước khi nghỉ việc.")
    assumptions.append(f"{format_duration(bhtn)} là thời gian đã đóng bảo hiểm thất nghiệp mà chưa hưởng trợ cấp thất nghiệp.")
    assumptions.append(
        "Cách tính theo Luật Việc làm 2025 có hiệu lực từ 01/01/2026; cán bộ công đoàn hoặc trung tâm dịch vụ việc làm có thể xác nhận mức cụ thể."
    )
    return Calculation(
        kind="unemployment",
        value=amount,
        unit="đồng",
        summary=f"Trợ cấp thất nghiệp của bạn khoảng {format_money(amount)} đồng/tháng, trong {count} tháng, tổng cộng khoảng {format_money(total)} đồng.",
        steps=tuple(steps),
        assumptions=tuple(assumptions),
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
    )


CALCULATOR = Calculator(
    name="unemployment",
    title="Trợ cấp thất nghiệp",
    required=(
        fact("bhtn_months", "Bạn đã đóng bảo hiểm thất nghiệp tổng cộng bao lâu mà chưa hưởng trợ cấp thất nghiệp (ví dụ: 4 năm)?"),
        fact("salary", "Tiền lương tháng đóng bảo hiểm thất nghiệp bình quân 6 tháng gần nhất của bạn là bao nhiêu (ví dụ: 8 triệu)?"),
    ),
    optional=(fact("region"),),
    compute=compute,
)
