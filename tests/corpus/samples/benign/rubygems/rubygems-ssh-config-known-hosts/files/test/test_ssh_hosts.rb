# frozen_string_literal: true

require "minitest/autorun"
require "ssh_hosts"

class TestSshHosts < Minitest::Test
  CONFIG = <<~CFG
    Host web-*
      HostName %h.prod.example.com
      User deploy
      IdentityFile ~/.ssh/id_web
    Host *
      User nobody
      IdentityFile ~/.ssh/id_ed25519
  CFG

  def test_config_lookup
    opts = SshHosts::Config.parse(CONFIG).for("web-1")
    assert_equal "web-1.prod.example.com", opts["hostname"]
    assert_equal "deploy", opts["user"]
    assert_equal [File.expand_path("~/.ssh/id_web"), File.expand_path("~/.ssh/id_ed25519")], opts["identityfile"]
  end

  def test_hashed_and_plain_known_hosts
    salt = "0123456789abcdefghij"
    hashed = [OpenSSL::HMAC.digest("SHA1", salt, "git.example.org")].pack("m0")
    text = <<~KH
      |1|#{[salt].pack("m0")}|#{hashed} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyNotReal
      *.example.net,[bastion.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyNotReal2
      @revoked old.example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABExampleRevoked
    KH
    kh = SshHosts::KnownHosts.from_text(text)
    assert kh.known?("git.example.org")
    assert kh.known?("ci.example.net")
    assert kh.known?("bastion.example.com", port: 2222)
    refute kh.known?("bastion.example.com")
    refute kh.known?("old.example.com")
  end
end
