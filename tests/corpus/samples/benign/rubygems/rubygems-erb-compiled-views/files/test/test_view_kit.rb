# frozen_string_literal: true

require "minitest/autorun"
require "view_kit"

class TestViewKit < Minitest::Test
  VIEWS = [File.join(__dir__, "views")].freeze

  def test_renders_with_locals_and_escaping
    html = ViewKit::Context.new(VIEWS).render("greeting", name: "<Ada>", items: %w[a b])
    assert_includes html, "<h1>Hello, &lt;Ada&gt;!</h1>"
    assert_includes html, "<li>a</li>\n<li>b</li>"
  end

  def test_compiles_once_into_a_method
    ctx = ViewKit::Context.new(VIEWS)
    ctx.render("greeting", name: "x", items: [])
    assert(ViewKit::Compiled.instance_methods.any? { |m| m.to_s.start_with?("__view_") })
  end

  def test_missing_template
    assert_raises(ViewKit::Error) { ViewKit::Context.new(VIEWS).render("nope") }
  end
end
