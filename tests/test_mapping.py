import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.mapping import FieldRule, ObjectMapping, map_record, read_path
from salesforce_connector.core.transforms import TransformResult


def reject_x(value, options):
	if "x" in value:
		raise MappingError("contains x", value=value)
	return TransformResult(value)


TRANSFORMS = {"reject_x": reject_x}


def lead_mapping(*rules):
	return ObjectMapping("Lead", "Customer", tuple(rules))


def test_read_path_follows_parent_relationships():
	record = {"Product2": {"ProductCode": "SKU-1", "Family": None}}

	assert read_path(record, "Product2.ProductCode") == "SKU-1"
	assert read_path(record, "Product2.Family") is None
	assert read_path(record, "Product2.Missing") is None
	assert read_path(record, "Account.Name") is None
	assert read_path({"Account": None}, "Account.Name") is None


def test_values_are_copied_to_erpnext_fields():
	mapping = lead_mapping(FieldRule("Company", "customer_name"), FieldRule("Title", "designation"))

	mapped = map_record(mapping, {"Company": "Asha Traders", "Title": "Owner"}, extra_transforms=TRANSFORMS)

	assert mapped.values == {"customer_name": "Asha Traders", "designation": "Owner"}


def test_field_absent_from_the_message_is_left_out_not_blanked():
	mapping = lead_mapping(FieldRule("Company", "customer_name"), FieldRule("Email", "email_id"))

	mapped = map_record(mapping, {"Company": "Asha Traders"}, extra_transforms=TRANSFORMS)

	assert "email_id" not in mapped.values


def test_explicit_null_is_written_as_none():
	mapping = lead_mapping(FieldRule("Website", "website", transform="upper"))

	mapped = map_record(mapping, {"Website": None}, extra_transforms=TRANSFORMS)

	assert mapped.values == {"website": None}


def test_transform_is_applied():
	mapping = lead_mapping(FieldRule("Company", "customer_name", transform="upper"))

	assert (
		map_record(mapping, {"Company": "asha"}, extra_transforms=TRANSFORMS).values["customer_name"]
		== "ASHA"
	)


def test_match_keys_are_collected_when_present():
	mapping = lead_mapping(
		FieldRule("Id", "salesforce_lead_id", is_match_key=True),
		FieldRule("Email", "email_id", is_match_key=True),
		FieldRule("Company", "customer_name"),
	)

	mapped = map_record(mapping, {"Id": "00Q1", "Email": "", "Company": "A"}, extra_transforms=TRANSFORMS)

	assert mapped.match_keys == {"salesforce_lead_id": "00Q1"}


def test_every_rejected_value_is_reported_with_record_and_field():
	mapping = lead_mapping(
		FieldRule("Company", "customer_name", transform="reject_x"),
		FieldRule("City", "city", transform="reject_x"),
	)

	with pytest.raises(MappingError) as raised:
		map_record(
			mapping, {"Company": "xyz", "City": "Pune x"}, extra_transforms=TRANSFORMS, record_label="00Q1"
		)

	assert "Lead 00Q1: Company → customer_name rejected 'xyz'" in raised.value.message
	assert "City → city rejected 'Pune x'" in raised.value.message


def test_unknown_transform_fails_the_field():
	mapping = lead_mapping(FieldRule("Company", "customer_name", transform="nonexistent"))

	with pytest.raises(MappingError, match="unknown transform 'nonexistent'"):
		map_record(mapping, {"Company": "A"}, extra_transforms=TRANSFORMS)


def test_transform_warnings_reach_the_result_with_the_field_named():
	mapping = lead_mapping(FieldRule("Description", "notes", transform="truncate", options={"length": 4}))

	mapped = map_record(mapping, {"Description": "abcdefgh"})

	assert mapped.values["notes"] == "abcd"
	assert mapped.warnings == ["notes: cut from 8 to 4 characters"]


def test_blank_text_is_written_as_none():
	mapping = lead_mapping(FieldRule("Company", "customer_name", transform="strip"))

	assert map_record(mapping, {"Company": "   "}).values == {"customer_name": None}


def test_core_transforms_are_available_by_name():
	mapping = lead_mapping(FieldRule("Phone", "mobile_no", transform="phone_e164"))

	assert map_record(mapping, {"Phone": "098200-12345"}).values == {"mobile_no": "+919820012345"}


def state_rule():
	options = {"when_field": "Country", "when_in": ["India", "IN"], "when_missing": True}
	return FieldRule("State", "state", transform="upper", options=options)


@pytest.mark.parametrize(
	"record, expected",
	[
		({"State": "mh", "Country": "India"}, "MH"),
		({"State": "mh", "Country": " in "}, "MH"),
		({"State": "mh"}, "MH"),
		({"State": "wa", "Country": "USA"}, "wa"),
	],
)
def test_conditional_transform_applies_only_when_the_other_field_matches(record, expected):
	mapped = map_record(lead_mapping(state_rule()), record, extra_transforms=TRANSFORMS)

	assert mapped.values["state"] == expected


def test_rule_lookup_by_erpnext_field():
	rule = FieldRule("Company", "customer_name")

	assert lead_mapping(rule).rule_for("customer_name") is rule
	assert lead_mapping(rule).rule_for("tax_id") is None
