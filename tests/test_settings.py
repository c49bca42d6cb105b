"""Settings: one declarative table, every entry documented in the README."""

from __future__ import annotations

from geo.model import settings
from tests.factories import PROJECT_DIR


def test_every_setting_is_documented_in_the_readme_settings_table():
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    documented = {line.split("`")[1] for line in rows}
    missing = {setting.env for setting in settings.SETTINGS.values()} - documented
    assert not missing, f"README settings table lacks {sorted(missing)}"


def test_a_setting_comes_from_its_environment_variable_else_its_default(monkeypatch):
    monkeypatch.delenv("ICS_UPLOAD_LIMIT_MB", raising=False)
    assert settings.get_setting("upload_limit_mb") == "200"
    monkeypatch.setenv("ICS_UPLOAD_LIMIT_MB", "50")
    assert settings.get_setting("upload_limit_mb") == "50"


def test_the_data_folder_is_derived_from_the_package_not_the_working_directory(
    monkeypatch, tmp_path
):
    monkeypatch.delenv("ICS_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert settings.data_dir() == PROJECT_DIR / "data"
    assert settings.cache_dir() == PROJECT_DIR / "data" / "cache"
