# frozen_string_literal: true

require "minitest/autorun"
require "typed_attrs"

class Server
  include TypedAttrs
  typed_attr :host, String
  typed_attr :port, Integer, default: 443
  typed_attr :tags, Array, default: -> { [] }
  delegate_to :tags, :size, :empty?
end

class TestTypedAttrs < Minitest::Test
  def test_defaults_and_coercion
    s = Server.new(host: "api.example.com", port: "8443")
    assert_equal 8443, s.port
    assert_equal({ host: "api.example.com", port: 8443, tags: [] }, s.attributes)
    assert s.host?
  end

  def test_type_errors
    assert_raises(TypedAttrs::TypeError) { Server.new(port: "eighty") }
    assert_raises(ArgumentError) { Server.new(nope: 1) }
  end

  def test_delegation
    s = Server.new(tags: %w[a b])
    assert_equal 2, s.size
    refute s.empty?
  end

  def test_rejects_bad_names
    assert_raises(ArgumentError) { Class.new { include TypedAttrs; typed_attr "x; system('id')", String } }
  end
end
