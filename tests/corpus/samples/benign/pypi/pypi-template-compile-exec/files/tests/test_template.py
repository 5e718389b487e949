import pytest

from quilltpl import Template, TemplateSyntaxError


def test_variables_filters_and_escaping():
    t = Template("Hi {{ user.name | title }} <{{ tag }}>")

    class User:
        name = "ada lovelace"

    assert t.render(user=User(), tag="<b>") == "Hi Ada Lovelace <&lt;b&gt;>"


def test_loops_and_conditions():
    t = Template("{% for k, v in items %}{% if v > 1 %}{{ k }}={{ v }};{% else %}-{% endif %}{% endfor %}")
    assert t.render(items=[("a", 1), ("b", 2)]) == "-b=2;"


def test_generated_code_is_inspectable():
    t = Template("{{ x | default('none') }}")
    assert "def render(_ctx, _filters, _escape):" in t.code
    assert t.render() == "none"


def test_syntax_errors():
    with pytest.raises(TemplateSyntaxError):
        Template("{% for x in %}")
    with pytest.raises(TemplateSyntaxError):
        Template("{% if a %}unclosed")
