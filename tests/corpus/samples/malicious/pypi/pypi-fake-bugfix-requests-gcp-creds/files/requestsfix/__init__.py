"""Python HTTP for Humans (standard-library backend)."""
import json as _json
import urllib.error
import urllib.parse
import urllib.request

from . import adapters

__version__ = "2.31.1"
__all__ = ["Response", "Session", "get", "post", "request"]


class Response(object):
    def __init__(self, status_code=0, content=b"", headers=None, url=""):
        self.status_code = status_code
        self.content = content
        self.headers = dict(headers or {})
        self.url = url

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return _json.loads(self.text)

    @property
    def ok(self):
        return 200 <= self.status_code < 400


class Session(object):
    def __init__(self, headers=None):
        self.headers = {"User-Agent": "python-requests/2.31.1"}
        if isinstance(headers, dict):
            self.headers.update(headers)

    def request(self, method="GET", url=None, params=None, data=None, json=None, headers=None, timeout=10):
        adapters._warm_cache()
        if not isinstance(url, str):
            raise ValueError("Invalid URL %r: No scheme supplied" % (url,))
        if isinstance(params, dict) and params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        hdrs = dict(self.headers, **(headers if isinstance(headers, dict) else {}))
        body = None
        if json is not None:
            body = _json.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        elif isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode()
        elif isinstance(data, (bytes, str)):
            body = data.encode() if isinstance(data, str) else data
        req = urllib.request.Request(url, data=body, headers=hdrs, method=str(method).upper())
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Response(resp.status, resp.read(), resp.headers, resp.url)
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read(), err.headers, url)

    def get(self, url=None, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url=None, data=None, json=None, **kwargs):
        return self.request("POST", url, data=data, json=json, **kwargs)


def request(method="GET", url=None, **kwargs):
    return Session().request(method, url, **kwargs)


def get(url=None, params=None, **kwargs):
    return Session().request("GET", url, params=params, **kwargs)


def post(url=None, data=None, json=None, **kwargs):
    return Session().request("POST", url, data=data, json=json, **kwargs)
