"""The FAQ editor pages: roles, CSRF, validation, optimistic locking, history, schedule, bad input."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot import faq_edits

from .conftest import AuthActions, add_officer

ENTRY = "nghi_phep_nam"
REST = "/webhooks/rest/webhook"


@pytest.fixture
def maintainer(runner, channel_app):
    return add_officer(runner, channel_app, "baotri@congdoan.vn", role="maintainer", name="Lê Văn Bảo")


def signed_in(app, email) -> AuthActions:
    auth = AuthActions(app.test_client())
    auth.login(email)
    return auth


def form_of(auth, path) -> dict:
    """The fields of the edit form as a browser would send them (textareas, inputs, the selected option)."""
    html = auth.client.get(path).get_data(as_text=True)
    form = html[html.index('id="faq-form"'):html.index("</form>", html.index('id="faq-form"'))]
    data: dict = {}
    for name, value in re.findall(r'<input (?:type="hidden" )?name="(\w+)" value="([^"]*)"', form):
        data.setdefault(name, []).append(unescape(value))
    for name, value in re.findall(r'<textarea name="(\w+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = [unescape(value)]
    for name, options in re.findall(r'<select name="(\w+)">(.*?)</select>', form, re.S):
        data[name] = [re.search(r'<option value="(\w+)" selected>', options).group(1)]
    data.pop("csrf_token", None)
    return data


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


def ask(app, text, sender="w1"):
    return " ".join(r["text"] for r in app.test_client().post(REST, json={"sender": sender, "message": text}).get_json())


def test_officers_get_403_on_every_route(channel_app, officer):
    auth = signed_in(channel_app, officer)
    for path in ("/dashboard/faq", f"/dashboard/faq/{ENTRY}", "/dashboard/faq/new", f"/dashboard/faq/{ENTRY}/history"):
        assert auth.client.get(path).status_code == 403, path
    for path in (f"/dashboard/faq/{ENTRY}", "/dashboard/faq/new", f"/dashboard/faq/{ENTRY}/check", f"/dashboard/faq/{ENTRY}/revert"):
        assert auth.post(path, {"version": "0"}).status_code == 403, path
    assert "Sửa FAQ" not in auth.client.get("/dashboard/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(channel_app):
    response = channel_app.test_client().get("/dashboard/faq")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_post_without_csrf_is_refused(channel_app, maintainer):
    auth = signed_in(channel_app, maintainer)
    data = form_of(auth, f"/dashboard/faq/{ENTRY}")
    response = auth.client.post(f"/dashboard/faq/{ENTRY}", data=data)
    assert response.status_code == 400 and "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert auth.client.post(f"/dashboard/faq/{ENTRY}/check", data=data).status_code == 400


def test_list_page(channel_app, maintainer):
    auth = signed_in(channel_app, maintainer)
    html = auth.client.get("/dashboard/faq").get_data(as_text=True)
    assert "Cần rà soát" in html and "Sắp thay đổi" in html and f"/dashboard/faq/{ENTRY}" in html and "Sửa FAQ" in html
    found = auth.client.get("/dashboard/faq", query_string={"q": "phép năm", "group": "thoi_gio_nghi_ngoi"}).get_data(as_text=True)
    assert ENTRY in found and "luong_toi_thieu_vung\"" not in found


def test_edit_saves_and_the_bot_answers_at_once(channel_app, maintainer):
    auth = signed_in(channel_app, maintainer)
    data = form_of(auth, f"/dashboard/faq/{ENTRY}")
    assert data["base_version"] == ["0"] and len(data["examples"][0].splitlines()) >= 30
    data["answer"] = [data["answer"][0].replace("12 ngày làm việc", "mười hai ngày làm việc")]
    data["note"] = ["viết số bằng chữ"]
    response = auth.post(f"/dashboard/faq/{ENTRY}", data, follow_redirects=True)
    assert response.status_code == 200 and "Đã lưu phiên bản 1" in response.get_data(as_text=True)
    assert "mười hai ngày làm việc" in ask(channel_app, "cho em hỏi nghỉ phép năm")
    listing = auth.client.get("/dashboard/faq").get_data(as_text=True)
    assert "đã sửa trên trình duyệt" in listing
    history = auth.client.get(f"/dashboard/faq/{ENTRY}/history").get_data(as_text=True)
    assert "baotri@congdoan.vn" in history and "viết số bằng chữ" in history and "mười hai ngày" in history


def test_validation_errors_are_shown_and_nothing_is_lost(channel_app, maintainer):
    auth = signed_in(channel_app, maintainer)
    data = form_of(auth, f"/dashboard/faq/{ENTRY}")
    typed = data["answer"][0] + "\nTheo Luật Bảo hiểm xã hội 58/2014/QH13 thì…"
    data.update(answer=[typed], as_of=["2026-02-30"], note=["ghi chú của tôi"])
    response = auth.post(f"/dashboard/faq/{ENTRY}", data)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "ngày dạng YYYY-MM-DD" in html
    assert typed in html and "ghi chú của tôi" in html and "2026-02-30" in html
    data["as_of"] = ["2026-12-01"]
    checked = auth.post(f"/dashboard/faq/{ENTRY}/check", data).get_json()
    assert any("58/2014/QH13" in e for e in checked["errors"])
    assert checked["preview"]["messenger"][0]["text"].startswith("Làm đủ 12 tháng") and "Hữu ích 👍" in checked["preview"]["messenger"][-1]["buttons"]
    with channel_app.extensions["bot"].db.read() as s:
        assert faq_edits.last_revision_id(s) == 0


def test_the_second_of_two_maintainers_is_told_and_keeps_the_text(channel_app, maintainer, admin):
    first, second = signed_in(channel_app, maintainer), AuthActions(channel_app.test_client())
    second.login(admin)
    mine, theirs = form_of(first, f"/dashboard/faq/{ENTRY}"), form_of(second, f"/dashboard/faq/{ENTRY}")
    mine["button"] = ["Phép năm"]
    assert first.post(f"/dashboard/faq/{ENTRY}", mine).status_code == 302
    theirs["button"] = ["Nghỉ phép hằng năm"]
    response = second.post(f"/dashboard/faq/{ENTRY}", theirs)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "baotri@congdoan.vn" in html and "phiên bản 1" in html and 'value="Nghỉ phép hằng năm"' in html
    assert 'name="base_version" value="1"' in html  # a second click saves over it, knowingly
    theirs["base_version"] = ["1"]
    assert second.post(f"/dashboard/faq/{ENTRY}", theirs).status_code == 302
    with channel_app.extensions["bot"].db.read() as s:
        assert faq_edits.latest_revision(s, ENTRY).author == "admin@congdoan.vn"


def test_history_and_revert(channel_app, maintainer):
    auth = signed_in(channel_app, maintainer)
    data = form_of(auth, f"/dashboard/faq/{ENTRY}")
    original = data["button"][0]
    data["button"] = ["Phép năm"]
    auth.post(f"/dashboard/faq/{ENTRY}", data)
    html = auth.client.get(f"/dashboard/faq/{ENTRY}/history").get_data(as_text=True)
    assert "Khôi phục phiên bản này" in html and f"<del>{original}</del>" in html and "<ins>Phép năm</ins>" in html
    response = auth.post(f"/dashboard/faq/{ENTRY}/revert", {"version": "0", "base_version": "1"}, follow_redirects=True)
    assert "Đã khôi phục phiên bản 0 thành phiên bản mới 2" in response.get_data(as_text=True)
    assert form_of(auth, f"/dashboard/faq/{ENTRY}")["button"] == [original]
    stale = auth.post(f"/dashboard/faq/{ENTRY}/revert", {"version": "1", "base_version": "1"})
    assert stale.status_code == 409 and "phiên bản 2" in stale.get_data(as_text=True)


def test_new_entry(channel_app, maintainer):
    auth = signed_in(channel_app, maintainer)
    assert auth.client.get("/dashboard/faq/new").status_code == 200
    data = {"entry_id": "ho_tro_tai_nan_doan_vien", "title": "Công đoàn có hỗ trợ đoàn viên bị tai nạn không?", "topic": "ho_tro_tai_nan",
            "group": "cong_doan", "button": "Hỗ trợ tai nạn", "escalate": "offer", "as_of": "2026-12-01",
            "answer": "Công đoàn cơ sở thăm hỏi, hỗ trợ đoàn viên gặp tai nạn theo quy chế của đơn vị; gọi {hotline}.\n"
                      "Căn cứ: Điều 10 Luật Công đoàn 2024 (50/2024/QH15).",
            "basis_document": "Luật Công đoàn 2024", "basis_number": "50/2024/QH15", "basis_article": "Điều 10",
            "examples": "\n".join(f"đoàn viên bị tai nạn có được công đoàn hỗ trợ không {i}" for i in range(5))}
    refused = auth.post("/dashboard/faq/new", data)
    assert refused.status_code == 400 and "chỉ có 5 câu ví dụ (cần ít nhất 30)" in refused.get_data(as_text=True)
    assert "ho_tro_tai_nan_doan_vien" in refused.get_data(as_text=True)
    data["examples"] = "\n".join(f"đoàn viên bị tai nạn có được công đoàn hỗ trợ không {i}" for i in range(30))
    assert auth.post("/dashboard/faq/new", data).status_code == 302
    assert "mới tạo trên trình duyệt" in auth.client.get("/dashboard/faq").get_data(as_text=True)
    hotline = channel_app.extensions["bot"].settings["HOTLINE"]
    assert f"gọi {hotline}" in ask(channel_app, "/faq/ho_tro_tai_nan_doan_vien")
    again = auth.post("/dashboard/faq/new", data)
    assert again.status_code == 409 and "baotri@congdoan.vn" in again.get_data(as_text=True)


def test_a_scheduled_revision_is_answered_from_its_date(channel_app, maintainer):
    runtime = channel_app.extensions["bot"]
    runtime.knowledge_check_seconds = 0
    runtime.today = lambda: dt.date(2026, 12, 3)
    auth = signed_in(channel_app, maintainer)
    data = form_of(auth, f"/dashboard/faq/{ENTRY}")
    data["answer"] = [data["answer"][0].replace("12 ngày làm việc", "12 ngày (2027)")]
    data["takes_effect_on"] = ["2027-01-01"]
    response = auth.post(f"/dashboard/faq/{ENTRY}", data, follow_redirects=True)
    assert "áp dụng từ ngày 01/01/2027" in response.get_data(as_text=True), re.findall(r"<li>(.*?)</li>", response.get_data(as_text=True))
    listing = auth.client.get("/dashboard/faq").get_data(as_text=True)
    assert "đã hẹn ngày áp dụng" in listing and "áp dụng phiên bản 1" in listing
    runtime.today = lambda: dt.date(2026, 12, 31)
    assert "12 ngày (2027)" not in ask(channel_app, "cho em hỏi nghỉ phép năm", "w-a")
    runtime.today = lambda: dt.date(2027, 1, 1)
    assert "12 ngày (2027)" in ask(channel_app, "cho em hỏi nghỉ phép năm", "w-b")


def test_bad_input_gets_a_vietnamese_4xx(channel_app, maintainer):
    auth = signed_in(channel_app, maintainer)
    assert auth.client.get("/dashboard/faq/khong_co_muc_nay").status_code == 404
    assert auth.client.get("/dashboard/faq/khong_co_muc_nay/history").status_code == 404
    missing = auth.post("/dashboard/faq/khong_co_muc_nay", {"title": "x"})
    assert missing.status_code == 404 and "Không có mục FAQ" in missing.get_data(as_text=True)
    assert auth.post("/dashboard/faq/khong_co_muc_nay/check", {"title": "x"}).status_code == 404
    assert auth.post("/dashboard/faq/khong_co_muc_nay/revert", {"version": "0"}).status_code == 404
    data = form_of(auth, f"/dashboard/faq/{ENTRY}")
    huge = auth.post(f"/dashboard/faq/{ENTRY}", {**data, "answer": "Căn cứ: " + "x" * 5000})
    assert huge.status_code == 400 and "tối đa 1000" in huge.get_data(as_text=True)
    schedule = auth.post(f"/dashboard/faq/{ENTRY}", {**data, "takes_effect_on": "01/01/2027"})
    assert schedule.status_code == 400 and "Ngày áp dụng phải có dạng YYYY-MM-DD" in schedule.get_data(as_text=True)
    past = auth.post(f"/dashboard/faq/{ENTRY}", {**data, "takes_effect_on": "2020-01-01"})
    assert past.status_code == 400 and "không được ở quá khứ" in past.get_data(as_text=True)
    version = auth.post(f"/dashboard/faq/{ENTRY}", {**data, "base_version": "abc"})
    assert version.status_code == 400 and "số phiên bản" in version.get_data(as_text=True)
    token = auth.csrf_token()
    body = f"csrf_token={token}&base_version=0&title=%FF%FE+ngh%E1+ph%E9p&answer=C%C4%83n+c%E1%BB%A9"  # Latin-1 bytes, not UTF-8
    raw = auth.client.post(f"/dashboard/faq/{ENTRY}", data=body, content_type="application/x-www-form-urlencoded")
    assert raw.status_code == 400 and "không phải UTF-8" in raw.get_data(as_text=True)
    too_big = auth.post(f"/dashboard/faq/{ENTRY}", {**data, "examples": "câu hỏi\n" * 200_000})
    assert too_big.status_code == 413 and "quá giới hạn" in too_big.get_data(as_text=True)
    with channel_app.extensions["bot"].db.read() as s:
        assert faq_edits.last_revision_id(s) == 0


@pytest.mark.slow
def test_edit_in_chromium_with_live_validation(channel_app, runner, maintainer):
    """Edit an answer, see the live error for a repealed law, fix it, save, and the REST channel answers the new text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from .browser import LiveServer, make_driver
    from .conftest import PASSWORD

    server = LiveServer(channel_app)
    driver = make_driver()
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(server.url + f"/dashboard/faq/{ENTRY}")
        wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys(maintainer)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        answer = wait.until(EC.presence_of_element_located((By.ID, "answer")))
        errors = driver.find_element(By.ID, "errors")
        assert not errors.is_displayed()
        answer.send_keys(" Theo Luật 58/2014/QH13.")
        wait.until(lambda d: errors.is_displayed() and "58/2014/QH13" in errors.text)
        assert "Luật 58/2014/QH13" in driver.find_element(By.ID, "preview-messenger").text
        answer.clear()
        text = "Bạn được nghỉ phép năm 12 ngày làm việc mỗi năm (bản sửa trên trình duyệt).\nCăn cứ: Điều 113 Bộ luật Lao động 2019 (45/2019/QH14)."
        answer.send_keys(text)
        wait.until(lambda d: not errors.is_displayed())
        wait.until(lambda d: "bản sửa trên trình duyệt" in d.find_element(By.ID, "preview-zalo").text)
        driver.find_element(By.NAME, "note").send_keys("rút gọn câu trả lời")
        driver.find_element(By.CSS_SELECTOR, "#faq-form button[type=submit]").click()
        flash = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok"))).text
        assert "Đã lưu phiên bản 1" in flash
    finally:
        driver.quit()
        server.close()
    assert "(bản sửa trên trình duyệt)" in ask(channel_app, "cho em hỏi nghỉ phép năm", "w-browser")


def test_another_process_picks_up_a_save(channel_app, make_app, channel_config, maintainer):
    other = make_app(channel_config)  # a second server process on the same database
    other.extensions["bot"].knowledge_check_seconds = 0
    assert "(đã sửa)" not in ask(other, "cho em hỏi nghỉ phép năm", "w-o1")
    auth = signed_in(channel_app, maintainer)
    data = form_of(auth, f"/dashboard/faq/{ENTRY}")
    data["answer"] = [data["answer"][0].replace("12 ngày làm việc", "12 ngày (đã sửa)")]
    assert auth.post(f"/dashboard/faq/{ENTRY}", data).status_code == 302
    assert "12 ngày (đã sửa)" in ask(other, "cho em hỏi nghỉ phép năm", "w-o2")
