# frozen_string_literal: true

module Postbox
  VERSION = "1.5.0"
end
