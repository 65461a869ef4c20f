"""The whole learning loop in a real browser, on the project's model, with the retrain run by the
workers' job thread (thread mode): a question the bot cannot answer → labelled → retrained →
compared → activated → the same question is answered through the REST channel."""

from __future__ import annotations

import shutil
import time

import pytest
from sqlalchemy import select

from bot.storage.models import Message, TrainingJob

from .browser import LiveServer, make_driver
from .conftest import PASSWORD, add_officer

QUESTION = "đi làm bị chó cắn trên đường có được bồi thường không"
ENTRY = "tai_nan_lao_dong__tren_duong"


@pytest.fixture(autouse=True)
def no_selenium_manager(monkeypatch):
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def refuse(*args, **kwargs):
        raise AssertionError("Selenium Manager was called; name the installed chromedriver instead")

    monkeypatch.setattr(SeleniumManager, "binary_paths", refuse)


def _asked(app, sender: str) -> Message:
    response = app.test_client().post("/webhooks/rest/webhook", json={"sender": sender, "message": QUESTION})
    assert response.status_code == 200 and response.get_json()
    with app.extensions["bot"].db.read() as s:
        row = s.scalars(select(Message).where(Message.text == QUESTION).order_by(Message.id.desc()).limit(1)).one()
        s.expunge(row)
        return row


@pytest.mark.slow
def test_learning_loop_in_chromium(make_app, app_config, project_models_dir, project_model, runner, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    models = shutil.copytree(project_models_dir, tmp_path / "models")
    app = make_app({"MODELS_DIR": str(models), "WORKER_MODE": "thread", "RETRAIN_FOLDS": 3}, nlu=project_model, start=True)
    before = _asked(app, "worker-before")
    assert before.action != "answer", f"the project model already answers it: {before.action} {before.faq_id}"
    add_officer(runner, app, "bao.tri@congdoan.vn", role="maintainer", name="Lê Bảo Trì")
    server = LiveServer(app)
    driver = make_driver()
    try:
        wait = WebDriverWait(driver, 30)
        driver.get(server.url + "/dashboard/login")
        wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys("bao.tri@congdoan.vn")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.LINK_TEXT, "Học từ câu hỏi thật"))).click()
        row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-message="{before.id}"]')))
        assert QUESTION in row.text
        box = row.find_element(By.NAME, "intent")
        box.send_keys(f"faq/{ENTRY}")
        row.find_element(By.CSS_SELECTOR, "button[value=pick]").click()
        status = wait.until(EC.visibility_of_element_located((By.ID, "learn-status")))
        wait.until(lambda d: "Đã gắn nhãn" in status.text)
        assert not driver.find_elements(By.CSS_SELECTOR, f'tr[data-message="{before.id}"]')

        driver.find_element(By.LINK_TEXT, "Mô hình").click()
        started = time.perf_counter()
        wait.until(EC.element_to_be_clickable((By.XPATH, "//button[contains(., 'Huấn luyện lại với 1 nhãn')]"))).click()
        WebDriverWait(driver, 900).until(EC.presence_of_element_located((By.ID, "activate")))
        waited = time.perf_counter() - started
        labelled = driver.find_element(By.ID, "labelled").text
        assert f"Đúng · answer {ENTRY}" in labelled, labelled
        assert driver.find_element(By.ID, "labelled-after").text == "1"
        driver.find_element(By.ID, "activate").click()
        flash = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok"))).text
        assert "Đang dùng mô hình mới" in flash
    finally:
        driver.quit()
        server.close()
    after = _asked(app, "worker-after")
    assert (after.action, after.faq_id) == ("answer", ENTRY)
    with app.extensions["bot"].db.read() as s:
        job = s.scalars(select(TrainingJob)).one()
        c = job.comparison
    figures = {st["name"]: (st["n"], st["base"], st["candidate"], st["n_changed"]) for st in c["sets"]}
    print(f"\nretrain: {c['train_seconds']} s training on {c['n_examples']} examples, {c['seconds']} s comparison; "
          f"{waited:.1f} s from the click to the comparison page")
    for name, (n, base, cand, changed) in figures.items():
        print(f"  {name} ({n} messages): in use {base} → candidate {cand}; {changed} outcomes changed")
