"""The address policy behind link checks (service/netguard.py): pure, over tables of addresses."""

from __future__ import annotations

import ipaddress

import pytest

from secml_papers.service.netguard import AddressPolicy, Refused, literal_address, why_not_public

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.0.0.5", "private"),
    ("172.16.3.4", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "not a public address"),  # carrier-grade NAT
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fec0::1", "site-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.1", "private"),  # documentation
    ("198.18.0.1", "private"),  # benchmarking
    ("::ffff:127.0.0.1", "loopback address (IPv4-mapped 127.0.0.1)"),
    ("::ffff:10.1.2.3", "private address (IPv4-mapped 10.1.2.3)"),
    ("::ffff:169.254.169.254", "link-local address (IPv4-mapped 169.254.169.254)"),
    ("2002:7f00:1::", "loopback address (6to4 127.0.0.1)"),
    ("2002:a9fe:a9fe::1", "link-local address (6to4 169.254.169.254)"),
    ("64:ff9b::7f00:1", "loopback address (NAT64 127.0.0.1)"),
    ("64:ff9b::a00:1", "private address (NAT64 10.0.0.1)"),
    ("64:ff9b:1::1", "reserved"),  # local-use NAT64 prefix
    ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated) ::127.0.0.1
    ("2001::1", "private"),  # Teredo
    ("2001:db8::1", "private"),  # documentation
]
# An IPv6 form carrying a public IPv4 address is as public as that address.
PUBLIC = ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1"]
PUBLIC += ["64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_non_public_addresses_are_named(address: str, reason: str) -> None:
    got = why_not_public(address)
    assert got is not None and reason in got


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert why_not_public(address) is None
    assert why_not_public(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # one decimal number
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("::1", "::1"),
        ("example.org", None),
        ("2130706433.example", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("0x1.0x1ffffff", None),  # the last part is too large for two parts
        ("08.1.1.1", None),  # not octal
        ("", None),
    ],
)
def test_literal_forms_match_inet_aton(host: str, address: str | None) -> None:
    got = literal_address(host)
    assert (None if got is None else str(got)) == address


def _resolver(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


def test_pick_checks_every_answer_and_names_the_host() -> None:
    policy = AddressPolicy(
        resolver=_resolver(
            {
                "paper.example": ["93.184.215.14"],
                "two-faced.example": ["93.184.215.14", "10.0.0.7"],
                "metadata.example": ["169.254.169.254"],
            }
        )
    )
    assert policy.pick("paper.example", 443) == "93.184.215.14"
    with pytest.raises(Refused, match=r"two-faced\.example resolves to 10\.0\.0\.7, a private"):
        policy.pick("two-faced.example", 443)
    with pytest.raises(Refused, match="link-local"):
        policy.pick("metadata.example", 80)
    with pytest.raises(Refused, match=r"^2130706433 is 127\.0\.0\.1, a loopback address$"):
        policy.pick("2130706433", 80)  # a literal is never handed to the resolver
    with pytest.raises(Refused, match=r"^127\.0\.0\.1 is a loopback address$"):
        policy.pick("127.0.0.1", 80)
    with pytest.raises(OSError):
        policy.pick("missing.example", 80)  # the checker reports "could not connect"


def test_pick_with_stand_ins_and_with_private_allowed() -> None:
    resolve = _resolver({"stub.test": ["127.0.0.1"], "empty.test": []})
    stand_in = AddressPolicy(resolver=resolve, public_endpoints=frozenset({("127.0.0.1", 8001)}))
    assert stand_in.pick("stub.test", 8001) == "127.0.0.1"
    with pytest.raises(Refused):
        stand_in.pick("stub.test", 8002)  # another port of the same address stays private
    with pytest.raises(Refused, match="no address"):
        stand_in.pick("empty.test", 80)
    trusting = AddressPolicy(allow_private=True, resolver=resolve)
    assert trusting.pick("stub.test", 9) == "127.0.0.1"
    assert trusting.pick("::ffff:127.0.0.1", 9) == "::ffff:7f00:1"
