"""Job-loss allowance (trợ cấp mất việc làm).

Legal basis: Điều 47 Bộ luật Lao động 2019; Điều 8 Nghị định 145/2020/NĐ-CP.
One month's wage for each year worked (time with the employer minus BHTN months, rounded per
NĐ 145 Điều 8 k3), but at least two months' wage.
"""

from __future__ import annotations

from decimal import Decimal

from .core import AS_OF, Calculation, Calculator, fact, format_money, format_number, money, months, present, require, round_money, salary
from .severance import REQUIRED, SALARY_QUESTION, not_eligible, read_months_worked, read_time

LEGAL_BASIS = "Điều 47 Bộ luật Lao động 2019; Điều 8 Nghị định 145/2020/NĐ-CP"

MINIMUM_MONTHS = Decimal(2)


def compute(facts: dict) -> Calculation:
    months_worked = read_months_worked(facts)
    wage = salary(facts) if present(facts, "salary") else None
    if present(facts, "bhtn_months"):
        months(facts, "bhtn_months")
    common = (
        "Áp dụng khi bạn mất việc theo khoản 11 Điều 34 Bộ luật Lao động: công ty thay đổi cơ cấu, công nghệ, vì lý do kinh tế (Điều 42)"
        " hoặc chia, tách, hợp nhất, sáp nhập (Điều 43).",
    )
    if months_worked is not None and months_worked < 12:
        return not_eligible("job_loss", "Trợ cấp mất việc làm", months_worked, common, LEGAL_BASIS)
    require(facts, REQUIRED)
    time = read_time(facts, months_worked)
    paid_months = max(time.years, MINIMUM_MONTHS)
    amount = round_money(wage * paid_months)
    steps = [time.step()]
    if time.years < MINIMUM_MONTHS:
        steps.append(f"{format_number(time.years)} năm → {format_number(time.years)} tháng lương, thấp hơn mức tối thiểu nên tính 2 tháng lương")
    steps.append(f"{format_money(round_money(wage))} × {format_number(paid_months)} = {format_money(amount)} đồng")
    assumptions = [
        f"Lương {money(wage)} là tiền lương bình quân theo hợp đồng của 6 tháng liền kề trước khi bạn mất việc.",
        "Bạn làm việc thường xuyên cho công ty và chưa từng được công ty trả trợ cấp thôi việc hay mất việc làm cho giai đoạn trước.",
        *common,
    ]
    if time.years < MINIMUM_MONTHS:
        assumptions.append(
            "Luật quy định trợ cấp mất việc làm ít nhất bằng 2 tháng tiền lương; khi phần lớn thời gian đã đóng bảo hiểm thất nghiệp,"
            " bạn nên nhờ cán bộ công đoàn xác nhận cách áp dụng mức tối thiểu này."
        )
    return Calculation(
        kind="job_loss",
        value=amount,
        unit="đồng",
        summary=f"Trợ cấp mất việc làm của bạn khoảng {format_money(amount)} đồng.",
        steps=tuple(steps),
        assumptions=tuple(assumptions),
        legal_basis=LEGAL_BASIS,
        as_of=AS_OF,
    )


CALCULATOR = Calculator(
    name="job_loss",
    title="Trợ cấp mất việc làm",
    required=(fact("months_worked"), fact("salary", SALARY_QUESTION.replace("nghỉ việc", "mất việc")), fact("bhtn_months")),
    optional=(),
    compute=compute,
)
