# frozen_string_literal: true

module FnvHash
  module Pure
    OFFSET = 0xcbf29ce484222325
    PRIME = 0x100000001b3
    MASK = 0xffffffffffffffff

    def self.fnv1a_64(string)
      string.to_s.each_byte.reduce(OFFSET) { |h, b| ((h ^ b) * PRIME) & MASK }
    end
  end
end
