require 'strong_passwords/version'
require 'strong_passwords/entropy'
require 'strong_passwords/strength_checker'

module StrongPasswords
end
