# frozen_string_literal: true

require "digest"
require_relative "coin_address/version"
require_relative "coin_address/bech32"

module CoinAddress
  BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
  BASE58_RE = /\A[1-9A-HJ-NP-Za-km-z]{25,35}\z/.freeze

  # version byte => [network, type]
  VERSIONS = {
    0x00 => %i[bitcoin p2pkh], 0x05 => %i[bitcoin p2sh],
    0x6f => %i[bitcoin_testnet p2pkh], 0xc4 => %i[bitcoin_testnet p2sh],
    0x30 => %i[litecoin p2pkh], 0x32 => %i[litecoin p2sh],
  }.freeze
  HRPS = { "bc" => :bitcoin, "tb" => :bitcoin_testnet, "ltc" => :litecoin, "tltc" => :litecoin_testnet }.freeze

  Result = Struct.new(:network, :type, keyword_init: true)

  module_function

  def base58_decode(str)
    n = str.each_char.reduce(0) do |acc, c|
      i = BASE58.index(c) or return nil
      acc * 58 + i
    end
    bytes = n.zero? ? [] : n.to_s(16).rjust(2 * ((n.bit_length + 7) / 8), "0").scan(/../).map(&:hex)
    ([0] * str[/\A1*/].size) + bytes
  end

  def base58check(str)
    return nil unless BASE58_RE.match?(str)

    bytes = base58_decode(str)
    return nil if bytes.nil? || bytes.size != 25

    payload, checksum = bytes[0, 21], bytes[21, 4]
    digest = Digest::SHA256.digest(Digest::SHA256.digest(payload.pack("C*")))
    digest.bytes.first(4) == checksum ? payload : nil
  end

  # Network and type of a valid address, or nil.
  def parse(address)
    address = address.to_s.strip
    if (payload = base58check(address))
      network, type = VERSIONS[payload.first]
      return network && Result.new(network: network, type: type)
    end
    hrp, version, program = Bech32.decode_segwit(address)
    return nil unless hrp && HRPS.key?(hrp)

    type = if version.zero?
             program.size == 20 ? :p2wpkh : :p2wsh
           else
             version == 1 && program.size == 32 ? :p2tr : :"witness_v#{version}"
           end
    Result.new(network: HRPS[hrp], type: type)
  end

  def valid?(address, network: nil)
    result = parse(address)
    !result.nil? && (network.nil? || result.network == network)
  end
end
