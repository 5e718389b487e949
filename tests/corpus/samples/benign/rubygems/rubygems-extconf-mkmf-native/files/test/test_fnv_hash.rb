# frozen_string_literal: true

require "minitest/autorun"
require "fnv_hash"

class TestFnvHash < Minitest::Test
  # Reference values from the FNV test suite (FNV-1a, 64 bit).
  VECTORS = { "" => 0xcbf29ce484222325, "a" => 0xaf63dc4c8601ec8c, "foobar" => 0x85944171f73967e8 }.freeze

  def test_vectors
    VECTORS.each do |input, expected|
      assert_equal expected, FnvHash.fnv1a_64(input)
      assert_equal expected, FnvHash::Pure.fnv1a_64(input)
    end
  end

  def test_hexdigest
    assert_equal "85944171f73967e8", FnvHash.hexdigest("foobar")
  end
end
