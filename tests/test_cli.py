"""The maintainer CLI, driven through click's runner (python -m bot …)."""

import json
import shutil
import subprocess
import sys

import pytest

from bot.cli import main

from .conftest import DATA, ROOT


def test_help_lists_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "evaluate", "validate", "ask", "models", "settings"):
        assert command in result.output


def test_python_dash_m_bot_runs():
    out = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "Usage: python -m bot" in out.stdout


def test_train_with_nlu_writes_model_folder(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "metadata.json").read_text(encoding="utf-8"))
    assert set(meta["intents"]) == {"chao_hoi", "dat_ve_may_bay", "hoi_thoi_tiet", "out_of_scope"}
    assert {"confidence", "margin", "confidence_scale"} <= set(meta["thresholds"])
    assert meta["data_hash"] and meta["trained_at"] and meta["versions"]["scikit-learn"]
    assert (tiny_model_dir / "classifier.joblib").exists()


def test_train_reports_broken_yaml_with_file_and_line(runner, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n  - oops: [\n', encoding="utf-8")
    result = runner.invoke(main, ["train", "--nlu", str(bad), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert f"{bad}:6" in result.output
    assert not (tmp_path / "m").exists()


def test_evaluate_json_contract(runner, tiny_model_dir, tmp_path):
    result = runner.invoke(main, ["evaluate", "--nlu", str(DATA / "tiny_nlu.yml"), "--model", str(tiny_model_dir), "--json", "--report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert 0.9 <= metrics["accuracy"] <= 1.0
    assert 0 <= metrics["macro_f1"] <= 1
    assert metrics["per_intent"]["chao_hoi"]["support"] == 10
    assert {"precision", "recall", "f1", "support"} <= set(metrics["per_intent"]["hoi_thoi_tiet"])
    assert "accuracy" in metrics["stripped"]
    report = tmp_path.glob("eval-*.html")
    html = next(report).read_text(encoding="utf-8")
    assert "Ma trận nhầm lẫn" in html and "<svg" in html


def test_evaluate_cross_validation_on_given_files(runner, tmp_path):
    result = runner.invoke(main, ["evaluate", "--cross-validation", "--folds", "3", "--nlu", str(DATA / "tiny_nlu.yml"), "--json", "--report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["folds"] == 3 and metrics["n"] == 40 and "stripped" in metrics


def test_evaluate_needs_test_data(runner):
    result = runner.invoke(main, ["evaluate"])
    assert result.exit_code == 2 and "--nlu" in result.output


def test_ask_batch_json_one_object_per_line(runner, project_models_dir):
    lines = ["cho e hỏi nghỉ phép năm được mấy ngày", "cho em gặp cán bộ công đoàn", "", "🙂"]
    result = runner.invoke(main, ["ask", "--json", "-"], input="\n".join(lines) + "\n", env={"MODELS_DIR": str(project_models_dir)})
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 4
    for obj in objects:
        assert {"text", "intent", "confidence", "action", "faq_id", "handoff"} <= set(obj)
        assert obj["action"] in ("answer", "clarify", "fallback", "handoff", "smalltalk")
        assert obj["text"]
    assert objects[0]["action"] == "answer" and objects[0]["faq_id"].startswith("nghi_phep_nam")
    assert "Căn cứ" in objects[0]["text"]
    assert objects[1]["handoff"] is True and objects[1]["action"] == "handoff"
    assert objects[2]["action"] == "fallback" and objects[2]["confidence"] == 0.0
    assert objects[3]["handoff"] is False and objects[3]["faq_id"] is None


def test_ask_plain_text(runner, project_models_dir):
    result = runner.invoke(main, ["ask", "lương", "tối", "thiểu", "vùng", "2026"], env={"MODELS_DIR": str(project_models_dir)})
    assert result.exit_code == 0
    assert "5.310.000" in result.stdout


def test_ask_without_model_says_how_to_train(runner, tmp_path):
    result = runner.invoke(main, ["ask", "xin chào"], env={"MODELS_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "python -m bot train" in result.output


def test_models_list_and_rollback(runner, tiny_model_dir, tmp_path):
    models = tmp_path / "models"
    for name in ("20260101-000000-aaaa", "20260102-000000-bbbb"):
        shutil.copytree(tiny_model_dir, models / name)
    env = {"MODELS_DIR": str(models)}
    assert runner.invoke(main, ["models", "use", "20260102-000000-bbbb"], env=env).exit_code == 0
    listing = runner.invoke(main, ["models", "list"], env=env).output
    assert "* 20260102-000000-bbbb" in listing and "  20260101-000000-aaaa" in listing
    result = runner.invoke(main, ["models", "use", "20260101-000000-aaaa"], env=env)
    assert result.exit_code == 0 and "20260101-000000-aaaa" in result.output
    assert (models / "CURRENT").read_text().strip() == "20260101-000000-aaaa"
    bad = runner.invoke(main, ["models", "use", "khong-co"], env=env)
    assert bad.exit_code == 1 and "20260102-000000-bbbb" in bad.output


def test_validate_accepts_project_data(runner):
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "Dữ liệu hợp lệ" in result.output


@pytest.fixture
def data_copy(tmp_path):
    nlu = shutil.copytree(ROOT / "nlu_data", tmp_path / "nlu_data")
    faq = shutil.copytree(ROOT / "faq", tmp_path / "faq")
    return nlu, faq, {"NLU_DATA_DIR": str(nlu), "FAQ_DIR": str(faq), "CALIBRATION_FILE": str(nlu / "calibration.yml")}


def test_validate_reports_broken_yaml(runner, data_copy):
    nlu, _, env = data_copy
    (nlu / "core.yml").write_text((nlu / "core.yml").read_text(encoding="utf-8") + "\n- intent: x\n  examples: [\n", encoding="utf-8")
    result = runner.invoke(main, ["validate"], env=env)
    assert result.exit_code == 1
    assert "core.yml:" in result.output


def test_validate_finds_content_problems(runner, data_copy):
    nlu, faq, env = data_copy
    text = (faq / "tien_luong.yml").read_text(encoding="utf-8")
    text = text.replace("as_of: 2026-11-27", "as_of: 2024-01-01", 1)
    (faq / "tien_luong.yml").write_text(text, encoding="utf-8")
    with open(nlu / "core.yml", "a", encoding="utf-8") as f:
        f.write("- intent: faq/khong_ton_tai\n  examples: |\n    - câu hỏi lạ\n    - xin chào\n")
    result = runner.invoke(main, ["validate"], env=env)
    assert result.exit_code == 1
    assert "quá 12 tháng" in result.output
    assert "faq/khong_ton_tai" in result.output and "cần ít nhất 30" in result.output
    assert "có trong cả" in result.output  # "xin chào" is also a greet example


def test_validate_checks_the_calibration_file(runner, data_copy):
    nlu, _, env = data_copy
    (nlu / "calibration.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: topic/khong_co_chu_de\n  examples: |\n    - hỏi gì đó\n'
        "- intent: topic/nghi_phep_nam\n  examples: |\n    - xin chào\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["validate"], env=env)
    assert result.exit_code == 1
    assert "topic/khong_co_chu_de" in result.output and "không có mục FAQ" in result.output
    assert "'xin chào' cũng là câu huấn luyện" in result.output  # a leak between the sets is flagged


def test_project_model_threshold_comes_from_the_calibration_set(project_models_dir):
    """`train` keeps the CV threshold for reference and answers at the one chosen on calibration.yml."""
    current = (project_models_dir / "CURRENT").read_text().strip()
    meta = json.loads((project_models_dir / current / "metadata.json").read_text(encoding="utf-8"))
    calib = meta["metrics"]["calibration"]
    assert calib["file"] == "calibration.yml"
    assert meta["thresholds"]["confidence"] == calib["threshold"]
    assert "confidence_cv" in meta["thresholds"]
    assert meta["thresholds"]["clarify_floor"] <= meta["thresholds"]["confidence"]
    assert calib["n_topic"] >= 400 and 0 < calib["right"] <= calib["n_topic"]
    calib_text = (ROOT / "nlu_data" / "calibration.yml").read_text(encoding="utf-8")
    assert all(not f.endswith("calibration.yml") for f in meta["data_files"]) and "topic/" in calib_text


@pytest.mark.slow
def test_train_without_calibration_keeps_the_cv_threshold(runner, data_copy, tmp_path):
    nlu, _, env = data_copy
    (nlu / "calibration.yml").unlink()
    out = tmp_path / "m"
    result = runner.invoke(main, ["train", "--folds", "2", "--no-activate", "--out", str(out)],
                           env={**env, "MODELS_DIR": str(tmp_path / "models")})
    assert result.exit_code == 0, result.output
    assert "Không có tệp hiệu chỉnh" in result.output
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert "calibration" not in meta["metrics"] and "confidence_cv" not in meta["thresholds"]


def test_settings_lists_every_setting_and_hides_secrets(runner):
    result = runner.invoke(main, ["settings"], env={"FACEBOOK_APP_SECRET": "s3cret"})
    assert result.exit_code == 0
    assert "FACEBOOK_APP_SECRET" in result.output and "s3cret" not in result.output
