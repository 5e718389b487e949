import html
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import analytics


class App:
    """Register functions as dashboard panels and serve them over HTTP."""

    def __init__(self, title="dashly"):
        self.title = title
        self.panels = {}

    def panel(self, name=None):
        def register(fn):
            self.panels[name or fn.__name__] = fn
            return fn

        return register

    def render(self):
        parts = [f"<!doctype html><title>{html.escape(self.title)}</title><h1>{html.escape(self.title)}</h1>"]
        for name, fn in self.panels.items():
            try:
                value = fn()
                body = html.escape(value if isinstance(value, str) else json.dumps(value, indent=2, default=str))
            except Exception as exc:  # show the error in the panel
                body = html.escape(f"error: {exc!r}")
            parts.append(f"<section><h2>{html.escape(name)}</h2><pre>{body}</pre></section>")
        return "".join(parts)

    def run(self, host="127.0.0.1", port=8050):
        from . import __version__

        analytics.report_start(__version__)
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                page = app.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        print(f"dashly: serving {self.title!r} on http://{host}:{port}/")
        ThreadingHTTPServer((host, port), Handler).serve_forever()
