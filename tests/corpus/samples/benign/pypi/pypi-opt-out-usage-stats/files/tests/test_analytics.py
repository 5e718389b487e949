from dashly import analytics


def test_do_not_track_disables(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    assert analytics.enabled() is False
    assert analytics.report_start("1.12.0") is None


def test_config_file_disables(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    monkeypatch.delenv("DASHLY_ANALYTICS", raising=False)
    (tmp_path / "dashly").mkdir()
    (tmp_path / "dashly" / "config.toml").write_text("analytics = false\n")
    assert analytics.enabled() is False


def test_event_has_only_documented_fields(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert set(analytics.event("1.12.0")) == {"event", "dashly", "python", "os", "ci", "id"}
