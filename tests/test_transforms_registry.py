import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import TRANSFORMS, TransformResult, apply_transform

NAMES_A_MAPPING_ROW_CAN_USE = {
	"indian_state",
	"gstin",
	"pan",
	"phone_e164",
	"email",
	"picklist",
	"date",
	"datetime",
	"decimal",
	"boolean",
	"truncate",
	"upper",
	"lower",
	"strip",
	"none",
}


def test_registry_offers_every_documented_transform():
	assert set(TRANSFORMS) == NAMES_A_MAPPING_ROW_CAN_USE


@pytest.mark.parametrize("name", sorted(NAMES_A_MAPPING_ROW_CAN_USE))
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_value_passes_through_as_none(name, blank):
	assert apply_transform(name, blank, options={"length": 5, "map": {}}) is None


def test_missing_name_means_no_transform():
	assert apply_transform(None, "Acme") == "Acme"


# one value each transform accepts, with the options it needs
ACCEPTED_VALUES = {
	"indian_state": ("MH", {}),
	"gstin": ("27AAPFU0939F1ZV", {}),
	"pan": ("AAPFU0939F", {}),
	"phone_e164": ("9820012345", {}),
	"email": ("a@example.in", {}),
	"picklist": ("Hot", {"map": {"Hot": "High"}}),
	"date": ("2024-05-01", {}),
	"datetime": ("2024-05-01T10:20:30.000Z", {}),
	"decimal": ("1.5", {}),
	"boolean": ("true", {}),
	"truncate": ("abc", {"length": 2}),
	"upper": ("abc", {}),
	"lower": ("ABC", {}),
	"strip": (" abc ", {}),
	"none": ("abc", {}),
}


@pytest.mark.parametrize(("name", "sample"), ACCEPTED_VALUES.items())
def test_every_registered_transform_returns_a_transform_result(name, sample):
	value, options = sample
	assert isinstance(TRANSFORMS[name](value, options), TransformResult)


def test_unknown_transform_is_rejected_naming_the_field():
	with pytest.raises(MappingError, match="no transform called 'titlecase'") as caught:
		apply_transform("titlecase", "acme", field="Name")

	assert caught.value.field == "Name"


def test_unknown_transform_is_rejected_even_for_a_blank_value():
	with pytest.raises(MappingError, match="no transform called"):
		apply_transform("titlecase", None)


def test_rejection_without_field_keeps_the_value():
	with pytest.raises(MappingError) as caught:
		apply_transform("boolean", "maybe")

	assert (caught.value.field, caught.value.value) == (None, "maybe")


def test_rejection_lists_the_field_for_the_sync_log():
	with pytest.raises(MappingError) as caught:
		apply_transform("email", "not-an-address", field="Email")

	assert caught.value.fields == ["Email"]
