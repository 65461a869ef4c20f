"""Probation wage (tiền lương thử việc).

Legal basis: Điều 26 Bộ luật Lao động 2019: at least 85% of the wage of the job.
"""

from __future__ import annotations

from decimal import Decimal

from .core import AS_OF, Calculation, Calculator, fact, format_money, money, require, round_money, salary

LEGAL_BASIS = "Điều 26 Bộ luật Lao động 2019"
SHARE = Decimal("0.85")


def compute(facts: dict) -> Calculation:
    require(facts, ("salary",))
    wage = salary(facts)
    amount = round_money(SHARE * wage)
    return Calculation(
        kind="probation",
        value=amount,
        unit="đồng",
        summary=f"Lương thử việc của bạn ít nhất là {format_money(amount)} đồng/tháng.",
        steps=(f"85% × {format_money(round_money(wage))} = {format_money(amount)} đồng",),
        assumptions=(
            f"{money(wage)} là mức lương của công việc bạn thử việc (mức lương chính thức sau thử việc).",
            "Đây là mức thấp nhất luật cho phép; hai bên có thể thỏa thuận mức cao hơn.",
        ),
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
    )


CALCULATOR = Calculator(
    name="probation",
    title="Lương thử việc",
    required=(fact("salary", "Mức lương chính thức của công việc bạn đang thử việc là bao nhiêu (ví dụ: 9 triệu)?"),),
    optional=(),
    compute=compute,
)
