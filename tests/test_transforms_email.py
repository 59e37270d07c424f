import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import apply_transform, normalise_email


def test_address_is_stripped():
	assert normalise_email("  priya@example.in \n") == "priya@example.in"


def test_domain_is_lower_cased_and_local_part_kept():
	assert normalise_email("Priya.Sharma@Example.CO.IN") == "Priya.Sharma@example.co.in"


def test_plus_address_is_kept():
	assert normalise_email("accounts+gst@tata-steel.co.in") == "accounts+gst@tata-steel.co.in"


def test_transform_normalises_an_address():
	assert apply_transform("email", " Ravi@Infosys.COM ", field="Email") == "Ravi@infosys.com"


@pytest.mark.parametrize(
	"written",
	[
		"priya.example.com",
		"priya@",
		"@example.com",
		"priya@example",
		"priya@.com",
		"priya@example.",
		"priya sharma@example.com",
		"priya@exa mple.com",
		"a@b@example.com",
	],
)
def test_what_cannot_be_an_address_is_rejected(written):
	with pytest.raises(MappingError, match="not an e-mail address"):
		normalise_email(written)
