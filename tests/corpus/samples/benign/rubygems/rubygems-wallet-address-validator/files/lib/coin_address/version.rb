# frozen_string_literal: true

module CoinAddress
  VERSION = "0.2.0"
end
