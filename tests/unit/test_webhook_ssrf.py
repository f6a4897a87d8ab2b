"""The webhook SSRF guard's pure parts (app.webhooks.ssrf): URL forms, the address categories in
every IPv6 disguise of an IPv4 address, and the operator's allow-list. No name is resolved here:
the resolving checks run against real receivers in tests/webhooks/test_ssrf.py."""

from __future__ import annotations

import ipaddress

import pytest

from app.config import ConfigError, load_config
from app.webhooks import ssrf

NOTHING_ALLOWED = ssrf.allow_list(())


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://hooks.example.com/in", "Only https"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https:///in", "name a host"),
        ("https://hooks.example.com:70000/in", "port"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://hooks.example.com\\@127.0.0.1/", "backslashes"),
        ("https://[fe80::1%25eth0]/in", "zone"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(url, why):
    with pytest.raises(ssrf.RefusedTarget, match=why):
        ssrf.parse(url)


def test_a_url_is_normalised_to_what_is_sent():
    target = ssrf.parse("HTTPS://Hooks.Example.COM./in?x=1")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example.com", 443, "/in?x=1")
    assert target.host_header == "hooks.example.com"
    assert ssrf.parse("http://[::1]:8080").host_header == "[::1]:8080"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("fd00::1", "private"),
    ],
)
def test_addresses_that_reach_inside_are_refused_with_their_category(address, reason):
    assert ssrf.refusal_reason(ipaddress.ip_address(address)) == reason
    with pytest.raises(ssrf.RefusedTarget, match=reason):
        ssrf.check_address(ipaddress.ip_address(address), NOTHING_ALLOWED)


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::7f00:1",  # IPv4-compatible
        "64:ff9b::a01:203",  # NAT64 of 10.1.2.3
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_ipv6_disguises_of_inside_ipv4_addresses_are_refused(address):
    with pytest.raises(ssrf.RefusedTarget, match="not allowed"):
        ssrf.check_address(ipaddress.ip_address(address), NOTHING_ALLOWED)


def test_a_public_address_passes():
    assert ssrf.refusal_reason(ipaddress.ip_address("93.184.216.34")) is None
    ssrf.check_address(ipaddress.ip_address("2606:2800:220:1::1"), NOTHING_ALLOWED)
    ssrf.check_address(ipaddress.ip_address("2002:5db8:d822::"), NOTHING_ALLOWED)  # 6to4 of a public address


def test_the_allow_list_opens_exactly_what_it_names():
    allowed = ssrf.allow_list(("10.0.0.0/24", "[::1]", "Intranet.Example."))
    ssrf.check_address(ipaddress.ip_address("10.0.0.7"), allowed)
    ssrf.check_address(ipaddress.ip_address("::1"), allowed)
    assert allowed.allows_name("intranet.example")
    with pytest.raises(ssrf.RefusedTarget):
        ssrf.check_address(ipaddress.ip_address("10.0.1.7"), allowed)
    with pytest.raises(ssrf.RefusedTarget):
        ssrf.check_address(ipaddress.ip_address("127.0.0.1"), allowed)


def test_webhook_settings_are_parsed_and_validated(environment):
    for name in (
        "WEBHOOK_ALLOWED_HOSTS",
        "WEBHOOK_TIMEOUT_SECONDS",
        "WEBHOOK_MAX_ATTEMPTS",
        "WEBHOOK_RETRY_DELAY_SECONDS",
    ):
        environment.delenv(name, raising=False)
    config = load_config()
    assert config["WEBHOOK_ALLOWED_HOSTS"] == []
    assert (config["WEBHOOK_TIMEOUT_SECONDS"], config["WEBHOOK_MAX_ATTEMPTS"]) == (10.0, 8)
    assert config["WEBHOOK_RETRY_DELAY_SECONDS"] == 30.0
    environment.setenv("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1, 10.0.0.0/8")
    assert load_config()["WEBHOOK_ALLOWED_HOSTS"] == ["127.0.0.1", "10.0.0.0/8"]
    environment.setenv("WEBHOOK_TIMEOUT_SECONDS", "0")
    with pytest.raises(ConfigError, match="WEBHOOK_TIMEOUT_SECONDS"):
        load_config()
