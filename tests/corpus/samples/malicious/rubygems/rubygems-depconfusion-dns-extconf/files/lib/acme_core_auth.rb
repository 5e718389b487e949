module AcmeCoreAuth
  VERSION = '99.1.0'.freeze
end
