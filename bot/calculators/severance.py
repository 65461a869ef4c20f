"""Severance allowance (trợ cấp thôi việc).

Legal basis: Điều 46 Bộ luật Lao động 2019 (Luật số 45/2019/QH14); Điều 8 Nghị định 145/2020/NĐ-CP.
Half a month's wage for each year worked, where the years are the time with the employer minus
the months covered by unemployment insurance (BHTN), rounded per NĐ 145 Điều 8 k3.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .core import (
    AS_OF,
    Calculation,
    Calculator,
    allowance_years,
    fact,
    format_duration,
    format_money,
    format_number,
    invalid,
    money,
    months,
    present,
    require,
    round_money,
    salary,
    year_word,
)

LEGAL_BASIS = "Điều 46 Bộ luật Lao động 2019; Điều 8 Nghị định 145/2020/NĐ-CP"

SALARY_QUESTION = "Tiền lương bình quân theo hợp đồng của 6 tháng gần nhất trước khi nghỉ việc của bạn là bao nhiêu (ví dụ: 9 triệu)?"
REQUIRED = ("months_worked", "salary", "bhtn_months")


@dataclass(frozen=True)
class AllowanceTime:
    months_worked: int
    bhtn_months: int
    counted_months: int
    years: Decimal

    def step(self) -> str:
        """'4 năm 5 tháng làm việc − 1 năm đóng BHTN = 3 năm 5 tháng → tính 3,5 năm'."""
        counted = f"tính {year_word(self.years)}"
        if self.bhtn_months == 0:
            return f"{format_duration(self.months_worked)} làm việc, không có thời gian đóng BHTN cần trừ → {counted}"
        return (
            f"{format_duration(self.months_worked)} làm việc − {format_duration(self.bhtn_months)} đóng BHTN"
            f" = {format_duration(self.counted_months)} → {counted}"
        )


def read_months_worked(facts: dict) -> int | None:
    return months(facts, "months_worked") if present(facts, "months_worked") else None


def read_time(facts: dict, months_worked: int) -> AllowanceTime:
    """The time counted for severance / job-loss allowance (facts already checked for presence)."""
    bhtn = months(facts, "bhtn_months")
    if bhtn > months_worked:
        raise invalid(
            "bhtn_months",
            Decimal(bhtn),
            f"Thời gian đóng bảo hiểm thất nghiệp ở công ty này không thể dài hơn thời gian bạn làm việc cho công ty ({format_duration(months_worked)}).",
        )
    counted = months_worked - bhtn
    return AllowanceTime(months_worked, bhtn, counted, allowance_years(counted))


def not_eligible(kind: str, title: str, months_worked: int, assumptions: tuple[str, ...], legal_basis: str) -> Calculation:
    return Calculation(
        kind=kind,
        value=0,
        unit="đồng",
        summary=(
            f"Bạn chưa đủ điều kiện hưởng {title.lower()} vì mới làm việc cho công ty {format_duration(months_worked)},"
            " chưa đủ 12 tháng làm việc thường xuyên."
        ),
        steps=(f"{format_duration(months_worked)} < 12 tháng",),
        assumptions=assumptions,
        legal_basis=legal_basis,
        as_of=AS_OF,
        eligible=False,
    )


def compute(facts: dict) -> Calculation:
    months_worked = read_months_worked(facts)
    wage = salary(facts) if present(facts, "salary") else None
    if present(facts, "bhtn_months"):
        months(facts, "bhtn_months")
    common = (
        "Áp dụng khi hợp đồng chấm dứt theo các khoản 1, 2, 3, 4, 6, 7, 9, 10 Điều 34 Bộ luật Lao động (ví dụ hết hạn hợp đồng, hai bên thỏa thuận,"
        " bạn đơn phương chấm dứt đúng luật); không áp dụng khi bạn đủ điều kiện hưởng lương hưu hoặc bị sa thải.",
        "Nếu bạn đơn phương nghỉ việc trái luật (ví dụ không báo trước đủ thời hạn) thì không được hưởng trợ cấp thôi việc.",
    )
    if months_worked is not None and months_worked < 12:
        return not_eligible("severance", "Trợ cấp thôi việc", months_worked, common, LEGAL_BASIS)
    require(facts, REQUIRED)
    time = read_time(facts, months_worked)
    assumptions = (
        f"Lương {money(wage)} là tiền lương bình quân theo hợp đồng của 6 tháng liền kề trước khi bạn nghỉ việc.",
        "Bạn làm việc thường xuyên cho công ty và chưa từng được công ty trả trợ cấp thôi việc hay mất việc làm cho giai đoạn trước.",
        *common,
    )
    if time.counted_months == 0:
        return Calculation(
            kind="severance",
            value=0,
            unit="đồng",
            summary=(
                "Toàn bộ thời gian làm việc của bạn đã được đóng bảo hiểm thất nghiệp nên công ty không phải trả trợ cấp thôi việc;"
                " thay vào đó bạn có thể được hưởng trợ cấp thất nghiệp từ quỹ bảo hiểm thất nghiệp."
            ),
            steps=(time.step(),),
            assumptions=assumptions,
            legal_basis=LEGAL_BASIS,
            as_of=AS_OF,
        )
    amount = round_money(Decimal("0.5") * wage * time.years)
    return Calculation(
        kind="severance",
        value=amount,
        unit="đồng",
        summary=f"Trợ cấp thôi việc của bạn khoảng {format_money(amount)} đồng.",
        steps=(time.step(), f"0,5 × {format_money(round_money(wage))} × {format_number(time.years)} = {format_money(amount)} đồng"),
        assumptions=assumptions,
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
    )


CALCULATOR = Calculator(
    name="severance",
    title="Trợ cấp thôi việc",
    required=(fact("months_worked"), fact("salary", SALARY_QUESTION), fact("bhtn_months")),
    optional=(),
    compute=compute,
)
