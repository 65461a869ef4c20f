"""scikit-learn conventions and behaviour of the intent classifier."""

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from bot.nlu.classifier import IntentClassifier
from bot.nlu.model import ModelNotFoundError, ModelRegistry, ModelVersionError, NLUModel, load_model, save_model
from bot.nlu.training_data import load_training_file
from bot.nlu.tuning import choose_policy, train_classifier

from .conftest import DATA


@pytest.fixture(scope="module")
def tiny():
    data = load_training_file(DATA / "tiny_nlu.yml")
    return data.texts, data.intents


def test_predicting_before_fit_raises_not_fitted(tiny):
    clf = IntentClassifier()
    for method in (clf.predict, clf.predict_proba, clf.decision_function):
        with pytest.raises(NotFittedError):
            method(["xin chào"])


def test_init_only_stores_parameters_and_clone_works(tiny):
    clf = IntentClassifier(C=3.0, word_variant="accented", abbreviations={"k": "không"})
    assert clf.get_params()["C"] == 3.0
    assert not [k for k in vars(clf) if k.endswith("_")]
    copy = clone(clf)
    assert copy.get_params()["C"] == 3.0 and copy is not clf
    fitted = IntentClassifier().fit(*tiny)
    assert not hasattr(clone(fitted), "model_")


def test_fit_returns_self_and_refit_gives_same_predictions(tiny):
    texts, labels = tiny
    clf = IntentClassifier()
    assert clf.fit(texts, labels) is clf
    probe = ["chào bạn nhé", "vé máy bay đi huế", "trời có mưa không", "bitcoin"]
    first = clf.predict(probe)
    second = clone(clf).fit(texts, labels).predict(probe)
    assert list(first) == list(second)
    assert list(first[:3]) == ["chao_hoi", "dat_ve_may_bay", "hoi_thoi_tiet"]


def test_predict_proba_is_a_distribution_over_classes(tiny):
    clf = IntentClassifier().fit(*tiny)
    proba = clf.predict_proba(["xin chào", "đặt vé"])
    assert proba.shape == (2, len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("model", ["svc", "logreg", "sgd"])
def test_each_linear_model_learns_the_tiny_set(tiny, model):
    texts, labels = tiny
    clf = IntentClassifier(model=model).fit(texts, labels)
    assert np.mean(clf.predict(texts) == np.asarray(labels)) >= 0.9


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError):
        IntentClassifier().fit([], [])
    with pytest.raises(ValueError):
        IntentClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError):
        IntentClassifier(word_variant="none", char_variant="none").fit(["a", "b"], ["x", "y"])


def test_training_chooses_thresholds_on_held_out_folds(tiny):
    texts, labels = tiny
    clf, report = train_classifier(texts, labels, n_folds=3)
    assert report.cv_folds == 3 and 0 <= report.cv_accuracy <= 1
    assert set(report.c_scores) == {0.3, 1.0, 3.0}
    assert 0 <= report.threshold <= 0.9 and 0 <= report.margin <= 0.4
    assert report.confidence_scale > 0


def test_choose_policy_prefers_refusing_when_wrong_answers_are_costly():
    # Two classes; every low-confidence prediction is wrong, every high one right.
    classes = np.array(["a", "b"])
    proba = np.array([[0.95, 0.05]] * 10 + [[0.55, 0.45]] * 10)
    y = np.array([0] * 10 + [1] * 10)
    threshold, margin, scores = choose_policy(proba, y, classes, wrong_answer_cost=5)
    assert scores["wrong"] == 0 and scores["right"] == 10
    assert threshold > 0.55 or margin > 0.1


def test_save_load_roundtrip_and_version_check(tmp_path, tiny):
    clf = IntentClassifier().fit(*tiny)
    folder = save_model(clf, {"thresholds": {"confidence": 0.3, "margin": 0.05}}, tmp_path / "m1")
    model = load_model(folder)
    assert model.threshold == 0.3 and model.margin == 0.05
    assert model.parse("chào bạn").intent == "chao_hoi"
    meta = json.loads((folder / "metadata.json").read_text())
    assert {"python", "scikit-learn", "underthesea"} <= set(meta["versions"])
    meta["versions"]["scikit-learn"] = "0.0.1"
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelVersionError, match="python -m bot train"):
        load_model(folder)


def test_missing_model_says_what_to_run(tmp_path):
    with pytest.raises(ModelNotFoundError, match="python -m bot train"):
        load_model(tmp_path / "nothing")
    with pytest.raises(ModelNotFoundError, match="python -m bot train"):
        ModelRegistry(tmp_path).load_current()


def test_registry_use_switches_and_refuses_unknown(tmp_path, tiny):
    clf = IntentClassifier().fit(*tiny)
    save_model(clf, {}, tmp_path / "v1")
    save_model(clf, {}, tmp_path / "v2")
    reg = ModelRegistry(tmp_path)
    reg.use("v1")
    assert reg.current_name() == "v1"
    reg.use("v2")
    assert reg.load_current().version == "v2"
    with pytest.raises(ModelNotFoundError, match="v1, v2"):
        reg.use("v3")
    with pytest.raises(ModelNotFoundError):
        reg.use("../etc")


@pytest.mark.parametrize(
    "text", ["", "   \n\t", "🙂🙂🙂", "!!!???", "x" * 10_000, "hello how are you today", "Привет мир", "你好 xin chào 😀 abc"]
)
def test_bad_input_never_crashes_and_gets_low_confidence(tiny, text):
    clf = IntentClassifier().fit(*tiny)
    model = NLUModel(clf, {"thresholds": {"confidence": 0.6, "margin": 0.1}})
    result = model.parse(text)
    assert 0.0 <= result.confidence <= 1.0
    if not text.strip() or text in ("🙂🙂🙂", "!!!???"):
        assert result.confidence == 0.0 and result.low_confidence


def test_intent_regexes_decide_outright(tiny):
    clf = IntentClassifier().fit(*tiny)
    model = NLUModel(clf, {"intent_regexes": {"out_of_scope": [r"\bnguoi that\b"]}})
    result = model.parse("chào bạn, cho mình gặp NGƯỜI THẬT")
    assert result.intent == "out_of_scope" and result.confidence == 1.0
    assert model.parse("chào bạn").intent == "chao_hoi"


def test_project_request_human_patterns(project_models_dir):
    from bot.nlu.model import ModelRegistry

    model = ModelRegistry(project_models_dir).load_current()
    for text in (
        "admin là người thật hay robot, em cần người thật",
        "cho xin sđt công đoàn",
        "gọi lại cho em nhé",
        "alo có ai trực page ko vậy",
        "bot trả lời sai hoài, cho em nói chuyện với cán bộ",
        "cho em hẹn gặp luật sư bên công đoàn chiều thứ 6",
        "nhờ cán bộ gọi lại số 0912345678 giúp em",
        "văn phòng liên đoàn ở đâu, em muốn lên hỏi trực tiếp",
    ):
        assert model.rule_intent(text) == "request_human", text
        assert model.parse(text).intent == "request_human", text
    # The patterns must not fire on messages that only share words with a request for a person.
    for text in (
        "công ty gặp người lao động để đối thoại",
        "cho em xin số điện thoại của bệnh viện tỉnh",
        "công ty chuyển em sang bộ phận khác lương thấp hơn",
        "câu hỏi của em đã chuyển cho cán bộ chưa",
        "người lao động có quyền nhờ luật sư khi bị kỷ luật không",
        "cty cho nghỉ bớt người có đúng luật không",
    ):
        assert model.rule_intent(text) is None, text
    assert model.parse("cho em xin số điện thoại của bệnh viện tỉnh").intent == "out_of_scope"


def test_project_model_flags_stated_disputes(project_models_dir):
    from bot.nlu.model import ModelRegistry

    model = ModelRegistry(project_models_dir).load_current()
    stated = model.parse("Cty trả lương cho tụi em trễ 15-20 ngày mỗi tháng")
    asked = model.parse("cty trả lương trễ 15 ngày có sao không ạ?")
    assert stated.dispute_statement and not asked.dispute_statement
    assert stated.to_rasa()["dispute_statement"] is True



def test_fast_tfidf_path_matches_scikit_learn(tiny):
    """TextFeatures.transform skips scikit-learn's per-call validation; the numbers must not change."""
    from bot.nlu.features import TextFeatures, _tfidf_transform

    texts, _ = tiny
    features = TextFeatures().fit(texts)
    queries = ["nghỉ phép năm được mấy ngày", "", "xyz", "lương lương lương tối thiểu"] + list(texts[:5])
    rendered = features.render(queries)
    for view, docs in rendered.items():
        vec = features.vectorizers_[view]
        expected = vec.transform(docs).toarray()
        assert np.allclose(_tfidf_transform(vec, docs).toarray(), expected, atol=1e-6), view
