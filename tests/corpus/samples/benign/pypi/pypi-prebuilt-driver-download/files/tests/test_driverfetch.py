import driverfetch


def test_platform_key_is_known_shape():
    assert "-" in driverfetch.platform_key()


def test_offline_download_raises(monkeypatch, tmp_path):
    monkeypatch.setenv("DRIVERFETCH_CACHE", str(tmp_path))
    monkeypatch.setenv("DRIVERFETCH_MIRROR", "https://drivers.invalid")
    monkeypatch.setattr(driverfetch, "platform_key", lambda: "linux-x86_64")
    try:
        driverfetch.install("geckodriver", timeout=2)
    except driverfetch.DriverFetchError as exc:
        assert "drivers.invalid" in str(exc)
    else:
        raise AssertionError("expected a DriverFetchError")


def test_plain_http_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("DRIVERFETCH_CACHE", str(tmp_path))
    monkeypatch.setenv("DRIVERFETCH_MIRROR", "http://drivers.example.com")
    monkeypatch.setattr(driverfetch, "platform_key", lambda: "linux-x86_64")
    try:
        driverfetch.install("geckodriver")
    except driverfetch.DriverFetchError as exc:
        assert "plain HTTP" in str(exc)
