import pytest

from bot.nlu.training_data import TrainingDataError, load_training_data, load_training_file


def write(tmp_path, text, name="nlu.yml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_intents_retrieval_intents_and_extra_blocks(tmp_path):
    path = write(tmp_path, """version: "3.1"
nlu:
- intent: greet
  examples: |
    - xin chào
    - chào [anh](person) nhé
- intent: faq/annual_leave
  examples: |
    - nghỉ phép năm mấy ngày
- synonym: bảo hiểm xã hội
  examples: |
    - bhxh
- lookup: city
  examples: |
    - Hà Nội
- regex: ticket
  examples: |
    - CD-[A-Z0-9]{5}
responses:
  utter_x:
  - text: ignored
""")
    data = load_training_file(path)
    assert [(e.intent, e.text) for e in data.examples] == [
        ("greet", "xin chào"), ("greet", "chào anh nhé"), ("faq/annual_leave", "nghỉ phép năm mấy ngày"),
    ]
    assert data.synonyms == {"bảo hiểm xã hội": ["bhxh"]}
    assert data.lookups == {"city": ["Hà Nội"]}
    assert data.regexes == {"ticket": ["CD-[A-Z0-9]{5}"]}
    assert data.examples[1].line == 6


def test_broken_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n  - bad: [\n')
    with pytest.raises(TrainingDataError) as info:
        load_training_file(path)
    assert str(path) in str(info.value) and ":6:" in str(info.value)


@pytest.mark.parametrize(
    "body, message",
    [
        ('version: "3.1"\nnlu:\n- intent: greet\n', "thiếu khóa 'examples'"),
        ('version: "3.1"\nnlu:\n- examples: |\n    - hi\n', "đúng một trong các khóa"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    hi there\n', "bắt đầu bằng '- '"),
        ('version: "2.0"\nnlu: []\n', "không được hỗ trợ"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: ""\n', "không có ví dụ"),
        ('version: "3.1"\nstuff: 1\n', "khóa không hợp lệ"),
        ('- a\n- b\n', "phải là một bảng"),
    ],
)
def test_malformed_blocks_give_clear_errors(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(TrainingDataError, match=message) as info:
        load_training_file(path)
    assert str(path) in str(info.value)



@pytest.mark.parametrize(
    "body, message",
    [
        ('version: "3.1"\nnlu: []\non: 1\n2: x\n', "khóa không hợp lệ ở cấp cao nhất: 2, True"),  # YAML 1.1 reads 'on' as true
        ('version: 2020-13-45\n', "giá trị không đọc được"),
        ('nlu:\n- intent: 2020-02-30\n  examples: |\n    - hi\n', "giá trị không đọc được"),
        ('version: ' + '9' * 5000 + '\n', "giá trị không đọc được"),
        ('x: ' + '[' * 5000 + ']' * 5000 + '\n', "lồng nhau quá sâu"),
        ('nlu:\n- intent: a\n  examples: |\n    - [x]{"entity": "a", "v": ' + '[' * 100_000 + '}\n', "chú thích thực thể"),
    ],
)
def test_odd_yaml_is_a_training_data_error_not_a_crash(tmp_path, body, message):
    """Found by tests/test_properties.py: these raised TypeError, ValueError or RecursionError, which
    ``bot validate`` and ``bot train`` do not catch."""
    path = write(tmp_path, body)
    with pytest.raises(TrainingDataError, match=message):
        load_training_file(path)
    with pytest.raises(TrainingDataError, match=message):
        load_training_data([tmp_path])

def test_missing_file_and_non_utf8(tmp_path):
    with pytest.raises(TrainingDataError, match="không tìm thấy"):
        load_training_file(tmp_path / "nope.yml")
    bad = tmp_path / "latin1.yml"
    bad.write_bytes("nlu:\n- intent: a\n  examples: |\n    - ch\xe0o\n".encode("latin-1"))
    with pytest.raises(TrainingDataError, match="UTF-8"):
        load_training_file(bad)


def test_directory_loading_merges_training_files(tmp_path):
    write(tmp_path, 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n', "one.yml")
    write(tmp_path, 'version: "3.1"\nnlu:\n- intent: b\n  examples: |\n    - y\n', "two.yml")
    write(tmp_path, "abbreviations:\n  k: không\n", "abbreviations.yml")
    data = load_training_data([tmp_path])
    assert sorted(data.intents) == ["a", "b"] and len(data.files) == 2


def test_a_file_is_training_data_by_its_nlu_key_whatever_its_name(tmp_path):
    """Rasa's rule: a top-level ``nlu:`` key makes a training file; excluded files go by path, not name."""
    training = write(tmp_path, 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n', "responses.yml")
    write(tmp_path, 'version: "3.1"\nresponses:\n  utter_greet:\n  - text: Chào bạn\n', "bot_texts.yml")
    write(tmp_path, "abbreviations:\n  k: không\n", "tables.yml")
    held_out = write(tmp_path, 'version: "3.1"\nnlu:\n- intent: topic/b\n  examples: |\n    - y\n', "calibration.yml")
    data = load_training_data([tmp_path], exclude=[held_out])
    assert data.files == [str(training)] and data.intents == ["a"]
    assert load_training_data([tmp_path]).intents == ["topic/b", "a"]


def test_a_broken_file_is_an_error_even_beside_the_training_data(tmp_path):
    write(tmp_path, 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n', "one.yml")
    broken = write(tmp_path, "responses:\n  utter_x: [\n", "responses.yml")
    with pytest.raises(TrainingDataError, match=f"{broken}:"):
        load_training_data([tmp_path])


def test_project_training_data_loads():
    data = load_training_data(["nlu_data"], exclude=["nlu_data/calibration.yml"])
    counts = data.intent_counts()
    assert {"greet", "request_human", "complaint", "out_of_scope"} <= set(counts)
    assert sum(1 for i in counts if i.startswith("faq/")) >= 41
