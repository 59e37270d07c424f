import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import apply_transform, canonical_indian_state, gst_state_code

# Written from the GST state code list and the vehicle registration codes, not from the module.
# (name as India Compliance spells it, GST state code, common abbreviation)
STATES_AND_UNION_TERRITORIES = [
	("Jammu and Kashmir", "01", "JK"),
	("Himachal Pradesh", "02", "HP"),
	("Punjab", "03", "PB"),
	("Chandigarh", "04", "CH"),
	("Uttarakhand", "05", "UK"),
	("Haryana", "06", "HR"),
	("Delhi", "07", "DL"),
	("Rajasthan", "08", "RJ"),
	("Uttar Pradesh", "09", "UP"),
	("Bihar", "10", "BR"),
	("Sikkim", "11", "SK"),
	("Arunachal Pradesh", "12", "AR"),
	("Nagaland", "13", "NL"),
	("Manipur", "14", "MN"),
	("Mizoram", "15", "MZ"),
	("Tripura", "16", "TR"),
	("Meghalaya", "17", "ML"),
	("Assam", "18", "AS"),
	("West Bengal", "19", "WB"),
	("Jharkhand", "20", "JH"),
	("Odisha", "21", "OD"),
	("Chhattisgarh", "22", "CG"),
	("Madhya Pradesh", "23", "MP"),
	("Gujarat", "24", "GJ"),
	("Dadra and Nagar Haveli and Daman and Diu", "26", "DH"),
	("Maharashtra", "27", "MH"),
	("Karnataka", "29", "KA"),
	("Goa", "30", "GA"),
	("Lakshadweep Islands", "31", "LD"),
	("Kerala", "32", "KL"),
	("Tamil Nadu", "33", "TN"),
	("Puducherry", "34", "PY"),
	("Andaman and Nicobar Islands", "35", "AN"),
	("Telangana", "36", "TS"),
	("Andhra Pradesh", "37", "AP"),
	("Ladakh", "38", "LA"),
]

STATE_NAMES = [name for name, _, _ in STATES_AND_UNION_TERRITORIES]


def test_table_covers_all_36_states_and_union_territories():
	assert len(set(STATE_NAMES)) == 36


@pytest.mark.parametrize("name", STATE_NAMES)
def test_exact_name_is_kept(name):
	assert canonical_indian_state(name) == name


@pytest.mark.parametrize("name", STATE_NAMES)
def test_name_in_lower_case_with_extra_spaces_is_recognised(name):
	assert canonical_indian_state(f"  {name.lower().replace(' ', '  ')} ") == name


@pytest.mark.parametrize(
	("name", "abbreviation"), [(name, abbr) for name, _, abbr in STATES_AND_UNION_TERRITORIES]
)
def test_common_abbreviation_is_recognised(name, abbreviation):
	assert canonical_indian_state(abbreviation) == name


@pytest.mark.parametrize(("name", "code"), [(name, code) for name, code, _ in STATES_AND_UNION_TERRITORIES])
def test_gst_state_code_is_recognised(name, code):
	assert canonical_indian_state(code) == name


@pytest.mark.parametrize(("name", "code"), [(name, code) for name, code, _ in STATES_AND_UNION_TERRITORIES])
def test_gst_state_code_of_a_name(name, code):
	assert gst_state_code(name) == code


def test_other_territory_by_name_and_code():
	assert canonical_indian_state("other territory") == "Other Territory"
	assert canonical_indian_state("97") == "Other Territory"


@pytest.mark.parametrize(
	("written", "name"),
	[
		("Mah", "Maharashtra"),
		("mh", "Maharashtra"),
		("M.H.", "Maharashtra"),
		("IN-MH", "Maharashtra"),
		("Maharastra", "Maharashtra"),
		("TG", "Telangana"),
		("Telengana", "Telangana"),
		("Orissa", "Odisha"),
		("OR", "Odisha"),
		("Pondicherry", "Puducherry"),
		("Chattisgarh", "Chhattisgarh"),
		("CT", "Chhattisgarh"),
		("Tamilnadu", "Tamil Nadu"),
		("TAMIL NADU", "Tamil Nadu"),
		("Uttaranchal", "Uttarakhand"),
		("UT", "Uttarakhand"),
		("J&K", "Jammu and Kashmir"),
		("J & K", "Jammu and Kashmir"),
		("Jammu & Kashmir", "Jammu and Kashmir"),
		("Andaman & Nicobar", "Andaman and Nicobar Islands"),
		("Lakshadweep", "Lakshadweep Islands"),
		("Daman and Diu", "Dadra and Nagar Haveli and Daman and Diu"),
		("Dadra & Nagar Haveli", "Dadra and Nagar Haveli and Daman and Diu"),
		("NCT of Delhi", "Delhi"),
		("Gujrat", "Gujarat"),
		("Kerela", "Kerala"),
	],
)
def test_old_name_or_misspelling_is_recognised(written, name):
	assert canonical_indian_state(written) == name


def test_gst_code_that_lost_its_leading_zero_is_recognised():
	assert canonical_indian_state("7") == "Delhi"


def test_gst_state_code_accepts_an_abbreviation():
	assert gst_state_code("KA") == "29"


@pytest.mark.parametrize(
	"written",
	[
		"Bombay",
		"Mumbai",
		"Bangalore",
		"Madras",
		"New York",
		"India",
		"Pradesh",
		"Andhra",
		"XX",
		"M",
		"00",
		"25",
		"28",
		"39",
		"96",
		"99",
		"027",
		"Maharashtra Tamil Nadu",
	],
)
def test_unknown_state_is_rejected(written):
	with pytest.raises(MappingError, match="not an Indian state"):
		canonical_indian_state(written)


def test_empty_text_is_rejected_by_the_helper():
	with pytest.raises(MappingError):
		canonical_indian_state("")


def test_number_instead_of_text_is_rejected():
	with pytest.raises(MappingError, match="not text"):
		canonical_indian_state(27)


def test_gst_state_code_of_unknown_state_is_rejected():
	with pytest.raises(MappingError):
		gst_state_code("Bombay")


def test_transform_maps_a_salesforce_state_code():
	assert apply_transform("indian_state", "TN", field="BillingState") == "Tamil Nadu"


def test_transform_rejection_names_the_field_and_value():
	with pytest.raises(MappingError) as caught:
		apply_transform("indian_state", "Bombay", field="BillingState")

	assert caught.value.field == "BillingState"
	assert caught.value.value == "Bombay"
	assert "BillingState" in caught.value.message
