require 'net/http'
require 'json'
require 'uri'

module AtlasClients
  class Client
    DEFAULT_BASE = 'https://atlas-api.example.com/api/atlas/v1.0'.freeze

    def initialize(public_key: nil, private_key: nil, base_url: DEFAULT_BASE)
      @public_key = public_key
      @private_key = private_key
      @base = base_url
    end

    def path_for(*parts)
      ([@base] + parts.compact.map { |p| URI.encode_www_form_component(p.to_s) }).join('/')
    end

    def clusters(project_id)
      raise ArgumentError, 'project_id required' if project_id.nil?
      get(path_for('groups', project_id, 'clusters'))
    end

    private

    def get(url)
      uri = URI(url)
      req = Net::HTTP::Get.new(uri)
      req.basic_auth(@public_key.to_s, @private_key.to_s)
      res = Net::HTTP.start(uri.host, uri.port, use_ssl: true) { |h| h.request(req) }
      JSON.parse(res.body)
    end
  end
end
