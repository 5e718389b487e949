# frozen_string_literal: true

module FnvHash
  VERSION = "1.1.2"
end
