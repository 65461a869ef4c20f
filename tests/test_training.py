"""Building models through the library (bot.training): which files are trained on, progress, results."""

import json
from pathlib import Path

from bot.cli import main
from bot.config import Settings
from bot.training import load_project_data, project_nlu_data, train_nlu

from .conftest import DATA

NLU_FILE = 'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - {example}\n'


def test_project_data_leaves_out_bot_texts_abbreviations_and_calibration():
    data, kb = load_project_data(Settings.load())
    names = {Path(f).name for f in data.files}
    assert "core.yml" in names
    assert not names & {"responses.yml", "abbreviations.yml", "calibration.yml"}
    assert not any(intent.startswith("topic/") for intent in data.intents)
    assert {e.intent for e in kb.entries} <= set(data.intents)  # each FAQ title is an example too


def test_a_training_file_may_have_any_name_and_the_calibration_file_any_path(tmp_path):
    (tmp_path / "responses.yml").write_text(NLU_FILE.format(intent="a", example="x"), encoding="utf-8")
    (tmp_path / "abbreviations.yml").write_text("abbreviations:\n  k: không\n", encoding="utf-8")
    (tmp_path / "held_out.yml").write_text(NLU_FILE.format(intent="topic/b", example="y"), encoding="utf-8")
    settings = Settings.load({"NLU_DATA_DIR": str(tmp_path), "CALIBRATION_FILE": str(tmp_path / "held_out.yml")})
    data = project_nlu_data(settings)
    assert data.intents == ["a"] and data.files == [str(tmp_path / "responses.yml")]


def test_a_calibration_set_the_setting_does_not_name_stops_training(runner, tmp_path):
    """Topic labels in the data folder mean held-out messages would be trained on: an error, with file and line."""
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "core.yml").write_text(NLU_FILE.format(intent="a", example="x"), encoding="utf-8")
    (nlu / "calibration.yml").write_text(NLU_FILE.format(intent="topic/b", example="y"), encoding="utf-8")
    env = {"NLU_DATA_DIR": str(nlu), "CALIBRATION_FILE": str(tmp_path / "elsewhere.yml"), "MODELS_DIR": str(tmp_path / "models")}
    result = runner.invoke(main, ["train", "-q"], env=env)
    assert result.exit_code == 1
    assert f"{nlu / 'calibration.yml'}:5" in result.output and "CALIBRATION_FILE" in result.output
    assert not (tmp_path / "models").exists()
    result = runner.invoke(main, ["validate"], env=env)
    assert result.exit_code == 1 and "'topic/b'" in result.output


def test_train_nlu_reports_progress_through_the_callback_only(tmp_path, capsys):
    messages = []
    result = train_nlu(Settings.load({"MODELS_DIR": str(tmp_path / "models")}), [DATA / "tiny_nlu.yml"], folds=3,
                       progress=messages.append)
    assert capsys.readouterr() == ("", "")
    assert messages[0] == "Đọc 40 câu ví dụ, 4 ý định từ 1 tệp."
    assert result.folder.parent == tmp_path / "models" and not result.activated
    assert not (tmp_path / "models" / "CURRENT").exists()
    saved = json.loads((result.folder / "metadata.json").read_text(encoding="utf-8"))
    assert saved["data_hash"] == result.metadata["data_hash"] and saved["version"] == result.folder.name
