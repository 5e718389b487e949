import io
import json
import logging

import tidylog


def test_json_lines_include_extra_fields():
    out = io.StringIO()
    tidylog.configure(json_lines=True, stream=out)
    tidylog.get_logger("app").info("started", extra={"port": 8080})
    doc = json.loads(out.getvalue())
    assert doc["msg"] == "started" and doc["port"] == 8080 and doc["logger"] == "app"


def test_key_value_lines():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(tidylog.TidyFormatter(colour=False))
    log = logging.getLogger("kv")
    log.addHandler(handler)
    log.warning("slow", extra={"ms": 912})
    assert out.getvalue().rstrip().endswith("kv: slow ms=912")


def test_version():
    assert tidylog.__version__.startswith("2.0.1")
