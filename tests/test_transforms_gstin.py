import string

import pytest
from stdnum import luhn

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import (
	apply_transform,
	corrected_gstin,
	normalise_gstin,
	pan_from_gstin,
	state_from_gstin,
)
from salesforce_connector.core.transforms.gstin import build_gstin, normalise_pan

LUHN_MOD_36 = string.digits + string.ascii_uppercase

# GST state codes India Compliance accepts, with the state each stands for
STATE_BY_CODE = {
	"01": "Jammu and Kashmir",
	"07": "Delhi",
	"09": "Uttar Pradesh",
	"19": "West Bengal",
	"24": "Gujarat",
	"26": "Dadra and Nagar Haveli and Daman and Diu",
	"27": "Maharashtra",
	"29": "Karnataka",
	"33": "Tamil Nadu",
	"36": "Telangana",
	"37": "Andhra Pradesh",
	"38": "Ladakh",
	"97": "Other Territory",
}


def make_gstin(state_code="27", pan="AAPFU0939F", entity="1"):
	body = f"{state_code}{pan}{entity}Z"
	return body + luhn.calc_check_digit(body, LUHN_MOD_36)


def with_other_check_character(gstin):
	wrong = next(character for character in "ABCDEFGHJ" if character != gstin[-1])
	return gstin[:-1] + wrong


@pytest.mark.parametrize("state_code", STATE_BY_CODE)
def test_valid_gstin_is_accepted(state_code):
	gstin = make_gstin(state_code)
	assert normalise_gstin(gstin) == gstin


@pytest.mark.parametrize(("state_code", "state"), STATE_BY_CODE.items())
def test_state_from_gstin_names_the_state(state_code, state):
	assert state_from_gstin(make_gstin(state_code)) == state


def test_gstin_in_lower_case_with_spaces_is_normalised():
	assert normalise_gstin(" 27aapfu 0939f1zv ") == "27AAPFU0939F1ZV"


def test_gstin_of_a_company_pan_with_second_registration_is_accepted():
	gstin = make_gstin("29", pan="AAACR5055K", entity="2")
	assert normalise_gstin(gstin) == gstin


def test_pan_from_gstin():
	assert pan_from_gstin("27AAPFU0939F1ZV") == "AAPFU0939F"


@pytest.mark.parametrize("state_code", ["27", "38", "97"])
def test_changed_check_character_is_rejected(state_code):
	with pytest.raises(MappingError, match="not a valid GSTIN"):
		normalise_gstin(with_other_check_character(make_gstin(state_code)))


def test_a_mistyped_check_character_is_refused_with_the_gstin_it_would_make():
	gstin = make_gstin("29", pan="AAACR5055K")

	with pytest.raises(MappingError) as raised:
		normalise_gstin(with_other_check_character(gstin).lower())

	assert f"If only its check character is mistyped, it is {gstin}." in raised.value.message


@pytest.mark.parametrize(
	"text",
	[
		"27AAPFU0939F1ZV5",  # a character too many
		"27AAPFU0939F1A5",  # no Z in fourteenth place: no check character makes it valid
		"99AAPFU0939F1Z5",  # no state has code 99
		"27AAPFU-939F1ZV",  # a character no GSTIN holds
	],
)
def test_no_correction_is_proposed_when_the_check_character_is_not_the_fault(text):
	assert corrected_gstin(text) is None
	with pytest.raises(MappingError) as raised:
		normalise_gstin(text)
	assert "mistyped" not in raised.value.message


@pytest.mark.parametrize("text", ["27-AAPFU0939F1Z-X", "\uff12\uff17AAPFU0939F1ZX"])
def test_a_gstin_read_with_hyphens_or_wide_digits_is_corrected_as_its_refusal_says(text):
	with pytest.raises(MappingError) as raised:
		normalise_gstin(text)

	assert corrected_gstin(text) == "27AAPFU0939F1ZV"
	assert "it is 27AAPFU0939F1ZV." in raised.value.message


def test_a_valid_gstin_needs_no_correction():
	assert corrected_gstin(make_gstin()) is None


def test_gstin_one_character_short_is_rejected():
	with pytest.raises(MappingError, match="not a valid GSTIN"):
		normalise_gstin(make_gstin()[:-1])


def test_gstin_one_character_long_is_rejected():
	with pytest.raises(MappingError, match="not a valid GSTIN"):
		normalise_gstin(make_gstin() + "5")


def test_gstin_without_z_in_fourteenth_place_is_rejected():
	body = "27AAPFU0939F1A"
	with pytest.raises(MappingError, match="not a valid GSTIN"):
		normalise_gstin(body + luhn.calc_check_digit(body, LUHN_MOD_36))


def test_gstin_with_impossible_pan_holder_type_is_rejected():
	with pytest.raises(MappingError, match="not a valid GSTIN"):
		normalise_gstin(make_gstin(pan="AAAXU0939F"))


@pytest.mark.parametrize("state_code", ["25", "28", "96", "99", "00"])
def test_gstin_with_state_code_india_compliance_does_not_know_is_rejected(state_code):
	with pytest.raises(MappingError, match="not a valid GSTIN"):
		normalise_gstin(make_gstin(state_code))


def test_ladakh_gstin_with_punctuation_inside_is_rejected():
	with pytest.raises(MappingError, match="not a valid GSTIN"):
		normalise_gstin("38AAPFU.939F1ZV")


def test_state_from_invalid_gstin_is_rejected():
	with pytest.raises(MappingError):
		state_from_gstin(with_other_check_character(make_gstin()))


def test_gstin_transform_rejection_names_the_field():
	with pytest.raises(MappingError) as caught:
		apply_transform("gstin", "27AAPFU0939F1ZO", field="GSTIN__c")

	assert caught.value.field == "GSTIN__c"
	assert caught.value.value == "27AAPFU0939F1ZO"


def test_pan_is_normalised():
	assert normalise_pan(" aapfu0939f ") == "AAPFU0939F"


@pytest.mark.parametrize("pan", ["AAPFU0939", "AAPFU09391", "AAPXU0939F", "AAPFU0000F"])
def test_invalid_pan_is_rejected(pan):
	with pytest.raises(MappingError, match="not a valid PAN"):
		normalise_pan(pan)


def test_built_gstin_is_valid_and_matches_an_independent_computation():
	assert (
		build_gstin("27", "aapfu0939f")
		== make_gstin("27", "AAPFU0939F")
		== normalise_gstin(build_gstin("27", "AAPFU0939F"))
	)
