"""The communication programme's KPI: figures per month (Vietnam time) and channel on a seeded
database against hand-computed numbers, year-on-year and month-on-month changes, the doubling
target, figures kept after the retention purge, the page, its CSV and bad ranges."""

import csv
import datetime as dt
import io
import re

import pytest

from bot import privacy, vntime
from bot.handoff import kpi
from bot.storage.models import Conversation, Message, Ticket
from tests.conftest import AuthActions, add_officer, fb_body, fb_post, fb_text

H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 4, 30, 12, tzinfo=dt.timezone.utc)  # the report's "now": ticket F is not due yet
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def vn(y, m, d, hour=12, minute=0) -> dt.datetime:
    """A moment given in Vietnam time."""
    return dt.datetime(y, m, d, hour, minute, tzinfo=vntime.VN_TZ)


def seed(db) -> None:
    """Questions on four channels in 2025 (the baseline year) and January to April 2026 (March empty).

    Expected, by hand (bot = bot answers, off = tickets answered by an officer):
      2025-01: messenger 2 bot + ticket answered in time; zalo 1 bot               -> answered 4
      2025-03: messenger 1 bot                                                      -> answered 1
      baseline year 2025 = (4 + 1) / 2 months with questions = 2.5; target 5.0
      2026-01: messenger 3 bot (one at 23:30 on 31 Jan, VN), tickets A (in time) and C (never answered);
               zalo 1 bot, 1 fallback, ticket B (answered late); web 1 bot; viber ("other") 1 bot
               -> questions 10, bot 6, officer 2, answered 8, hand-offs 3, due 3, within 24 h 1
      2026-02: messenger 1 bot at 00:30 on 1 Feb (VN; still 31 Jan in UTC), ticket E (in time) -> answered 2
      2026-03: nothing
      2026-04: web 2 bot, ticket F (open, not yet due)                               -> answered 2, due 0
    Never counted: smalltalk, clarify and listen messages, the bot's own replies, hand-off messages
    (tickets count them).
    """
    with db.session() as s:
        convs = {ch: Conversation(channel=ch, user_id=f"user-{ch}", display_name="Nguyễn Văn A", slots={}, created_at=vn(2025, 1, 1),
                                  last_activity_at=vn(2026, 4, 30))
                 for ch in ("messenger", "zalo", "web", "viber")}
        s.add_all(convs.values())
        s.flush()

        def msg(ch, when, action, direction="in", author="worker", ticket=None):
            s.add(Message(conversation_id=convs[ch].id, direction=direction, author=author, text="Em hỏi về lương 0912345678",
                          action=action, created_at=when, ticket_id=ticket.id if ticket else None))

        def ticket(code, ch, created, answered_after=None, status="resolved"):
            t = Ticket(code=code, conversation_id=convs[ch].id, channel=ch, user_id=f"user-{ch}", question="Công ty nợ lương",
                       status=status, created_at=created, due_at=created + 24 * H, tags=[],
                       first_response_at=created + answered_after if answered_after else None,
                       resolved_at=None if status not in ("resolved", "closed") else created + 40 * H,
                       closed_reason="Trùng câu hỏi" if status == "closed" else None, updated_at=created + 40 * H)
            s.add(t)
            s.flush()
            msg(ch, created, "handoff", ticket=t)
            return t

        # 2025 (baseline year)
        msg("messenger", vn(2025, 1, 5), "answer")
        msg("messenger", vn(2025, 1, 6), "answer")
        msg("zalo", vn(2025, 1, 7), "answer")
        ticket("CD-Y2501", "messenger", vn(2025, 1, 8), answered_after=3 * H)
        msg("messenger", vn(2025, 3, 3), "answer")
        # January 2026
        msg("messenger", vn(2026, 1, 2), "answer")
        msg("messenger", vn(2026, 1, 3), "answer")
        msg("messenger", vn(2026, 1, 31, 23, 30), "answer")  # 16:30 UTC: still January in Vietnam
        msg("messenger", vn(2026, 1, 3), "answer", direction="out", author="bot")  # the bot's reply: not a question
        msg("messenger", vn(2026, 1, 4), "smalltalk")
        msg("messenger", vn(2026, 1, 4), "clarify")
        msg("zalo", vn(2026, 1, 9), "answer")
        msg("zalo", vn(2026, 1, 9), "fallback")
        msg("web", vn(2026, 1, 15), "answer")
        msg("viber", vn(2026, 1, 16), "answer")
        ticket("CD-A2601", "messenger", vn(2026, 1, 10, 10), answered_after=2 * H)
        b = ticket("CD-B2601", "zalo", vn(2026, 1, 20, 9), answered_after=30 * H)
        msg("zalo", vn(2026, 1, 20, 10), "listen", ticket=b)  # a follow-up on the open ticket
        ticket("CD-C2601", "messenger", vn(2026, 1, 31, 23), status="closed")  # closed without an answer
        # February 2026: just after midnight on 1 Feb in Vietnam (31 Jan in UTC)
        msg("messenger", vn(2026, 2, 1, 0, 30), "answer")
        ticket("CD-E2602", "messenger", vn(2026, 2, 1, 0, 10), answered_after=H)
        # April 2026
        msg("web", vn(2026, 4, 2), "answer")
        msg("web", vn(2026, 4, 3), "answer")
        ticket("CD-F2604", "web", NOW - 4 * H, status="open")


def report(db, **kwargs) -> kpi.KpiReport:
    with db.read() as s:
        return kpi.kpi_report(s, MONTHS, now=NOW, **kwargs)


def figures(r: kpi.KpiReport) -> dict:
    """Everything the report says, as plain values (to compare two reports)."""
    return {m.month: (vars(m.total), {ch: vars(f) for ch, f in m.by_channel.items()}, m.change_month_percent,
                      m.change_year_percent, m.target_percent) for m in r.months}


def test_monthly_figures_per_channel_with_month_boundary_in_vietnam_time(db):
    seed(db)
    r = report(db)
    jan, feb, mar, apr = r.months
    assert [m.month for m in r.months] == MONTHS
    assert vars(jan.total) == {"bot_answered": 6, "unanswered": 1, "handoffs": 3, "officer_answered": 2, "due": 3, "within_24h": 1}
    assert (jan.total.questions, jan.total.answered, jan.total.percent_within_24h) == (10, 8, 33.3)
    assert vars(jan.by_channel["messenger"]) == {"bot_answered": 3, "unanswered": 0, "handoffs": 2, "officer_answered": 1,
                                                 "due": 2, "within_24h": 1}
    assert vars(jan.by_channel["zalo"]) == {"bot_answered": 1, "unanswered": 1, "handoffs": 1, "officer_answered": 1,
                                            "due": 1, "within_24h": 0}
    assert jan.by_channel["web"].bot_answered == 1 and jan.by_channel["web"].questions == 1
    assert jan.by_channel["other"].bot_answered == 1  # a channel the KPI does not name
    # 00:10 and 00:30 on 1 February in Vietnam are 31 January in UTC: they belong to February.
    assert vars(feb.total) == {"bot_answered": 1, "unanswered": 0, "handoffs": 1, "officer_answered": 1, "due": 1, "within_24h": 1}
    assert feb.total.percent_within_24h == 100.0
    assert vars(mar.total) == vars(kpi.Figures()) and mar.total.percent_within_24h is None
    # An open ticket before its deadline is not yet due: no 24-hour figure for April.
    assert (apr.total.answered, apr.total.handoffs, apr.total.due, apr.total.percent_within_24h) == (2, 1, 0, None)
    assert (r.total.answered, r.total.questions, r.total.percent_within_24h, r.average_answered) == (12, 15, 50.0, 3.0)
    assert r.by_channel["web"].answered == 3 and r.by_channel["messenger"].answered == 6


def test_changes_and_doubling_target_from_a_baseline_year(db):
    seed(db)
    r = report(db, baseline_year=2025)
    assert (r.baseline, r.baseline_source, r.target) == (2.5, "year", 5.0)
    changes = [(m.change_month_percent, m.change_year_percent, m.target_percent) for m in r.months]
    assert changes == [
        (None, 100.0, 160.0),  # Jan: December 2025 had nothing; January 2025 answered 4, now 8
        (-75.0, None, 40.0),  # Feb: 8 -> 2; February 2025 had nothing
        (-100.0, -100.0, 0.0),  # Mar: the empty month; March 2025 answered 1
        (None, None, 40.0),  # Apr: March 2026 had nothing, nor April 2025
    ]
    assert r.target_percent == 60.0  # 3 answered a month on average against 5


def test_baseline_setting_wins_over_the_year_and_no_baseline_gives_no_target(db):
    seed(db)
    r = report(db, baseline_monthly=4, baseline_year=2025)
    assert (r.baseline, r.baseline_source, r.target, r.months[0].target_percent) == (4.0, "setting", 8.0, 100.0)
    r = report(db)
    assert (r.baseline, r.target, r.target_percent, r.months[0].target_percent) == (None, None, None, None)
    r = report(db, baseline_year=2019)  # a year without data
    assert (r.baseline_source, r.baseline, r.target) == ("year", None, None)


def test_figures_survive_the_retention_purge(db):
    seed(db)
    before = figures(report(db, baseline_year=2025))
    result = privacy.purge(db, 30, now=dt.datetime(2027, 6, 1, tzinfo=dt.timezone.utc))
    assert result.counts["messages"] >= 15 and result.counts["tickets"] == 5 and result.counts["conversations"] == 3
    with db.read() as s:  # the transcript really is anonymised
        assert {m.text for m in s.query(Message).all()} >= {privacy.REDACTED}
    assert figures(report(db, baseline_year=2025)) == before


def test_month_range_defaults_and_errors():
    today = dt.date(2026, 3, 15)
    assert kpi.month_range(None, None, today) == [f"2025-{m:02d}" for m in range(4, 13)] + ["2026-01", "2026-02", "2026-03"]
    assert kpi.month_range("2025-11", "2026-02", today) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert kpi.month_range(None, "2026-01", today)[0] == "2025-02"
    for first, last in (("2026-13", None), ("2026-1", None), ("tháng 1", None), ("2026-03", "2026-01"), ("2020-01", "2026-01"),
                        ("1999-12", "2000-01")):
        with pytest.raises(kpi.KpiRangeError):
            kpi.month_range(first, last, today)


# --- the page and the CSV ----------------------------------------------------------------------


@pytest.fixture
def kpi_app(make_app, channel_config):
    return make_app({**channel_config, "KPI_BASELINE_YEAR": "2025"})


@pytest.fixture
def seeded(kpi_app, runner):
    seed(kpi_app.extensions["bot"].db)
    auth = AuthActions(kpi_app.test_client())
    auth.login(add_officer(runner, kpi_app, "canbo@congdoan.vn"))  # a plain officer may see the KPI
    return auth


def test_kpi_page_shows_table_and_accessible_svg_charts(seeded):
    html = seeded.client.get("/dashboard/kpi?from=2026-01&to=2026-04").get_data(as_text=True)
    assert '<svg id="chart-kpi-answered" role="img" aria-labelledby="kpi-answered-title kpi-answered-desc"' in html
    assert '<title id="kpi-answered-title">' in html and '<desc id="kpi-24h-desc">' in html
    assert 'id="kpi-target-line"' in html and "Mục tiêu 5.0" in html  # the doubling target of the 2025 baseline
    row = re.search(r'<tr><th scope="row">2026-01</th>(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells == ["10", "6", "2", "8", "3", "1", "33.3% (1/3)", "—", "+100.0%", "160.0%"]
    assert '<th scope="row">2026-03</th><td>0</td>' in html
    assert "Mức gốc: bình quân 2.5 câu" in html
    assert 'href="/dashboard/kpi"' in html  # the nav link, for every officer


def test_kpi_csv_has_bom_vietnamese_headers_and_the_same_figures(seeded):
    resp = seeded.client.get("/dashboard/kpi.csv?from=2026-01&to=2026-04")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "kpi-2026-01-2026-04.csv" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert tuple(rows[0]) == kpi.CSV_HEADER and rows[0][0] == "Tháng"
    assert rows[1] == ["2026-01", "Tất cả các kênh", "10", "6", "2", "8", "3", "1", "3", "1", "33.3", "", "100.0", "160.0"]
    assert rows[3] == ["2026-03", "Tất cả các kênh", "0", "0", "0", "0", "0", "0", "0", "0", "", "-100.0", "-100.0", "0.0"]
    zalo_jan = next(r for r in rows if r[:2] == ["2026-01", "Zalo OA"])
    assert zalo_jan == ["2026-01", "Zalo OA", "3", "1", "1", "2", "1", "1", "1", "0", "0.0", "", "", ""]
    assert ["Mục tiêu mỗi tháng (gấp đôi mức gốc)", "5.0"] in rows and ["Đạt so với mục tiêu (%)", "60.0"] in rows


@pytest.mark.parametrize("query", ["from=2026-13", "from=abc", "to=2026-1", "from=2026-04&to=2026-01", "from=2000-01&to=2026-01"])
def test_bad_ranges_are_400_in_vietnamese(seeded, query):
    for path in ("/dashboard/kpi", "/dashboard/kpi.csv"):
        resp = seeded.client.get(f"{path}?{query}")
        assert resp.status_code == 400
        assert re.search("phải là một tháng|phải trước hoặc trùng|tối đa 60 tháng", resp.get_data(as_text=True))


def test_kpi_needs_login(kpi_app):
    client = kpi_app.test_client()
    for path in ("/dashboard/kpi", "/dashboard/kpi.csv"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/dashboard/login" in resp.headers["Location"]


def test_questions_through_the_dialogue_and_an_officer_reply_are_counted(channel_app, runner):
    """A worker on Messenger gets a FAQ answer, greets, then asks for an officer, who replies."""
    client = channel_app.test_client()
    for i, text in enumerate(("cho em hỏi về nghỉ phép năm", "xin chào", "cho em gặp cán bộ công đoàn")):
        fb_post(client, fb_body(fb_text("psid-kpi", f"mid-kpi-{i}", text)))
        channel_app.extensions["bot"].workers.drain()
    auth = AuthActions(client)
    auth.login(add_officer(runner, channel_app, "canbo@congdoan.vn"))
    with channel_app.extensions["bot"].db.read() as s:
        code = s.query(Ticket.code).one()[0]
    assert auth.post(f"/dashboard/tickets/{code}/reply", {"text": "Chào bạn, cán bộ trả lời như sau", "action": "send"}).status_code in (200, 302)
    this_month = f"{vntime.today():%Y-%m}"
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/kpi.csv").get_data(as_text=True)[1:])))
    total = next(r for r in rows if r[:2] == [this_month, "Tất cả các kênh"])
    messenger = next(r for r in rows if r[:2] == [this_month, "Messenger (fanpage)"])
    # questions, bot, officer, answered, hand-offs, not understood, due, within 24 h, %
    assert total[2:11] == ["2", "1", "1", "2", "1", "0", "1", "1", "100.0"] and messenger[2:11] == total[2:11]
