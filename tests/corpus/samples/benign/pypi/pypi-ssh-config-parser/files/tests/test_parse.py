import os

from sshconf import SSHConfig

CONFIG = """
# example
Host build01 build02
    HostName %h.ci.example.com
    User deploy
    IdentityFile ~/.ssh/id_ci_%r

Host *.internal.example !bastion.internal.example
    ProxyJump bastion.internal.example

Host *
    User fallback
    ServerAliveInterval=30
    IdentityFile ~/.ssh/id_ed25519
"""


def test_first_value_wins_and_tokens_expand():
    cfg = SSHConfig.from_text(CONFIG)
    opts = cfg.lookup("build01")
    assert opts["hostname"] == "build01.ci.example.com"
    assert opts["user"] == "deploy"
    assert opts["serveraliveinterval"] == "30"
    assert opts["identityfile"] == [os.path.expanduser("~/.ssh/id_ci_deploy"), os.path.expanduser("~/.ssh/id_ed25519")]


def test_negated_patterns():
    cfg = SSHConfig.from_text(CONFIG)
    assert cfg.lookup("db.internal.example")["proxyjump"] == "bastion.internal.example"
    assert "proxyjump" not in cfg.lookup("bastion.internal.example")


def test_hosts():
    assert SSHConfig.from_text(CONFIG).hosts() == ["build01", "build02"]
