"""Reports for leaders: the page, its CSV and the ``report`` command agree on the same figures."""

import datetime as dt
import json

from bot.cli import main


def test_reports_page_csv_and_cli(runner, channel_app, auth, officer, ticket):
    auth.login(officer)
    auth.post(f"/dashboard/tickets/{ticket}/reply", {"text": "Đã trả lời", "action": "send_resolve"})
    html = auth.client.get("/dashboard/reports").get_data(as_text=True)
    assert "100.0%" in html and '<svg id="chart-tickets"' in html and "<rect" in html
    csv_text = auth.client.get("/dashboard/reports.csv").get_data(as_text=True)
    assert "percent_within_sla,100.0" in csv_text and "messenger" in csv_text.splitlines()[0]
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    data = json.loads(runner.invoke(main, ["report", "--format", "json"], env=env).output)
    assert data["tickets"] == 1 and data["sla"]["percent_within_sla"] == 100.0
    month = dt.date.today().strftime("%Y-%m")
    assert data["answered_per_month"][month]["officer"] == 1
    assert runner.invoke(main, ["report", "--from", "hôm qua"], env=env).exit_code == 2
