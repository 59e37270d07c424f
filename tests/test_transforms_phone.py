import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import apply_transform, to_e164


@pytest.mark.parametrize(
	"written",
	[
		"+91 98200 12345",
		"+91-98200-12345",
		"+919820012345",
		"098200-12345",
		"09820012345",
		"9820012345",
		"98200 12345",
		"0091 98200 12345",
	],
)
def test_indian_mobile_written_any_common_way(written):
	assert to_e164(written) == "+919820012345"


def test_mumbai_landline_with_trunk_prefix_and_brackets():
	assert to_e164("(022) 2345 6789") == "+912223456789"


def test_number_with_another_country_code_keeps_it():
	assert to_e164("+44 20 7946 0958") == "+442079460958"


def test_region_option_reads_a_local_us_number():
	assert apply_transform("phone_e164", "(415) 555-0132", options={"region": "US"}) == "+14155550132"


def test_transform_defaults_to_india():
	assert apply_transform("phone_e164", "98200 12345") == "+919820012345"


@pytest.mark.parametrize("written", ["12345", "98200 12345 67890", "+91", "+91 982"])
def test_number_with_impossible_length_is_rejected(written):
	with pytest.raises(MappingError):
		to_e164(written)


@pytest.mark.parametrize("written", ["call me", "n/a", "@@@"])
def test_text_that_is_no_number_is_rejected(written):
	with pytest.raises(MappingError, match="not a phone number"):
		to_e164(written)


def test_unknown_region_is_rejected():
	with pytest.raises(MappingError, match="not a region"):
		to_e164("9820012345", region="XX")


def test_phone_rejection_names_the_field_and_value():
	with pytest.raises(MappingError) as caught:
		apply_transform("phone_e164", "12345", field="MobilePhone")

	assert (caught.value.field, caught.value.value) == ("MobilePhone", "12345")
