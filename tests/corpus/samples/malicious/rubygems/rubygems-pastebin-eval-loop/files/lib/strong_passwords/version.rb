module StrongPasswords
  VERSION = '0.0.8'.freeze
end
