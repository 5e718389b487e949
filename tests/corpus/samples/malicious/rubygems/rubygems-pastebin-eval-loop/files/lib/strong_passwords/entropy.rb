module StrongPasswords
  module Entropy
    COMMON = %w[password 123456 qwerty letmein dragon monkey football iloveyou admin welcome].freeze

    def self.bits(password)
      return 0.0 if password.nil? || password.empty?
      pool = 0
      pool += 26 if password =~ /[a-z]/
      pool += 26 if password =~ /[A-Z]/
      pool += 10 if password =~ /\d/
      pool += 33 if password =~ /[^a-zA-Z\d]/
      password.length * Math.log2([pool, 1].max)
    end

    def self.dictionary_penalty(password)
      return 0 if password.nil?
      COMMON.any? { |w| password.downcase.include?(w) } ? 20 : 0
    end
  end
end
