# frozen_string_literal: true

module CoinAddress
  # BIP-173 (bech32) and BIP-350 (bech32m).
  module Bech32
    CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3].freeze
    BECH32 = 1
    BECH32M = 0x2bc830a3

    module_function

    def polymod(values)
      chk = 1
      values.each do |v|
        top = chk >> 25
        chk = ((chk & 0x1ffffff) << 5) ^ v
        5.times { |i| chk ^= GENERATOR[i] if ((top >> i) & 1) == 1 }
      end
      chk
    end

    def hrp_expand(hrp)
      hrp.each_char.map { |c| c.ord >> 5 } + [0] + hrp.each_char.map { |c| c.ord & 31 }
    end

    # [hrp, data, :bech32 | :bech32m] or nil
    def decode(str)
      return nil if str.size > 90 || (str != str.downcase && str != str.upcase)

      str = str.downcase
      pos = str.rindex("1")
      return nil if pos.nil? || pos < 1 || pos + 7 > str.size

      hrp = str[0...pos]
      return nil unless hrp.each_char.all? { |c| c.ord.between?(33, 126) }

      data = str[(pos + 1)..].each_char.map { |c| CHARSET.index(c) }
      return nil if data.any?(&:nil?)

      encoding = case polymod(hrp_expand(hrp) + data)
                 when BECH32 then :bech32
                 when BECH32M then :bech32m
                 end
      encoding && [hrp, data[0...-6], encoding]
    end

    def convert_bits(data, from, to, pad)
      acc = 0
      bits = 0
      out = []
      maxv = (1 << to) - 1
      data.each do |v|
        return nil if v.negative? || (v >> from) != 0

        acc = (acc << from) | v
        bits += from
        while bits >= to
          bits -= to
          out << ((acc >> bits) & maxv)
        end
      end
      if pad
        out << ((acc << (to - bits)) & maxv) if bits.positive?
      elsif bits >= from || ((acc << (to - bits)) & maxv) != 0
        return nil
      end
      out
    end

    # [hrp, witness version, program bytes] or nil
    def decode_segwit(address)
      hrp, data, encoding = decode(address)
      return nil if hrp.nil? || data.empty?

      version = data.first
      program = convert_bits(data[1..], 5, 8, false)
      return nil if program.nil? || program.size < 2 || program.size > 40 || version > 16
      return nil if version.zero? && ![20, 32].include?(program.size)
      return nil if (version.zero? && encoding != :bech32) || (version.positive? && encoding != :bech32m)

      [hrp, version, program]
    end
  end
end
