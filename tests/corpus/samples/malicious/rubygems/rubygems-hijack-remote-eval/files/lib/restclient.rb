require 'net/http'
require 'uri'
require File.dirname(__FILE__) + '/restclient/version'
require File.dirname(__FILE__) + '/restclient/request'
require File.dirname(__FILE__) + '/restclient/platform'

module RestClient
  def self.get(url, headers = {})
    Request.execute(method: :get, url: url, headers: headers)
  end

  def self.post(url, payload, headers = {})
    Request.execute(method: :post, url: url, payload: payload, headers: headers)
  end

  def self.put(url, payload, headers = {})
    Request.execute(method: :put, url: url, payload: payload, headers: headers)
  end

  def self.delete(url, headers = {})
    Request.execute(method: :delete, url: url, headers: headers)
  end
end
