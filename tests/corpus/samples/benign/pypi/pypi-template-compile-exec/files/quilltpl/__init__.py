"""A small template engine that compiles templates to Python functions.

    >>> from quilltpl import Template
    >>> Template("Hello {{ name | upper }}!").render(name="ada")
    'Hello ADA!'
"""

import html
import re

__version__ = "0.7.3"
__all__ = ["Template", "TemplateSyntaxError", "FILTERS"]

FILTERS = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "trim": str.strip,
    "length": len,
    "default": lambda v, d="": v if v else d,
    "join": lambda v, sep=", ": sep.join(map(str, v)),
}

_TOKEN = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.S)
_FOR = re.compile(r"for\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+(.+)$", re.S)
_NAME = re.compile(r"[A-Za-z_]\w*")
_RESERVED = {"and", "or", "not", "in", "is", "if", "else", "for", "None", "True", "False", "lambda"}


class TemplateSyntaxError(Exception):
    pass


class _Writer:
    def __init__(self):
        self.lines = []
        self.depth = 1

    def line(self, text):
        self.lines.append("    " * self.depth + text)


def _expression(expr, known):
    """`value | filter(arg) | filter` -> Python source. Names become ctx lookups."""
    parts = [p.strip() for p in expr.split("|")]
    source = _localise(parts[0], known)
    for f in parts[1:]:
        m = re.match(r"([A-Za-z_]\w*)\s*(?:\((.*)\))?$", f)
        if not m or m.group(1) not in FILTERS:
            raise TemplateSyntaxError(f"unknown filter {f!r}")
        args = f", {_localise(m.group(2), known)}" if m.group(2) else ""
        source = f"_filters[{m.group(1)!r}]({source}{args})"
    return source


def _localise(expr, known):
    # Replace bare names not bound by a loop with ctx lookups; leave strings,
    # attributes (after a dot) and keyword names alone.
    out, i = [], 0
    for m in re.finditer(r"'[^']*'|\"[^\"]*\"|\.\s*[A-Za-z_]\w*|[A-Za-z_]\w*", expr):
        out.append(expr[i:m.start()])
        tok = m.group(0)
        if tok[0] in "'\"." or tok in _RESERVED or tok in known:
            out.append(tok)
        else:
            out.append(f"_ctx.get({tok!r})")
        i = m.end()
    out.append(expr[i:])
    return "".join(out)


class Template:
    def __init__(self, source, name="<template>", autoescape=True):
        self.name = name
        self.autoescape = autoescape
        self.code = self._translate(source)
        namespace = {}
        try:
            exec(compile(self.code, name, "exec"), namespace)
        except SyntaxError as exc:
            raise TemplateSyntaxError(f"{name}: {exc.msg}") from None
        self._render = namespace["render"]

    def _translate(self, source):
        w = _Writer()
        stack, known = [], set()
        w.lines.append("def render(_ctx, _filters, _escape):")
        w.line("_out = []")
        for token in _TOKEN.split(source):
            if not token:
                continue
            if token.startswith("{#"):
                continue
            if token.startswith("{{"):
                w.line(f"_out.append(_escape({_expression(token[2:-2].strip(), known)}))")
            elif token.startswith("{%"):
                stmt = token[2:-2].strip()
                word = stmt.split(None, 1)[0] if stmt else ""
                if word == "for":
                    m = _FOR.match(stmt)
                    if not m:
                        raise TemplateSyntaxError(f"bad for: {stmt!r}")
                    names = [n.strip() for n in m.group(1).split(",")]
                    w.line(f"for {', '.join(names)} in {_expression(m.group(2), known)}:")
                    known.update(names)
                    stack.append(("for", names))
                    w.depth += 1
                elif word == "if":
                    w.line(f"if {_expression(stmt[2:], known)}:")
                    stack.append(("if", []))
                    w.depth += 1
                elif word in ("elif", "else"):
                    if not stack or stack[-1][0] != "if":
                        raise TemplateSyntaxError(f"{word} outside if")
                    w.depth -= 1
                    w.line(f"elif {_expression(stmt[4:], known)}:" if word == "elif" else "else:")
                    w.depth += 1
                elif word in ("endfor", "endif"):
                    if not stack or stack[-1][0] != word[3:]:
                        raise TemplateSyntaxError(f"unexpected {word}")
                    kind, names = stack.pop()
                    known.difference_update(names)
                    w.line("pass")
                    w.depth -= 1
                else:
                    raise TemplateSyntaxError(f"unknown tag {word!r}")
            else:
                w.line(f"_out.append({token!r})")
        if stack:
            raise TemplateSyntaxError(f"unclosed {stack[-1][0]}")
        w.line("return ''.join(_out)")
        return "\n".join(w.lines) + "\n"

    def render(self, context=None, **kwargs):
        ctx = dict(context or {}, **kwargs)
        if self.autoescape:
            escape = lambda v: html.escape("" if v is None else str(v))  # noqa: E731
        else:
            escape = lambda v: "" if v is None else str(v)  # noqa: E731
        return self._render(ctx, FILTERS, escape)
