"""The JSON API for integrations: officer tokens, tickets with Vietnam-time stamps, replies, the SLA report."""

import datetime as dt

from bot.cli import main


def test_json_api(runner, channel_app, officer, ticket):
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    token = runner.invoke(main, ["officers", "token", officer], env=env).output.strip()
    client = channel_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/tickets").status_code == 401
    assert client.get("/api/tickets", headers={"Authorization": "Bearer wrong"}).status_code == 401
    listing = client.get("/api/tickets?status=open", headers=headers).get_json()
    [item] = listing["tickets"]
    assert item["code"] == ticket and item["status"] == "open" and item["channel"] == "messenger"
    assert item["created_at"].endswith("+07:00") and item["due_at"].endswith("+07:00") and item["first_response_at"] is None
    created = dt.datetime.fromisoformat(item["created_at"])
    assert dt.datetime.fromisoformat(item["due_at"]) - created == dt.timedelta(hours=24)
    detail = client.get(f"/api/tickets/{ticket}", headers=headers).get_json()
    assert [m["author"] for m in detail["transcript"]] == ["worker", "bot"]
    assert client.post(f"/api/tickets/{ticket}/reply", headers=headers, json={"text": ""}).status_code == 409
    assert client.post(f"/api/tickets/{ticket}/reply", headers=headers, data="x").status_code == 400
    ok = client.post(f"/api/tickets/{ticket}/reply", headers=headers, json={"text": "Cán bộ trả lời qua API", "resolve": True})
    assert ok.status_code == 202 and ok.get_json()["delivery"] == "pending"
    resolved = client.get(f"/api/tickets/{ticket}", headers=headers).get_json()
    assert resolved["status"] == "resolved"
    worker, _, reply = resolved["transcript"]
    assert "delivery" not in worker and reply["author"] == "officer" and reply["at"].endswith("+07:00")
    assert reply["delivery"] == "pending" and reply["delivery_error"] is None
    assert client.get("/api/tickets/CD-XXXXX", headers=headers).status_code == 404
    sla = client.get("/api/reports/sla", headers=headers).get_json()
    assert sla["tickets"] == 1 and sla["sla"]["answered_within_sla"] == 1
