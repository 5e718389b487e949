# frozen_string_literal: true

module TypedAttrs
  module Coercions
    COERCE = {
      Integer => ->(v) { Integer(v) },
      Float => ->(v) { Float(v) },
      String => ->(v) { v.to_s },
      Symbol => ->(v) { v.to_sym },
    }.freeze

    def self.check(spec, name, value)
      type = spec[:type]
      return value if value.nil? || value.is_a?(type)

      if spec[:coerce] && COERCE.key?(type)
        begin
          return COERCE[type].call(value)
        rescue ArgumentError, ::TypeError
          # fall through to the error below
        end
      end
      raise TypedAttrs::TypeError, "#{name} must be a #{type}, got #{value.class} (#{value.inspect[0, 40]})"
    end
  end
end
