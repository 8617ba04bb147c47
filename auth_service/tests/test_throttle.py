"""What the failed-attempt limits count a client as (no server)."""
import pytest

from auth_service.throttle import NO_ADDRESS, client_key

pytestmark = pytest.mark.fast  # no servers: `make test-fast`


@pytest.mark.parametrize("address,key", [
    ("10.0.0.7", "10.0.0.7"),
    ("::ffff:10.0.0.7", "10.0.0.7"),                       # the same IPv4 client over a v6 socket
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),   # attack: hopping within one's /64
    (None, NO_ADDRESS), ("", NO_ADDRESS),
    ("mes shell", "mes shell"),                             # the CLI names itself
])
def test_an_ipv6_client_counts_as_its_64_and_an_ipv4_one_as_itself(address, key):
    assert client_key(address) == key
