"""The web chat widget: served, embeddable, and a real exchange in headless Chromium."""

import pytest
from sqlalchemy import select

from .browser import LiveServer, make_driver


@pytest.fixture(autouse=True)
def no_selenium_manager(monkeypatch):
    """The browser tests must not phone home: Selenium Manager (which downloads drivers and sends
    usage statistics) may not run at all."""
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def refuse(*args, **kwargs):
        raise AssertionError("Selenium Manager was called; name the installed chromedriver instead")

    monkeypatch.setattr(SeleniumManager, "binary_paths", refuse)


def test_widget_and_page_are_served(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="vi"' in html and "widget.js" in html and "Hỏi đáp pháp luật lao động" in html
    js = client.get("/widget.js")
    assert js.status_code == 200 and js.mimetype == "application/javascript"
    assert "innerHTML" not in js.get_data(as_text=True)


def test_rest_channel_allows_cross_origin_embedding(client):
    pre = client.options("/webhooks/rest/webhook", headers={"Origin": "https://congdoan.example.vn", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == "*"


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.close()


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_widget_exchanges_messages_in_chromium(live, app, width):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver = make_driver(width=width, height=844)
    try:
        driver.get(live.url + "/")
        wait = WebDriverWait(driver, 20)
        wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".cdw-btn"))).click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".cdw-bot"))
        assert "Chào bạn" in driver.find_elements(By.CSS_SELECTOR, ".cdw-bot")[0].text
        panel = driver.find_element(By.CSS_SELECTOR, ".cdw-panel")
        assert panel.size["width"] <= width
        box = driver.find_element(By.CSS_SELECTOR, ".cdw-form input")
        box.send_keys("cho em hỏi nghỉ phép năm được mấy ngày")
        driver.find_element(By.CSS_SELECTOR, ".cdw-form button").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".cdw-bot")) >= 2)
        answer = driver.find_elements(By.CSS_SELECTOR, ".cdw-bot")[-1].text
        assert "12 ngày" in answer and "Căn cứ" in answer
        quick = [b.text for b in driver.find_elements(By.CSS_SELECTOR, ".cdw-quick button")]
        assert "Hữu ích 👍" in quick
        driver.find_element(By.XPATH, "//div[@class='cdw-quick'][last()]/button[text()='Chưa rõ, gặp cán bộ']").click()
        wait.until(lambda d: "CD-" in d.find_elements(By.CSS_SELECTOR, ".cdw-bot")[-1].text)
        driver.save_screenshot(str(app.instance_path) + f"/webchat-{width}.png")
    finally:
        driver.quit()
    from bot.storage.models import Ticket

    with app.extensions["bot"].db.session() as s:
        assert s.scalars(select(Ticket)).one().question == "cho em hỏi nghỉ phép năm được mấy ngày"


@pytest.mark.slow
def test_officer_dashboard_in_chromium(channel_app, runner, fake_graph):
    """Login, claim, reply, resolve, the report chart and the KPI page, in a real browser."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from .conftest import PASSWORD, add_officer, fb_body, fb_post, fb_text

    add_officer(runner, channel_app, "canbo@congdoan.vn", name="Nguyễn Văn A")
    fb_post(channel_app.test_client(), fb_body(fb_text("psid-browser", "mid-browser", "cho em gặp cán bộ, công ty nợ lương em")))
    channel_app.extensions["bot"].workers.drain()
    server = LiveServer(channel_app)
    driver = make_driver()
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(server.url + "/dashboard/")
        wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys("canbo@congdoan.vn")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.XPATH, "//h1[contains(., 'Hàng đợi')]")))
        assert "Còn 23 giờ" in driver.find_element(By.CSS_SELECTOR, "[data-due]").text
        driver.find_element(By.XPATH, "//button[text()='Nhận xử lý']").click()
        wait.until(EC.presence_of_element_located((By.XPATH, "//div[contains(@class,'flash')]")))
        driver.find_element(By.LINK_TEXT, "Hàng đợi").click()
        driver.find_element(By.CSS_SELECTOR, "td a").click()
        box = wait.until(EC.presence_of_element_located((By.ID, "reply-text")))
        box.send_keys("Chào bạn, cán bộ công đoàn sẽ liên hệ với công ty của bạn.")
        driver.find_element(By.XPATH, "//button[@value='send_resolve']").click()
        flash = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok"))).text
        assert "Đã gửi câu trả lời" in flash
        assert "Đã giải quyết" in driver.find_element(By.TAG_NAME, "h1").text
        driver.find_element(By.LINK_TEXT, "Báo cáo").click()
        chart = wait.until(EC.presence_of_element_located((By.ID, "chart-tickets")))
        assert chart.find_elements(By.TAG_NAME, "rect") and chart.size["height"] > 100
        assert "100.0%" in driver.find_element(By.CSS_SELECTOR, ".kpis").text
        driver.find_element(By.LINK_TEXT, "Chỉ số KPI").click()
        chart = wait.until(EC.presence_of_element_located((By.ID, "chart-kpi-answered")))
        assert chart.find_elements(By.CSS_SELECTOR, "rect[fill='#c8102e']") and chart.size["height"] > 100
        assert "100.0%" in driver.find_element(By.ID, "kpi-months").text  # the ticket answered within 24 hours
    finally:
        driver.quit()
        server.close()
    channel_app.extensions["bot"].workers.drain()
    assert any("cán bộ công đoàn sẽ liên hệ" in r.json()["message"]["text"] for r in fake_graph.sent("/me/messages"))
