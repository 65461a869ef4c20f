"""On the dashboard an error is a Vietnamese HTML page in the dashboard's look that never echoes the
request; the JSON API keeps answering errors in JSON."""

from sqlalchemy.exc import ProgrammingError

from bot.cli import main


def html_page(response, status: int) -> str:
    assert response.status_code == status and response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_missing_ticket_is_an_html_404(auth, officer):
    auth.login(officer)
    html = html_page(auth.client.get("/dashboard/tickets/CD-XXXXX"), 404)
    assert "Không tìm thấy trang" in html and "mã phiếu" in html
    assert "Đăng xuất" in html  # the dashboard's header, for the signed-in officer


def test_unknown_page_and_wrong_method_are_html(auth):
    assert "Không tìm thấy trang" in html_page(auth.client.get("/dashboard/khong-co-trang-nay"), 404)
    assert "Thao tác không được hỗ trợ" in html_page(auth.client.get("/dashboard/logout"), 405)


def test_failed_csrf_check_is_an_html_400_without_the_form(auth, officer, ticket):
    auth.login(officer)
    response = auth.client.post(f"/dashboard/tickets/{ticket}/note", data={"text": "Số điện thoại em 0912 345 678"})
    html = html_page(response, 400)
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in html and "0912 345 678" not in html


def test_admin_page_for_an_officer_is_an_html_403(auth, officer):
    auth.login(officer)
    assert "Không có quyền truy cập" in html_page(auth.client.get("/dashboard/suggestions"), 403)


def test_malformed_report_date_is_an_html_400(auth, officer):
    auth.login(officer)
    assert "Ngày phải có dạng YYYY-MM-DD." in html_page(auth.client.get("/dashboard/reports?from=h%C3%B4m-qua"), 400)


def test_unexpected_error_is_an_html_500(channel_app, auth, officer, ticket, monkeypatch):
    def broken_query(session, ticket_id):
        raise ProgrammingError("SELECT * FROM ticket_notes", {}, Exception("relation ticket_notes does not exist"))

    monkeypatch.setattr("bot.dashboard.tickets.transcript", broken_query)
    auth.login(officer)
    html = html_page(auth.client.get(f"/dashboard/tickets/{ticket}"), 500)
    assert "Hệ thống đang gặp lỗi" in html and "ticket_notes" not in html


def test_api_errors_stay_json(runner, channel_app, officer):
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    token = runner.invoke(main, ["officers", "token", officer], env=env).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    client = channel_app.test_client()
    missing = client.get("/api/tickets/CD-XXXXX", headers=headers)
    assert missing.status_code == 404 and missing.get_json() == {"error": "not_found", "message": "Không tìm thấy phiếu."}
    unknown = client.get("/api/khong-co", headers=headers)
    assert unknown.status_code == 404 and unknown.get_json() == {"error": "not_found", "message": "Không tìm thấy."}
    bad_date = client.get("/api/reports/sla?from=h%C3%B4m-qua", headers=headers)
    assert bad_date.status_code == 400
    assert bad_date.get_json() == {"error": "bad_request", "message": "Yêu cầu không hợp lệ."}
