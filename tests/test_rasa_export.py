"""``python -m bot export-rasa`` and the Rasa-free import of ``bot.rasa`` (fast tier, no Rasa needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.training import load_project_data

ROOT = Path(__file__).resolve().parent.parent


def test_the_product_never_imports_rasa():
    code = ("import json, sys, bot, bot.rasa, bot.rasa.export, bot.rasa.dialogue, bot.runtime, bot.cli; "
            "print(json.dumps(sorted(m for m in sys.modules if m == 'rasa' or m.startswith('rasa.'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_tokenizer_attribute_imports_rasa_only_when_read():
    import bot.rasa

    try:
        import rasa  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            bot.rasa.VietnameseTokenizer  # noqa: B018 - the attribute access is the test
    else:  # pragma: no cover - a Rasa environment
        assert bot.rasa.VietnameseTokenizer.__name__ == "VietnameseTokenizer"
    with pytest.raises(AttributeError):
        bot.rasa.NoSuchThing  # noqa: B018


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_export_writes_a_complete_rasa_project(runner, tmp_path):
    out = tmp_path / "rasa"
    result = runner.invoke(main, ["export-rasa", str(out), "--epochs", "7", "--action-server-url", "http://actions:5055/webhook"])
    assert result.exit_code == 0, result.output
    assert "Đã xuất dự án Rasa" in result.output
    settings = Settings.load()
    data, kb = load_project_data(settings)
    config, domain = _load(out / "config.yml"), _load(out / "domain.yml")
    nlu, rules = _load(out / "data" / "nlu.yml"), _load(out / "data" / "rules.yml")

    names = [c["name"] for c in config["pipeline"]]
    assert names == ["bot.rasa.VietnameseTokenizer", "CountVectorsFeaturizer", "CountVectorsFeaturizer", "DIETClassifier",
                     "ResponseSelector", "FallbackClassifier"]
    assert config["pipeline"][0]["abbreviations"]["bhxh"] == "bảo hiểm xã hội"
    assert config["pipeline"][3]["epochs"] == 7 and config["pipeline"][4]["retrieval_intent"] == "faq"
    assert config["language"] == "vi" and config["policies"][0]["name"] == "RulePolicy"

    exported = {block["intent"]: block["examples"] for block in nlu["nlu"]}
    assert set(exported) == set(data.intent_counts())
    assert sum(len([x for x in ex.splitlines() if x.startswith("- ")]) for ex in exported.values()) <= len(data.examples)
    assert "faq" in domain["intents"] and "request_human" in domain["intents"]
    faq_intents = [i for i in exported if i.startswith("faq/")]
    for intent in faq_intents:
        [reply] = domain["responses"][f"utter_{intent}"]
        assert reply["text"] == kb.for_intent(intent).render(settings.org_context())
        assert "{org_" not in reply["text"] and "{hotline}" not in reply["text"]
    assert settings["ORG_NAME"] in json.dumps(domain["responses"], ensure_ascii=False)
    assert set(domain["actions"]) == {"action_handoff", "action_ticket_status"}
    assert domain["slots"]["ticket_code"]["mappings"] == [{"type": "custom"}]

    steps = {r["steps"][0]["intent"]: r["steps"][1]["action"] for r in rules["rules"]}
    assert steps["faq"] == "utter_faq"
    assert steps["request_human"] == steps["complaint"] == steps["nlu_fallback"] == "action_handoff"
    assert steps["greet"] == "utter_greet" and "utter_greet" in domain["responses"]
    assert _load(out / "endpoints.yml")["action_endpoint"]["url"] == "http://actions:5055/webhook"


def test_whitespace_and_reduced_exports(runner, tmp_path):
    full, small = tmp_path / "full", tmp_path / "small"
    assert runner.invoke(main, ["export-rasa", str(full)]).exit_code == 0
    result = runner.invoke(main, ["export-rasa", str(small), "--whitespace", "--max-examples-per-intent", "3"])
    assert result.exit_code == 0, result.output
    assert _load(small / "config.yml")["pipeline"][0] == {"name": "WhitespaceTokenizer"}
    counts = {b["intent"]: len([x for x in b["examples"].splitlines() if x.startswith("- ")]) for b in _load(small / "data/nlu.yml")["nlu"]}
    assert max(counts.values()) <= 3 and set(counts) == {b["intent"] for b in _load(full / "data/nlu.yml")["nlu"]}
    # The same export twice is the same files (the trained-model cache relies on it); endpoints do not count.
    from bot.rasa.export import export_project

    settings = Settings.load()
    a = export_project(tmp_path / "a", settings, max_examples_per_intent=5, action_server_url="http://a/webhook")
    b = export_project(tmp_path / "b", settings, max_examples_per_intent=5, action_server_url="http://b/webhook")
    c = export_project(tmp_path / "c", settings, max_examples_per_intent=6)
    assert a.digest == b.digest != c.digest
    assert (tmp_path / "a" / "data" / "nlu.yml").read_bytes() == (tmp_path / "b" / "data" / "nlu.yml").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--max-examples-per-intent", "0"], "--max-examples-per-intent"),
    (["--epochs", "0"], "--epochs"),
])
def test_export_refuses_bad_options(runner, tmp_path, args, message):
    result = runner.invoke(main, ["export-rasa", str(tmp_path / "x"), *args])
    assert result.exit_code == 2 and message in result.output


def test_export_names_a_faq_intent_without_its_entry(runner, tmp_path):
    faq = tmp_path / "faq"
    faq.mkdir()
    src = next((ROOT / "faq").glob("tien_luong.yml"))
    (faq / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")  # one topic group only
    result = runner.invoke(main, ["export-rasa", str(tmp_path / "out")], env={"FAQ_DIR": str(faq)})
    assert result.exit_code == 1
    assert "không có mục FAQ tương ứng" in result.output
    assert KnowledgeBase.load(faq).entries  # the folder itself is valid
