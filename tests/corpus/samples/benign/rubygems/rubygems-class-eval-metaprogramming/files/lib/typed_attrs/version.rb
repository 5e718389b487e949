# frozen_string_literal: true

module TypedAttrs
  VERSION = "0.4.0"
end
