"""The labor-rights calculators: worked examples, boundaries, missing facts and absurd input."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.calculators import AS_OF, CALCULATORS, Calculation, InvalidFacts, MissingFacts, format_money, format_number
from bot.calculators.core import allowance_years, format_duration
from bot.calculators.overtime import overtime_rate
from bot.calculators.retirement import compute as retirement_compute
from bot.calculators.retirement import retirement_month
from bot.calculators.unemployment import benefit_months

TODAY = dt.date(2026, 12, 3)


def calc(name: str, **facts) -> Calculation:
    return CALCULATORS[name].compute(facts)


def missing(name: str, **facts) -> tuple[str, ...]:
    with pytest.raises(MissingFacts) as info:
        CALCULATORS[name].compute(facts)
    return info.value.names


def rejected(name: str, **facts) -> InvalidFacts:
    with pytest.raises(InvalidFacts) as info:
        CALCULATORS[name].compute(facts)
    return info.value


# ---------------------------------------------------------------- formatting


def test_format_money():
    assert format_money(15_750_000) == "15.750.000"
    assert format_money(0) == "0"
    assert format_money(999) == "999"
    assert format_money(1000) == "1.000"
    assert format_money(-1_234_567) == "-1.234.567"


def test_format_number():
    assert format_number(3.5) == "3,5"
    assert format_number(12.0) == "12"
    assert format_number(0.1 + 0.2) == "0,3"
    assert format_number(1234.25) == "1.234,25"
    assert format_number(5.8333) == "5,83"
    assert format_number(1e30) == "1.000.000.000.000.000.000.000.000.000.000"


def test_format_duration():
    assert format_duration(53) == "4 năm 5 tháng"
    assert format_duration(24) == "2 năm"
    assert format_duration(7) == "7 tháng"
    assert format_duration(0) == "0 tháng"


@pytest.mark.parametrize(("months", "years"), [(0, "0"), (12, "1"), (13, "1.5"), (18, "1.5"), (19, "2"), (41, "3.5"), (47, "4"), (48, "4")])
def test_allowance_years_rounds_odd_months(months, years):
    assert str(allowance_years(months)) == years


# ---------------------------------------------------------------- registry and shape


def test_registry_names_and_facts():
    assert set(CALCULATORS) == {"severance", "job_loss", "annual_leave", "overtime", "night_shift", "unemployment", "retirement", "probation", "sick_pay"}
    known = {
        "months_worked", "bhtn_months", "bhxh_months", "salary", "hourly_wage", "hours", "day_type", "night", "daytime_overtime",
        "birth_year", "birth_month", "sex", "hazardous", "region", "months_this_year", "sick_days", "minor_or_disabled",
    }  # fmt: skip
    for name, calculator in CALCULATORS.items():
        assert calculator.name == name
        assert calculator.title and calculator.required
        for f in calculator.required + calculator.optional:
            assert f.name in known
            assert f.question.endswith(("?", ".")) and re.search(r"[ạảãáàâấầẩẫậăắằẳẵặđêếềểễệơớờởỡợưứừửữự]", f.question)
    assert CALCULATORS["retirement"].required[0].choices == (("Nam", "nam"), ("Nữ", "nu"))


def test_every_result_has_legal_basis_and_date():
    results = [
        calc("severance", months_worked=53, bhtn_months=12, salary=9_000_000),
        calc("job_loss", months_worked=53, bhtn_months=12, salary=9_000_000),
        calc("annual_leave", months_worked=6),
        calc("overtime", hourly_wage=30_000, hours=3, day_type="nghi_tuan"),
        calc("night_shift", hourly_wage=30_000, hours=8),
        calc("unemployment", bhtn_months=36, salary=8_000_000),
        retirement_compute({"sex": "nam", "birth_year": 1961, "birth_month": 1}, today_=TODAY),
        calc("probation", salary=9_000_000),
        calc("sick_pay", salary=7_200_000, sick_days=5),
    ]
    for r in results:
        assert r.legal_basis and r.as_of == AS_OF == dt.date(2026, 12, 3)
        assert 1 <= len(r.steps) <= 3
        assert r.assumptions
        assert r.summary.endswith(".")
        assert r.eligible


# ---------------------------------------------------------------- severance


def test_severance_worked_example():
    r = calc("severance", months_worked=4 * 12 + 5, bhtn_months=12, salary=9_000_000)
    assert r.kind == "severance" and r.value == 15_750_000 and r.unit == "đồng"
    assert r.summary == "Trợ cấp thôi việc của bạn khoảng 15.750.000 đồng."
    assert r.steps == ("4 năm 5 tháng làm việc − 1 năm đóng BHTN = 3 năm 5 tháng → tính 3,5 năm", "0,5 × 9.000.000 × 3,5 = 15.750.000 đồng")
    assert any("Điều 34" in a for a in r.assumptions)
    assert any("trái luật" in a for a in r.assumptions)
    assert r.legal_basis == "Điều 46 Bộ luật Lao động 2019; Điều 8 Nghị định 145/2020/NĐ-CP"


def test_severance_exactly_twelve_months_without_bhtn():
    r = calc("severance", months_worked=12, bhtn_months=0, salary=8_000_000)
    assert r.eligible and r.value == 4_000_000


def test_severance_under_twelve_months_not_eligible_without_asking_more():
    r = calc("severance", months_worked=11)
    assert not r.eligible and r.value == 0
    assert "chưa đủ 12 tháng" in r.summary


def test_severance_six_vs_seven_odd_months():
    assert calc("severance", months_worked=30, bhtn_months=0, salary=10_000_000).value == 12_500_000  # 2 years 6 months -> 2.5
    assert calc("severance", months_worked=31, bhtn_months=0, salary=10_000_000).value == 15_000_000  # 2 years 7 months -> 3


def test_severance_all_time_covered_by_bhtn():
    r = calc("severance", months_worked=60, bhtn_months=60, salary=9_000_000)
    assert r.eligible and r.value == 0
    assert "trợ cấp thất nghiệp" in r.summary


def test_severance_rounds_money_half_up():
    # 0.5 × 1.000.001 × 0.5 = 250.000,25 -> 250.000; 0.5 × 1.000.002 × 1.5 = 750.001,5 -> 750.002
    assert calc("severance", months_worked=18, bhtn_months=12, salary=1_000_001).value == 250_000
    assert calc("severance", months_worked=30, bhtn_months=12, salary=1_000_002).value == 750_002


def test_severance_missing_facts_in_order():
    assert missing("severance") == ("months_worked", "salary", "bhtn_months")
    assert missing("severance", months_worked=40) == ("salary", "bhtn_months")
    assert missing("severance", months_worked=40, salary=9_000_000) == ("bhtn_months",)


def test_severance_bhtn_longer_than_work_is_rejected():
    exc = rejected("severance", months_worked=24, bhtn_months=30, salary=9_000_000)
    assert "bảo hiểm thất nghiệp" in str(exc) and "2 năm" in str(exc)
    assert exc.names == ("bhtn_months",)


# ---------------------------------------------------------------- job loss


def test_job_loss_one_month_per_year():
    r = calc("job_loss", months_worked=4 * 12 + 5, bhtn_months=12, salary=9_000_000)
    assert r.value == 31_500_000  # 3.5 years -> 3.5 months' wage
    assert r.legal_basis.startswith("Điều 47")


def test_job_loss_at_least_two_months():
    assert calc("job_loss", months_worked=20, bhtn_months=12, salary=9_000_000).value == 18_000_000  # 8 months -> 1 year -> minimum 2
    assert calc("job_loss", months_worked=24, bhtn_months=0, salary=9_000_000).value == 18_000_000  # exactly 2 years
    assert calc("job_loss", months_worked=25, bhtn_months=0, salary=9_000_000).value == 22_500_000  # 2.5 years
    r = calc("job_loss", months_worked=60, bhtn_months=60, salary=9_000_000)
    assert r.value == 18_000_000
    assert any("cán bộ công đoàn" in a for a in r.assumptions)


def test_job_loss_not_eligible_under_twelve_months():
    r = calc("job_loss", months_worked=6, salary=9_000_000, bhtn_months=6)
    assert not r.eligible and r.value == 0


def test_job_loss_missing_facts():
    assert missing("job_loss", salary=9_000_000) == ("months_worked", "bhtn_months")


# ---------------------------------------------------------------- annual leave


def test_annual_leave_six_months_normal_work():
    r = calc("annual_leave", months_worked=6)
    assert r.value == 6 and r.unit == "ngày"


def test_annual_leave_twelve_years_seniority():
    r = calc("annual_leave", months_worked=12 * 12)
    assert r.value == 14
    assert r.steps[-1] == "12 + 2 = 14 ngày"


def test_annual_leave_boundaries():
    assert calc("annual_leave", months_worked=12).value == 12
    assert calc("annual_leave", months_worked=59).value == 12
    assert calc("annual_leave", months_worked=60).value == 13
    assert calc("annual_leave", months_worked=60, hazardous=True).value == 15
    assert calc("annual_leave", months_worked=24, minor_or_disabled="co").value == 14
    assert calc("annual_leave", months_worked=24, hazardous="co", minor_or_disabled="co").value == 14


def test_annual_leave_pro_rata_with_one_decimal():
    r = calc("annual_leave", months_worked=5, hazardous="co")
    assert r.value == 5.8  # 14 / 12 × 5 = 5.83
    assert "khoảng 5,8 ngày" in r.summary
    assert any("làm tròn" in a for a in r.assumptions)


def test_annual_leave_months_this_year_with_seniority():
    # 7 years with the employer (1 seniority day), 6 months worked this year: 13 / 12 × 6 = 6.5
    r = calc("annual_leave", months_worked=84, months_this_year=6)
    assert r.value == 6.5
    assert calc("annual_leave", months_this_year=3).value == 3
    assert calc("annual_leave", months_this_year=12).value == 12


def test_annual_leave_zero_months():
    r = calc("annual_leave", months_worked=0)
    assert not r.eligible and r.value == 0


def test_annual_leave_mentions_sixteen_days():
    assert any("16 ngày" in a for a in calc("annual_leave", months_worked=30).assumptions)


def test_annual_leave_missing_and_invalid():
    assert missing("annual_leave") == ("months_worked",)
    assert missing("annual_leave", hazardous=True) == ("months_worked",)
    assert rejected("annual_leave", months_this_year=13).names == ("months_this_year",)
    assert rejected("annual_leave", months_worked=5, months_this_year=8).names == ("months_this_year",)
    assert "Có" in str(rejected("annual_leave", months_worked=12, hazardous="maybe"))


# ---------------------------------------------------------------- overtime and night work


def test_overtime_sunday_example():
    r = calc("overtime", hourly_wage=30_000, hours=3, day_type="nghi_tuan")
    assert r.value == 180_000
    assert r.steps == ("30.000 × 200% × 3 giờ = 180.000 đồng",)


@pytest.mark.parametrize(
    ("day_type", "night", "daytime", "rate"),
    [
        ("thuong", False, False, 150),
        ("nghi_tuan", False, False, 200),
        ("le", False, False, 300),
        ("thuong", True, False, 200),
        ("thuong", True, True, 210),
        ("nghi_tuan", True, False, 270),
        ("nghi_tuan", True, True, 270),
        ("le", True, False, 390),
    ],
)
def test_overtime_rates(day_type, night, daytime, rate):
    assert overtime_rate(day_type, night, daytime) == rate
    r = calc("overtime", hourly_wage=20_000, hours=2, day_type=day_type, night=night, daytime_overtime=daytime)
    assert r.value == 20_000 * 2 * rate // 100


def test_overtime_holiday_states_holiday_pay_assumption():
    r = calc("overtime", hourly_wage=25_000, hours=4, day_type="le")
    assert r.value == 300_000
    assert any("lương theo ngày" in a for a in r.assumptions)


def test_overtime_derived_from_salary_states_assumption():
    r = calc("overtime", salary=9_000_000, hours=2, day_type="thuong")
    # 9.000.000 / 26 / 8 × 150% × 2 = 129.807,69 -> 129.808
    assert r.value == 129_808
    assert r.steps[0] == "9.000.000 ÷ 26 ngày ÷ 8 giờ ≈ 43.269 đồng/giờ"
    assert any("26 ngày" in a for a in r.assumptions)
    assert "khoảng" in r.summary


def test_overtime_fractional_hours():
    assert calc("overtime", hourly_wage=30_000, hours=1.5, day_type="thuong").value == 67_500


def test_overtime_missing_facts():
    assert missing("overtime") == ("hourly_wage", "hours", "day_type")
    assert missing("overtime", salary=9_000_000) == ("hours", "day_type")
    assert missing("overtime", hours=2, day_type="le") == ("hourly_wage",)


def test_overtime_invalid():
    assert rejected("overtime", hourly_wage=30_000, hours=25, day_type="thuong").names == ("hours",)
    assert rejected("overtime", hourly_wage=30_000, hours=0, day_type="thuong").names == ("hours",)
    assert rejected("overtime", hourly_wage=0, hours=2, day_type="thuong").names == ("hourly_wage",)
    assert rejected("overtime", hourly_wage=10_000_001, hours=2, day_type="thuong").names == ("hourly_wage",)
    assert rejected("overtime", hourly_wage=30_000, hours=2, day_type="chu_nhat").names == ("day_type",)
    # the given facts are checked before the missing ones are asked for
    assert rejected("overtime", hours=30).names == ("hours",)


def test_night_shift():
    r = calc("night_shift", hourly_wage=30_000, hours=8)
    assert r.value == 312_000
    assert "72.000" in r.summary
    assert "Điều 56" in r.legal_basis
    assert missing("night_shift") == ("hourly_wage", "hours")


# ---------------------------------------------------------------- unemployment


@pytest.mark.parametrize(("months", "paid"), [(11, 0), (12, 3), (36, 3), (37, 3), (47, 3), (48, 4), (60, 5), (131, 10), (144, 12), (180, 12), (600, 12)])
def test_unemployment_benefit_months(months, paid):
    assert benefit_months(months) == paid


def test_unemployment_basic():
    r = calc("unemployment", bhtn_months=36, salary=8_000_000)
    assert r.value == 4_800_000 and r.unit == "đồng"
    assert "3 tháng" in r.summary and "14.400.000" in r.summary
    text = " ".join(r.assumptions)
    for needle in ("24 tháng", "trái luật", "lương hưu", "3 tháng", "10 ngày làm việc"):
        assert needle in text


def test_unemployment_not_eligible_under_twelve_months():
    r = calc("unemployment", bhtn_months=11)
    assert not r.eligible and r.value == 0


@pytest.mark.parametrize(("region", "cap"), [("I", 26_550_000), ("II", 23_650_000), ("III", 20_700_000), ("IV", 18_500_000)])
def test_unemployment_cap_per_region(region, cap):
    r = calc("unemployment", bhtn_months=48, salary=60_000_000, region=region)
    assert r.value == cap
    assert format_money(cap * 4) in r.summary


def test_unemployment_region_needed_only_above_lowest_cap():
    # 60% × 30.833.333 = 18.499.999,8 -> below 5 × 3.700.000: no region needed
    assert calc("unemployment", bhtn_months=24, salary=30_833_333).value == 18_500_000
    assert missing("unemployment", bhtn_months=24, salary=31_000_000) == ("region",)
    # below the region's cap: 60% of the wage, uncapped
    assert calc("unemployment", bhtn_months=24, salary=31_000_000, region="I").value == 18_600_000


def test_unemployment_missing_and_invalid():
    assert missing("unemployment") == ("bhtn_months", "salary")
    assert rejected("unemployment", bhtn_months=24, salary=9_000_000, region="V").names == ("region",)
    assert rejected("unemployment", bhtn_months=24, salary=-1).names == ("salary",)


# ---------------------------------------------------------------- retirement


def retire(sex, year, month, today=TODAY):
    return retirement_compute({"sex": sex, "birth_year": year, "birth_month": month}, today_=today)


@pytest.mark.parametrize(
    ("sex", "born", "expected", "age"),
    [
        ("nam", (1960, 12), (2020, 12), 720),  # reached 60 before the roadmap
        ("nam", (1961, 1), (2021, 4), 723),  # 60y3m, first row of Phụ lục I
        ("nam", (1961, 9), (2021, 12), 723),
        ("nam", (1961, 10), (2022, 4), 726),  # reaches 60y3m only in 2022, where the age is 60y6m
        ("nam", (1966, 3), (2027, 12), 741),  # 61y9m
        ("nam", (1966, 4), (2028, 4), 744),  # from 04/1966: 62
        ("nam", (1980, 6), (2042, 6), 744),
        ("nu", (1965, 12), (2020, 12), 660),
        ("nu", (1966, 1), (2021, 5), 664),  # 55y4m
        ("nu", (1966, 8), (2021, 12), 664),
        ("nu", (1966, 9), (2022, 5), 668),  # 55y8m
        ("nu", (1975, 4), (2034, 12), 716),  # 59y8m
        ("nu", (1975, 5), (2035, 5), 720),  # from 05/1975: 60
        ("nu", (1990, 1), (2050, 1), 720),
    ],
)
def test_retirement_roadmap(sex, born, expected, age):
    assert retirement_month(sex, *born) == (*expected, age)


def test_retirement_result_text():
    r = retire("nam", 1961, 1)
    assert r.value == "04/2021" and r.unit == "tháng/năm"
    assert "60 tuổi 3 tháng" in r.summary and "05/2021" in r.summary and "đã đủ" in r.summary
    r = retire("nu", 1970, 12)  # 2028: 57y8m -> 08/2028
    assert r.value == "08/2028"
    assert r.summary == "Bạn đủ tuổi nghỉ hưu (57 tuổi 8 tháng) vào tháng 08/2028; lương hưu được hưởng từ tháng 09/2028."
    assert retire("nam", 1966, 9).summary.endswith("từ tháng 10/2028.")
    assert retire("nu", 1976, 12).value == "12/2036"
    assert any("5 tuổi" in a for a in r.assumptions)


def test_retirement_pension_month_rolls_over_year():
    r = retire("nam", 1965, 6)  # 2026: 61y6m -> 12/2026
    assert r.value == "12/2026" and "01/2027" in r.summary


def test_retirement_missing_and_invalid():
    assert missing("retirement") == ("sex", "birth_year", "birth_month")
    assert missing("retirement", birth_year=1970) == ("sex", "birth_month")
    with pytest.raises(InvalidFacts) as info:
        retire("nam", 2027, 1)
    assert "năm sinh" in str(info.value)
    with pytest.raises(InvalidFacts):
        retire("nam", 1939, 1)
    with pytest.raises(InvalidFacts):
        retire("nam", 1950, 1, today=dt.date(2051, 1, 1))  # over 100
    with pytest.raises(InvalidFacts) as info:
        retire("nam", 1970, 13)
    assert "tháng sinh" in str(info.value)
    with pytest.raises(InvalidFacts):
        retire("nam", 1970, 0)
    with pytest.raises(InvalidFacts):
        retire("nam", 2026, 12, today=dt.date(2026, 11, 30))
    with pytest.raises(InvalidFacts):
        retire("khac", 1970, 1)


# ---------------------------------------------------------------- probation


@pytest.mark.parametrize(
    ("salary", "paid"),
    [(9_000_000, 7_650_000), (1_000_010, 850_009), (9_999_999, 8_499_999), (10_000_001, 8_500_001), (10, 9), (1, 1)],
)
def test_probation(salary, paid):
    r = calc("probation", salary=salary)
    assert r.value == paid
    assert r.legal_basis == "Điều 26 Bộ luật Lao động 2019"


def test_probation_summary_and_missing():
    assert calc("probation", salary=9_000_000).summary == "Lương thử việc của bạn ít nhất là 7.650.000 đồng/tháng."
    assert missing("probation") == ("salary",)


# ---------------------------------------------------------------- sick pay


def test_sick_pay_basic():
    r = calc("sick_pay", salary=7_200_000, sick_days=5)
    assert r.value == 1_125_000  # 75% × 7.200.000 / 24 = 225.000 per day
    assert r.steps == ("75% × 7.200.000 ÷ 24 = 225.000 đồng/ngày", "225.000 × 5 ngày = 1.125.000 đồng")
    assert "Luật Bảo hiểm xã hội 2024" in r.legal_basis
    assert any("cán bộ công đoàn" in a for a in r.assumptions)


def test_sick_pay_rounds_total_half_up():
    assert calc("sick_pay", salary=7_000_001, sick_days=3).value == 656_250  # 656.250,09


@pytest.mark.parametrize(
    ("bhxh", "hazardous", "maximum"),
    [(0, False, 30), (179, False, 30), (180, False, 40), (359, False, 40), (360, False, 60), (100, True, 40), (200, True, 50), (400, True, 70)],
)
def test_sick_pay_yearly_maximum(bhxh, hazardous, maximum):
    r = calc("sick_pay", salary=2_400_000, sick_days=100, bhxh_months=bhxh, hazardous=hazardous)
    assert r.value == 75_000 * maximum
    assert f"{maximum} ngày" in r.summary


def test_sick_pay_under_maximum_not_capped():
    r = calc("sick_pay", salary=2_400_000, sick_days=30, bhxh_months=12)
    assert r.value == 75_000 * 30
    assert "mức tối đa" not in r.summary


def test_sick_pay_missing_and_invalid():
    assert missing("sick_pay") == ("salary", "sick_days")
    assert rejected("sick_pay", salary=7_000_000, sick_days=366).names == ("sick_days",)
    assert rejected("sick_pay", salary=7_000_000, sick_days=0).names == ("sick_days",)


# ---------------------------------------------------------------- absurd input everywhere


@pytest.mark.parametrize(
    ("name", "facts", "bad"),
    [
        ("severance", {"months_worked": 601, "bhtn_months": 0, "salary": 9_000_000}, "months_worked"),
        ("severance", {"months_worked": -1, "bhtn_months": 0, "salary": 9_000_000}, "months_worked"),
        ("severance", {"months_worked": 40, "bhtn_months": 0, "salary": 0}, "salary"),
        ("severance", {"months_worked": 40, "bhtn_months": 0, "salary": 1_000_000_001}, "salary"),
        ("severance", {"months_worked": 40, "bhtn_months": -3, "salary": 9_000_000}, "bhtn_months"),
        ("severance", {"months_worked": 12.5, "bhtn_months": 0, "salary": 9_000_000}, "months_worked"),
        ("job_loss", {"months_worked": 10**30, "bhtn_months": 0, "salary": 9_000_000}, "months_worked"),
        ("job_loss", {"months_worked": 40, "bhtn_months": 50, "salary": 9_000_000}, "bhtn_months"),
        ("probation", {"salary": 10**30}, "salary"),
        ("probation", {"salary": float("inf")}, "salary"),
        ("probation", {"salary": float("nan")}, "salary"),
        ("probation", {"salary": "nhiều lắm"}, "salary"),
        ("probation", {"salary": True}, "salary"),
        ("overtime", {"hourly_wage": 10**30, "hours": 2, "day_type": "thuong"}, "hourly_wage"),
        ("overtime", {"hourly_wage": 30_000, "hours": 1e300, "day_type": "thuong"}, "hours"),
        ("unemployment", {"bhtn_months": 10**30, "salary": 9_000_000}, "bhtn_months"),
        ("sick_pay", {"salary": 9_000_000, "sick_days": 10**30}, "sick_days"),
        ("sick_pay", {"salary": 9_000_000, "sick_days": 5, "bhxh_months": 10**30}, "bhxh_months"),
        ("annual_leave", {"months_worked": 10**30}, "months_worked"),
        ("retirement", {"sex": "nam", "birth_year": 10**30, "birth_month": 1}, "birth_year"),
        ("retirement", {"sex": "nam", "birth_year": 1970, "birth_month": 10**30}, "birth_month"),
    ],
)
def test_absurd_input_is_rejected_politely(name, facts, bad):
    exc = rejected(name, **facts)
    message = str(exc)
    assert exc.names == (bad,)
    assert message.startswith("Mình thấy") and "vui lòng kiểm tra lại" in message and message.endswith("nhé.")
    assert len(message) < 400


def test_rejection_names_the_number():
    message = str(rejected("severance", months_worked=700, bhtn_months=0, salary=9_000_000))
    assert "thời gian làm việc" in message and "58 năm 4 tháng" in message
    message = str(rejected("probation", salary=-5))
    assert "mức lương" in message and "-5 đồng" in message


def test_numeric_strings_are_accepted():
    assert calc("probation", salary="9000000").value == 7_650_000
    assert calc("overtime", hourly_wage="30000", hours="1,5", day_type="thuong").value == 67_500


def test_rejection_hints():
    assert "số tháng tròn" in str(rejected("severance", months_worked=12.5))
    assert "(30 giờ)" in str(rejected("overtime", hours=30))
    assert "vùng I, II, III hoặc IV" in str(rejected("unemployment", region="V"))
    assert "“Nam” hoặc “Nữ”" in str(rejected("retirement", sex="khac"))


def test_annual_leave_value_types_and_steps():
    r = calc("annual_leave", months_worked=6)
    assert isinstance(r.value, int) and r.steps[-1] == "12 ÷ 12 × 6 tháng = 6 ngày"
    r = calc("annual_leave", months_worked=5, hazardous=True)
    assert isinstance(r.value, float) and r.steps[-1] == "14 ÷ 12 × 5 tháng ≈ 5,8 ngày"
    assert calc("annual_leave", months_worked=84, months_this_year=6).steps[-1] == "(12 + 1) ÷ 12 × 6 tháng = 6,5 ngày"


def test_vietnamese_thousands_in_strings():
    assert calc("probation", salary="9.000.000").value == 7_650_000
    assert calc("overtime", hourly_wage="30.000", hours="2.5", day_type="thuong").value == 112_500
