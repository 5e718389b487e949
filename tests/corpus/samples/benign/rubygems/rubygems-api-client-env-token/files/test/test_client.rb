# frozen_string_literal: true

require "minitest/autorun"
require "postbox"

class TestClient < Minitest::Test
  def test_requires_a_token
    assert_raises(Postbox::Error) { Postbox::Client.new(token: "") }
  end

  def test_refuses_plain_http
    assert_raises(Postbox::Error) { Postbox::Client.new(token: "pb_test_x", endpoint: "http://api.postbox.example.com/v1") }
  end

  def test_inspect_hides_token
    refute_includes Postbox::Client.new(token: "pb_test_secret").inspect, "pb_test_secret"
  end

  def test_network_errors_are_wrapped
    client = Postbox::Client.new(token: "pb_test_x", endpoint: "https://api.postbox.invalid/v1", open_timeout: 2)
    assert_raises(Postbox::Error) { client.message("m_1") }
  end
end
