# frozen_string_literal: true

module ViewKit
  VERSION = "0.8.0"
end
