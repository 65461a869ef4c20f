from bot.nlu.tokenize import MAX_SEGMENT_CHARS, Segmenter, segment


def test_underthesea_joins_multi_syllable_words():
    words = segment("người lao động được nghỉ phép năm")
    assert "lao_động" in words and "nghỉ_phép" in words


def test_results_are_cached():
    calls = []

    def backend(text):
        calls.append(text)
        return text.split()

    seg = Segmenter(backend=backend)
    assert seg("a b") == ["a", "b"]
    assert seg("a b") == ["a", "b"]
    assert calls == ["a b"]
    assert seg.cache_info().hits == 1


def test_empty_and_long_input():
    seen = []
    seg = Segmenter(backend=lambda t: seen.append(len(t)) or t.split())
    assert seg("") == [] and seg("   ") == []
    seg("x " * 10_000)
    assert seen == [MAX_SEGMENT_CHARS]


def test_backend_failure_falls_back_to_whitespace(caplog):
    def broken(text):
        raise RuntimeError("boom")

    seg = Segmenter(backend=broken)
    assert seg("nghỉ phép năm") == ["nghỉ", "phép", "năm"]
    assert "segmentation failed" in caplog.text
