# frozen_string_literal: true

module Taskfile
  VERSION = "0.9.0"
end
