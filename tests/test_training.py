"""Building models through the library (bot.training): which files are trained on, progress, results."""

import json
from pathlib import Path

from bot.config import Settings
from bot.training import load_project_data, train_nlu

from .conftest import DATA


def test_project_data_leaves_out_bot_texts_abbreviations_and_calibration():
    data, kb = load_project_data(Settings.load())
    names = {Path(f).name for f in data.files}
    assert "core.yml" in names
    assert not names & {"responses.yml", "abbreviations.yml", "calibration.yml"}
    assert not any(intent.startswith("topic/") for intent in data.intents)
    assert {e.intent for e in kb.entries} <= set(data.intents)  # each FAQ title is an example too


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
