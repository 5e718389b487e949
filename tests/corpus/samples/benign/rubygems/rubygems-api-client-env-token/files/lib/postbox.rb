# frozen_string_literal: true

require "json"
require "net/http"
require "openssl"
require "uri"
require_relative "postbox/version"

module Postbox
  class Error < StandardError
    attr_reader :status, :body

    def initialize(message, status: nil, body: nil)
      super(message)
      @status = status
      @body = body
    end
  end

  class Client
    DEFAULT_ENDPOINT = "https://api.postbox.example.com/v1/"

    def initialize(token: ENV["POSTBOX_API_TOKEN"], endpoint: DEFAULT_ENDPOINT, open_timeout: 5, read_timeout: 15)
      raise Error, "no API token: pass token: or set POSTBOX_API_TOKEN" if token.nil? || token.empty?

      @token = token
      @endpoint = URI(endpoint.end_with?("/") ? endpoint : "#{endpoint}/")
      raise Error, "the endpoint must use https" unless @endpoint.scheme == "https"

      @open_timeout = open_timeout
      @read_timeout = read_timeout
    end

    def deliver(from:, to:, subject:, text: nil, html: nil, tags: [])
      post("messages", { from: from, to: Array(to), subject: subject, text: text, html: html, tags: tags }.compact)
    end

    def message(id)
      get("messages/#{URI.encode_www_form_component(id)}")
    end

    def inspect
      "#<Postbox::Client endpoint=#{@endpoint}>" # never print the token
    end

    private

    def get(path)
      request(Net::HTTP::Get.new(@endpoint + path))
    end

    def post(path, body)
      req = Net::HTTP::Post.new(@endpoint + path)
      req["Content-Type"] = "application/json"
      req.body = JSON.generate(body)
      request(req)
    end

    def request(req)
      req["Authorization"] = "Bearer #{@token}"
      req["Accept"] = "application/json"
      req["User-Agent"] = "postbox-ruby/#{VERSION}"
      http = Net::HTTP.new(@endpoint.host, @endpoint.port)
      http.use_ssl = true
      http.verify_mode = OpenSSL::SSL::VERIFY_PEER
      http.open_timeout = @open_timeout
      http.read_timeout = @read_timeout
      res = http.start { |h| h.request(req) }
      body = res.body && !res.body.empty? ? JSON.parse(res.body) : nil
      return body if res.is_a?(Net::HTTPSuccess)

      raise Error.new("#{req.method} #{req.path}: HTTP #{res.code}", status: res.code.to_i, body: body)
    rescue SocketError, SystemCallError, Net::OpenTimeout, Net::ReadTimeout, OpenSSL::SSL::SSLError => e
      raise Error, "#{req.method} #{req.path}: #{e.class}: #{e.message}"
    rescue JSON::ParserError
      raise Error.new("#{req.method} #{req.path}: invalid JSON in response", status: res&.code.to_i)
    end
  end
end
