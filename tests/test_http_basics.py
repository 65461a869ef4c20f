"""Health endpoints, /model/parse and error handling over HTTP."""

import pytest

from server import create_app


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_database_and_model(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["model"]["version"]


def test_model_parse_rasa_shape(tiny_client):
    response = tiny_client.post("/model/parse", json={"text": "tôi muốn đặt vé máy bay đi Huế"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["text"] == "tôi muốn đặt vé máy bay đi Huế"
    assert body["intent"]["name"] == "dat_ve_may_bay"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0] == body["intent"]
    assert len(body["intent_ranking"]) <= 10
    assert body["entities"] == []  # nothing of a worker's case in this text


def test_model_parse_with_the_project_model(project_client):
    response = project_client.post("/model/parse", json={"text": "cho em hỏi lương tối thiểu vùng 1 năm 2026"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["text"].startswith("cho em hỏi")
    assert body["intent"]["name"] == "faq/luong_toi_thieu_vung"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0]["name"] == body["intent"]["name"]
    assert len(body["intent_ranking"]) <= 10
    [region] = body["entities"]
    assert (region["entity"], region["value"], body["text"][region["start"]: region["end"]]) == ("region", "I", "vùng 1")
    assert region["extractor"] == "VietnameseRuleExtractor"


@pytest.mark.parametrize("text", ["", "    ", "😀😀😀", "a" * 9_999, "hello world how are you", "Привет", "中文 xin chào 🙂 abc"])
def test_model_parse_bad_input_low_confidence(tiny_client, text):
    response = tiny_client.post("/model/parse", json={"text": text})
    assert response.status_code == 200
    body = response.get_json()
    assert 0.0 <= body["intent"]["confidence"] <= 1.0
    if not text.strip() or text == "😀😀😀":
        assert body["intent"]["confidence"] == 0.0


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"data": "not json", "content_type": "application/json"}, 400),
        ({"json": ["a", "list"]}, 400),
        ({"json": {"text": 123}}, 400),
        ({"json": {"text": "x" * 10_001}}, 413),
        ({"data": b"x" * (2 * 1024 * 1024), "content_type": "application/json"}, 413),
    ],
)
def test_model_parse_rejects_malformed_requests_without_echoing(client, kwargs, status):
    response = client.post("/model/parse", **kwargs)
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] and body["message"]
    assert "not json" not in response.get_data(as_text=True)


def test_unknown_route_is_json_404(client):
    response = client.get("/khong-co")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_missing_model_gives_503_with_train_command(app_config, tmp_path):
    app = create_app({**app_config, "MODELS_DIR": str(tmp_path / "empty-models")})
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "python -m bot train" in ready.get_json()["checks"]["model"]["error"]
    response = client.post("/model/parse", json={"text": "xin chào"})
    assert response.status_code == 503
    assert "python -m bot train" in response.get_json()["message"]
    app.extensions["bot"].shutdown()


def test_database_down_is_reported_not_fatal(app_config):
    app = create_app({**app_config, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.get_json()["checks"]
    assert checks["database"]["ok"] is False and "Không kết nối được" in checks["database"]["error"]
    app.extensions["bot"].shutdown()


def test_running_server_picks_up_rollback(app_config, tiny_model_dir, project_models_dir, tmp_path, runner):
    """`python -m bot models use VERSION` switches the model of a running server within seconds."""
    import shutil

    from bot.cli import main

    models = tmp_path / "models"
    current = (project_models_dir / "CURRENT").read_text().strip()
    shutil.copytree(project_models_dir / current, models / current)
    shutil.copytree(tiny_model_dir, models / "20200101-000000-tiny")
    (models / "CURRENT").write_text(current)
    app = create_app({**app_config, "MODELS_DIR": str(models)})
    runtime = app.extensions["bot"]
    client = app.test_client()
    assert client.get("/readyz").get_json()["checks"]["model"]["version"] == current
    assert runner.invoke(main, ["models", "use", "20200101-000000-tiny"], env={"MODELS_DIR": str(models)}).exit_code == 0
    runtime.model_check_seconds = 0  # the check runs at most every 5 s; do not wait in a test
    assert client.get("/readyz").get_json()["checks"]["model"]["version"] == "20200101-000000-tiny"
    assert client.post("/model/parse", json={"text": "đặt vé máy bay"}).get_json()["intent"]["name"] == "dat_ve_may_bay"
    runtime.shutdown()
