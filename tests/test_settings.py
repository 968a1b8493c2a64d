"""Settings: the config and the vocabulary refuse a key given twice, as the records do."""

from __future__ import annotations

import pytest

from exosynth import settings


def test_duplicate_key_in_a_config_file_names_file_line_and_key(tmp_path):
    path = tmp_path / "vocabulary.yaml"
    path.write_text(
        "species:\n  rat:\n    terms: [rat]\n  mouse:\n    terms: [mouse]\n  rat:\n"
        "    terms: [rats]\n",
        encoding="utf-8",
    )
    with pytest.raises(settings.ConfigError) as caught:
        settings.load_yaml(path)
    message = str(caught.value)
    assert str(path) in message
    assert ":6:" in message  # the line of the second `rat:`
    assert "'rat' is given twice" in message


def test_the_same_key_in_different_mappings_is_fine(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("a:\n  label: x\nb:\n  label: y\n", encoding="utf-8")
    assert settings.load_yaml(path) == {"a": {"label": "x"}, "b": {"label": "y"}}


def test_shipped_config_and_vocabulary_have_no_duplicate_keys(repo_root):
    for name in ("config.yaml", "vocabulary.yaml"):
        assert isinstance(settings.load_yaml(repo_root / "config" / name), dict)
