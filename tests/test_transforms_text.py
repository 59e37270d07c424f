import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import apply_transform

LEAD_SOURCE_TO_PRIORITY = {"Hot": "High", "Warm": "Medium", "Cold": "Low"}


def test_long_text_is_cut_to_length():
	assert apply_transform("truncate", "Reliance Industries Limited", options={"length": 8}) == "Reliance"


def test_cut_text_leaves_a_warning_naming_the_field():
	warnings = []
	apply_transform("truncate", "x" * 200, field="Description", options={"length": 140}, warnings=warnings)

	assert warnings == ["Description: cut from 200 to 140 characters"]


def test_text_that_fits_leaves_no_warning():
	warnings = []
	apply_transform("truncate", "x" * 140, field="Description", options={"length": 140}, warnings=warnings)

	assert warnings == []


def test_cut_without_a_warnings_list_still_returns_the_cut_text():
	assert apply_transform("truncate", "abcdef", options={"length": 3}) == "abc"


def test_truncate_counts_characters_not_bytes():
	assert apply_transform("truncate", "महाराष्ट्र", options={"length": 10}) == "महाराष्ट्र"


@pytest.mark.parametrize("options", [{}, {"length": 0}, {"length": "140"}, {"length": 14.0}])
def test_truncate_without_a_usable_length_is_rejected(options):
	with pytest.raises(MappingError, match="length"):
		apply_transform("truncate", "abc", options=options)


def test_upper():
	assert apply_transform("upper", "aapfu0939f") == "AAPFU0939F"


def test_lower():
	assert apply_transform("lower", "SALES@Example.com") == "sales@example.com"


def test_strip():
	assert apply_transform("strip", "  Pune \t") == "Pune"


def test_none_returns_the_value_unchanged():
	assert apply_transform("none", "  As Is ") == "  As Is "


@pytest.mark.parametrize("name", ["upper", "lower", "strip", "truncate"])
def test_text_transform_rejects_a_number(name):
	with pytest.raises(MappingError, match="not text"):
		apply_transform(name, 42, options={"length": 5})


def test_picklist_value_is_mapped():
	assert apply_transform("picklist", "Hot", options={"map": LEAD_SOURCE_TO_PRIORITY}) == "High"


def test_unknown_picklist_value_becomes_the_default():
	options = {"map": LEAD_SOURCE_TO_PRIORITY, "default": "Medium"}
	assert apply_transform("picklist", "Lukewarm", options=options) == "Medium"


def test_picklist_default_may_be_none():
	options = {"map": LEAD_SOURCE_TO_PRIORITY, "default": None}
	assert apply_transform("picklist", "Lukewarm", options=options) is None


def test_unknown_picklist_value_without_default_is_rejected():
	with pytest.raises(MappingError, match="not a picklist value") as caught:
		apply_transform("picklist", "Lukewarm", field="Rating", options={"map": LEAD_SOURCE_TO_PRIORITY})

	assert (caught.value.field, caught.value.value) == ("Rating", "Lukewarm")


def test_picklist_value_in_another_case_is_rejected():
	with pytest.raises(MappingError, match="not a picklist value"):
		apply_transform("picklist", "hot", options={"map": LEAD_SOURCE_TO_PRIORITY})


def test_picklist_without_a_map_is_rejected():
	with pytest.raises(MappingError, match="'map' option"):
		apply_transform("picklist", "Hot", options={"default": "Low"})
