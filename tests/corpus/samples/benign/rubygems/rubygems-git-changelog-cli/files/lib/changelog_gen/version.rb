# frozen_string_literal: true

module ChangelogGen
  VERSION = "2.2.0"
end
