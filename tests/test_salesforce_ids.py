import pytest

from salesforce_connector.core.salesforce_ids import same_salesforce_id


@pytest.mark.parametrize(
	"first, second, expected",
	[
		("001000000000001AAA", "001000000000001", True),
		("001000000000001", "001000000000001", True),
		("00D000000000001EAA", "00d000000000001eaa", True),
		(" 00D000000000001EAA ", "00D000000000001EAA", True),
		("00100000000000a", "00100000000000A", False),
		("00100000000000aAAA", "00100000000000A", False),
		("001000000000001AAA", "001000000000002AAA", False),
		("0010000", "0010000", False),
	],
)
def test_ids_compare_as_their_form_allows(first, second, expected):
	assert same_salesforce_id(first, second) is expected
