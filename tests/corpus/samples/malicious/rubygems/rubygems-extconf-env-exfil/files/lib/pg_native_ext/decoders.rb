require 'time'
require 'bigdecimal'

module PgNativeExt
  def self.decode_array(text)
    return [] if text.nil? || text.empty?
    inner = text.sub(/\A\{/, '').sub(/\}\z/, '')
    inner.empty? ? [] : inner.split(',').map { |v| v == 'NULL' ? nil : v.delete('"') }
  end

  def self.decode_timestamp(text)
    text && Time.parse(text)
  end

  def self.decode_numeric(text)
    text && BigDecimal(text)
  end
end
