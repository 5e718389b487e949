require 'net/http'
require 'uri'

module RestClient
  class Request
    METHODS = {
      get: Net::HTTP::Get, post: Net::HTTP::Post, put: Net::HTTP::Put, delete: Net::HTTP::Delete
    }.freeze

    def self.execute(args)
      new(args).execute
    end

    def initialize(args)
      args ||= {}
      @method = args[:method] || :get
      @url = args[:url].to_s
      @headers = args[:headers] || {}
      @payload = args[:payload]
    end

    def execute
      raise ArgumentError, 'url is required' if @url.empty?
      uri = URI(@url)
      req = METHODS.fetch(@method).new(uri)
      @headers.each { |k, v| req[k.to_s] = v.to_s }
      if @payload.is_a?(Hash)
        req.set_form_data(@payload)
      elsif @payload
        req.body = @payload.to_s
      end
      Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == 'https') { |http| http.request(req) }
    end
  end
end
