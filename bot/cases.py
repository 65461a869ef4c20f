"""The worker's own case: from entities to a calculator's facts, a figure, or the next question.

The policy (``bot.policy``) calls ``plan`` after it has chosen an FAQ answer: when the entry has a
calculator (``calculator:`` in ``faq/``) and the message states facts of the worker's case (or asks
for their figure), the answer becomes a calculation; a missing fact opens a short form, one
question at a time. ``continue_form`` handles the next message while a form is open. Everything
here is pure: the form lives in the conversation's ``form`` slot, which the dialogue stores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .calculators import CALCULATORS, Calculation, Calculator, InvalidFacts, MissingFacts
from .nlu.entities import fold

# A form is given up after this many answers the bot could not use.
MAX_REASKS = 2

_CANCEL = re.compile(r"^\W*(?:thoi|huy|khong can(?: nua)?|dung lai|dung|thoat|bo qua|khong tinh nua|thoi khong can|cancel|stop)\W*(?:a|nhe|nha)?\W*$")
_YES = re.compile(r"^\W*(?:co|dung|vang|da co|co a|yes|u|uh|ok)\W*$")
_NO = re.compile(r"^\W*(?:khong|ko|k|hong|chua|no)\W*(?:a|co)?\W*$")


@dataclass
class CasePlan:
    """What to do with the worker's case this turn."""

    calculator: str
    facts: dict = field(default_factory=dict)
    asking: str | None = None  # the fact the bot asks for now (a form is open)
    calculation: Calculation | None = None
    invalid: str | None = None  # a polite request to check a number
    reasks: int = 0
    faq_id: str | None = None  # the FAQ entry the case belongs to (its legal explanation)
    opening: bool = False  # the form opens this turn (its first question gets an introduction)

    @property
    def done(self) -> bool:
        return self.calculation is not None or self.invalid is not None

    def form_slot(self) -> dict | None:
        """The ``form`` slot to store: None once the figure is given. A number to check keeps the
        form open, so that the corrected number completes it."""
        if self.calculation is not None:
            return None
        return {"calculator": self.calculator, "facts": dict(self.facts), "asking": self.asking, "reasks": self.reasks,
                "faq_id": self.faq_id}

    def to_slot(self) -> dict:
        """What the actions render (tracker slot ``case``)."""
        calc = self.calculation
        return {
            "calculator": self.calculator,
            "title": CALCULATORS[self.calculator].title,
            "faq_id": self.faq_id,
            "asking": self.asking,
            "question": self.question,
            "choices": [list(c) for c in self.choices],
            "invalid": self.invalid,
            "reasks": self.reasks,
            "first_question": self.opening,
            "calculation": None if calc is None else {
                "kind": calc.kind, "value": calc.value, "unit": calc.unit, "summary": calc.summary, "steps": list(calc.steps),
                "assumptions": list(calc.assumptions), "legal_basis": calc.legal_basis, "as_of": calc.as_of.isoformat(),
                "eligible": calc.eligible,
            },
            "form": self.form_slot(),
        }

    @property
    def question(self) -> str | None:
        fact = _fact(CALCULATORS[self.calculator], self.asking) if self.asking else None
        return fact.question if fact else None

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        fact = _fact(CALCULATORS[self.calculator], self.asking) if self.asking else None
        return fact.choices if fact else ()


def _fact(calc: Calculator, name: str):
    for fact in (*calc.required, *calc.optional):
        if fact.name == name:
            return fact
    return None


def _fact_names(calc: Calculator) -> set[str]:
    return {f.name for f in (*calc.required, *calc.optional)}


DURATION_FACTS = ("months_worked", "bhtn_months", "bhxh_months", "months_this_year")

# --- entities -> facts ---------------------------------------------------------------------------


def facts_from(entities: list[dict], calculator: str, asking: str | None = None, text: str = "") -> dict:
    """The calculator's facts stated in one message (only those the calculator uses).

    Approximate durations ("gần 3 năm", "từ 2019 đến nay") are not facts: the form asks for the
    exact figure. ``asking`` lets a bare answer fill the fact just asked ("9" after "Lương tháng
    của bạn bao nhiêu?" is 9 triệu; "có"/"không" answer yes/no questions).
    """
    calc = CALCULATORS[calculator]
    wanted = _fact_names(calc)
    facts: dict = {}
    durations = [e for e in entities if e["entity"] == "duration" and not e.get("approximate") and e.get("role") != "other"]
    no_insurance = False
    work = [e for e in durations if not e.get("role")]
    for e in entities:
        kind, value, role = e["entity"], e["value"], e.get("role")
        if kind == "money":
            if role == "hourly":
                facts.setdefault("hourly_wage", value)
            elif role == "daily":
                facts.setdefault("daily_wage", value)
            else:
                facts.setdefault("salary", value)
        elif kind == "duration" and e in durations:
            if role == "bhtn":
                facts.setdefault("bhtn_months", value)
            elif role == "bhxh":
                facts.setdefault("bhxh_months", value)
            elif role == "probation":
                facts.setdefault("probation_months", value)
        elif kind == "hours":
            facts.setdefault("hours", value)
            if _OVERTIME_WORDS.search(fold(text)[max(0, e["start"] - 30): e["start"]]):
                facts["hours"] = value  # the hours right after "tăng ca"/"làm thêm" are the overtime hours
        elif kind == "days" and (role == "sick" or calculator == "sick_pay"):
            facts.setdefault("sick_days", value)
        elif kind == "birth":
            year, _, month = str(value).partition("-")
            facts.setdefault("birth_year", int(year))
            if month:
                facts.setdefault("birth_month", int(month))
        elif kind in ("sex", "day_type", "region"):
            facts.setdefault(kind, value)
        elif kind == "night":
            facts["night"] = True
        elif kind == "hazardous":
            facts.setdefault("hazardous", bool(value))
        elif kind == "insurance" and value == "none":
            no_insurance = True
        elif kind == "age":
            facts.setdefault("age", value)
    if no_insurance:  # "công ty không đóng bảo hiểm", unless a period of contributions is stated too
        facts.setdefault("bhtn_months", 0)
        facts.setdefault("bhxh_months", 0)
    if work and asking in DURATION_FACTS and asking != "months_worked":
        facts.setdefault(asking, work[0]["value"])  # "2 năm" answers the duration just asked
    elif work:
        facts.setdefault("months_worked", work[0]["value"])
        if calculator == "annual_leave":
            facts.setdefault("months_this_year", min(work[0]["value"], 12))
    elif asking in DURATION_FACTS and durations:
        facts.setdefault(asking, durations[0]["value"])
    for name in _ambiguous(entities, text):
        facts.pop(name, None)
    if asking and asking not in facts:
        facts.update(_bare_answer(asking, text, calc))
    if "hourly_wage" in wanted:
        # A wage under 500.000 đồng is not a monthly salary: it is paid by the hour.
        if "hourly_wage" not in facts and 0 < facts.get("salary", 0) < 500_000:
            facts["hourly_wage"] = facts.pop("salary")
        wanted = wanted | {"salary"}  # the calculator derives an hourly wage from a monthly one
    keep = wanted | {"age"}
    return {k: v for k, v in facts.items() if k in keep}


_PER_OCCURRENCE = re.compile(r"\b(?:moi|moi lan|moi buoi|moi ngay|moi toi|moi ca)\b")


def _ambiguous(entities: list[dict], text: str) -> set[str]:
    """Facts stated twice with different values ("3 tháng đầu 9 triệu, 3 tháng sau 11 triệu",
    "thứ 6 tăng ca 4 tiếng, chủ nhật 8 tiếng") or per occurrence ("mỗi buổi 2 tiếng"): no figure
    may rest on a guess, so the form asks for the one number to use."""
    by_fact: dict[str, set] = {}
    for e in entities:
        kind, role = e["entity"], e.get("role")
        if kind == "money" and role in (None, "salary"):
            by_fact.setdefault("salary", set()).add(e["value"])
        elif kind == "money" and role == "hourly":
            by_fact.setdefault("hourly_wage", set()).add(e["value"])
        elif kind == "hours":
            by_fact.setdefault("hours", set()).add(e["value"])
        elif kind == "day_type":
            by_fact.setdefault("day_type", set()).add(e["value"])
        elif kind == "duration" and not role and not e.get("approximate"):
            by_fact.setdefault("months_worked", set()).add(e["value"])
    unclear = {name for name, values in by_fact.items() if len(values) > 1}
    hours = [e for e in entities if e["entity"] == "hours"]
    overtime_hours = {e["value"] for e in hours if _OVERTIME_WORDS.search(fold(text)[max(0, e["start"] - 30): e["start"]])}
    if len(overtime_hours) == 1:
        unclear.discard("hours")  # the hours after "tăng ca"/"làm thêm" are the ones asked about
    if hours and _PER_OCCURRENCE.search(fold(text)[max(0, hours[0]["start"] - 12): hours[0]["start"]]):
        unclear.add("hours")
    return unclear


def _bare_answer(asking: str, text: str, calc: Calculator) -> dict:
    folded = fold(text).strip()
    fact = _fact(calc, asking)
    if fact is not None:
        for label, value in fact.choices:
            if folded == fold(label).strip() or folded == fold(str(value)):
                return {asking: _typed(value)}
    if _YES.match(folded) and asking in ("night", "hazardous", "daytime_overtime", "minor_or_disabled"):
        return {asking: True}
    if _NO.match(folded):
        if asking in ("night", "hazardous", "daytime_overtime", "minor_or_disabled"):
            return {asking: False}
        if asking == "bhtn_months":
            return {asking: 0}
    number = re.fullmatch(r"\s*(\d{1,3}(?:[.,]\d)?)\s*", folded)
    if number:
        n = float(number.group(1).replace(",", "."))
        if asking == "salary" and n < 1000:
            return {asking: int(n * 1_000_000)}  # "9" when asked for a monthly wage: 9 triệu
        if asking == "hours":
            return {asking: n}
        if asking in ("sick_days", "birth_month") and n.is_integer():
            return {asking: int(n)}
    year = re.fullmatch(r"\s*((?:19|20)\d{2})\s*", folded)
    if year and asking == "birth_year":
        return {asking: int(year.group(1))}
    return {}


def _typed(value):
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


# --- planning ------------------------------------------------------------------------------------


def _sanity(facts: Mapping) -> None:
    """Facts that contradict each other: a working time longer than a working life."""
    age = facts.get("age")
    for key in ("months_worked", "bhtn_months", "bhxh_months"):
        months = facts.get(key)
        if isinstance(age, int) and isinstance(months, int) and months > max(0, age - 14) * 12:
            if months > 10**12:  # too absurd to repeat (and str() fails beyond 4,300 digits)
                raise InvalidFacts("Thời gian bạn nêu dài hơn số năm bạn có thể đã đi làm. Bạn kiểm tra lại giúp mình con số này nhé.", (key,))
            raise InvalidFacts(f"Thời gian bạn nêu ({months // 12} năm {months % 12} tháng) dài hơn số năm bạn có thể đã đi làm ở tuổi {age}. "
                               "Bạn kiểm tra lại giúp mình con số này nhé.", (key,))


def evaluate(calculator: str, facts: dict, reasks: int = 0, faq_id: str | None = None) -> CasePlan:
    """Compute, or name the next missing fact, or reject absurd facts."""
    plan = CasePlan(calculator, dict(facts), reasks=reasks, faq_id=faq_id)
    calc = CALCULATORS[calculator]
    inputs = {k: v for k, v in facts.items() if k != "age"}
    try:
        _sanity(facts)
        plan.calculation = calc.compute(inputs)
    except MissingFacts as missing:
        plan.asking = missing.names[0]
    except InvalidFacts as exc:
        plan.invalid = str(exc)
        names = [n for n in getattr(exc, "names", ()) if n in plan.facts]
        if names:  # the corrected number answers this question
            plan.asking = names[0]
            for name in names:
                plan.facts.pop(name, None)
    return plan


# Facts that make a message the worker's own case. A day type, night work, sex or region alone
# ("làm thêm chủ nhật được tính bao nhiêu %") is a general question: it gets the FAQ answer, with
# a "Tính cho tôi" button that starts the form.
CASE_FACTS = {"months_worked", "bhtn_months", "bhxh_months", "salary", "hourly_wage", "hours", "birth_year", "sick_days",
              "months_this_year", "sex"}


def states_case(parse: dict, calculator: str) -> bool:
    """The message tells numbers of the worker's own case."""
    text = parse.get("whole_text") or parse.get("text") or ""
    facts = facts_from(parse.get("entities") or [], refine(calculator, text), text=parse.get("text") or "")
    return bool(CASE_FACTS & set(facts))


_OVERTIME_WORDS = re.compile(r"\b(?:lam them|tang ca|them gio|ot)\b")


_REST_DAY_WORDS = re.compile(r"\b(?:chu nhat|ngay nghi|nghi hang tuan|le|tet|mung \d|cn)\b")


def refine(calculator: str, text: str) -> str:
    """Night work that is also overtime (said so, or on a rest day or holiday, which is overtime by
    definition) is computed as overtime with the night supplement."""
    folded = fold(text)
    if calculator == "night_shift" and (_OVERTIME_WORDS.search(folded) or _REST_DAY_WORDS.search(folded)):
        return "overtime"
    return calculator


def start(parse: dict, calculator: str, faq_id: str | None = None) -> CasePlan:
    text = parse.get("whole_text") or parse.get("text") or ""
    calculator = refine(calculator, text)
    facts = facts_from(parse.get("entities") or [], calculator, text=parse.get("text") or "")
    plan = evaluate(calculator, facts, faq_id=faq_id)
    plan.opening = True
    return plan


def is_cancel(text: str) -> bool:
    return bool(_CANCEL.match(fold(text or "")))


def continue_form(form: dict, parse: dict) -> CasePlan | None:
    """The next message while a form is open: the plan, or None if it fills nothing (the caller
    decides whether it is another question or an answer to re-ask)."""
    calculator = form.get("calculator")
    if calculator not in CALCULATORS:
        return None
    asking = form.get("asking")
    new = facts_from(parse.get("entities") or [], calculator, asking=asking, text=parse.get("text") or "")
    if not new:
        return None
    facts = {**(form.get("facts") or {}), **new}
    return evaluate(calculator, facts, reasks=0, faq_id=form.get("faq_id"))


def reask(form: dict) -> CasePlan | None:
    """Ask the same question again, or give up after ``MAX_REASKS``."""
    reasks = int(form.get("reasks") or 0) + 1
    if reasks > MAX_REASKS or form.get("calculator") not in CALCULATORS:
        return None
    return CasePlan(form["calculator"], dict(form.get("facts") or {}), asking=form.get("asking"), reasks=reasks,
                    faq_id=form.get("faq_id"))
