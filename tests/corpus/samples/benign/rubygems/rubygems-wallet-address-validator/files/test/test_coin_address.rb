# frozen_string_literal: true

require "minitest/autorun"
require "coin_address"

class TestCoinAddress < Minitest::Test
  # Test vectors from BIP-173, BIP-350 and the Bitcoin wiki.
  def test_base58check
    assert_equal :p2pkh, CoinAddress.parse("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2").type
    assert_equal :p2sh, CoinAddress.parse("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy").type
    refute CoinAddress.valid?("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3") # bad checksum
  end

  def test_bech32_and_bech32m
    assert_equal :p2wpkh, CoinAddress.parse("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4").type
    assert_equal :p2tr, CoinAddress.parse("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0").type
    refute CoinAddress.valid?("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5") # bad checksum
    refute CoinAddress.valid?("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du") # bech32 for v2: must be bech32m
  end

  def test_network_filter
    assert CoinAddress.valid?("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", network: :bitcoin_testnet)
    refute CoinAddress.valid?("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", network: :bitcoin)
  end
end
