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


def test_source_tables_come_in_table_order_whatever_the_config_order():
    """Sheets, tables and statistics follow the table numbers, not the order the sources are
    written in config/config.yaml (a fourth source added at the top stays Table 4)."""
    from exosynth.settings import ConfigError, source_tables  # noqa: PLC0415

    config = {"sources": {
        "placenta": {"table": 4, "title": "P"}, "bone_marrow": {"table": 1, "title": "BM"},
        "umbilical_cord": {"table": 3, "title": "UC"}, "adipose": {"table": 2, "title": "AD"},
    }}  # fmt: skip
    tables = source_tables(config)
    assert [(t.table, t.key) for t in tables] == [
        (1, "bone_marrow"), (2, "adipose"), (3, "umbilical_cord"), (4, "placenta"),
    ]  # fmt: skip
    assert tables[1].label == "Adipose"  # the key capitalised where no label is given
    config["sources"]["adipose"]["table"] = 1
    with pytest.raises(ConfigError, match="unique"):
        source_tables(config)
