module RestClient
  VERSION = '1.6.14'.freeze
end
