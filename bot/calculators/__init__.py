"""Labor-rights calculators: pure functions from the worker's facts to a figure with its steps and legal basis.

Each calculator module names its legal basis; ``core`` holds the shared types and formatting.
"""

from __future__ import annotations

from . import annual_leave, job_loss, overtime, probation, retirement, severance, sick_pay, unemployment
from .core import AS_OF, FACTS, Calculation, Calculator, Fact, InvalidFacts, MissingFacts, format_money, format_number

CALCULATORS: dict[str, Calculator] = {
    c.name: c
    for c in (
        severance.CALCULATOR,
        job_loss.CALCULATOR,
        annual_leave.CALCULATOR,
        overtime.CALCULATOR,
        overtime.NIGHT_SHIFT,
        unemployment.CALCULATOR,
        retirement.CALCULATOR,
        probation.CALCULATOR,
        sick_pay.CALCULATOR,
    )
}

__all__ = ["AS_OF", "CALCULATORS", "FACTS", "Calculation", "Calculator", "Fact", "InvalidFacts", "MissingFacts", "format_money", "format_number"]
