"""The default mapping must say what the users' mapping sheet says, and be usable as it stands."""

import pytest

from salesforce_connector.core.default_mappings import DEFAULT_MAPPINGS
from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.mapping import map_record
from salesforce_connector.core.transforms import TRANSFORMS, TransformResult

ERPNEXT_LOOKUP_TRANSFORMS = {"erpnext_country", "erpnext_customer", "erpnext_item"}


def mapping(salesforce_object, doctype):
	return next(
		m
		for m in DEFAULT_MAPPINGS
		if (m.salesforce_object, m.erpnext_doctype) == (salesforce_object, doctype)
	)


def pairs(salesforce_object, doctype):
	return {(rule.salesforce_field, rule.erpnext_field) for rule in mapping(salesforce_object, doctype).rules}


def test_mapping_sheet_rows_are_present():
	assert ("Company", "customer_name") in pairs("Lead", "Customer")
	assert ("Email", "email_id") in pairs("Lead", "Contact")
	assert ("Phone", "mobile_no") in pairs("Lead", "Contact")
	assert {
		("Street", "address_line1"),
		("City", "city"),
		("State", "state"),
		("PostalCode", "pincode"),
	} <= pairs("Lead", "Address")
	assert ("Name", "customer_name") in pairs("Account", "Customer")
	assert ("BillingStreet", "address_line1") in pairs("Account", "Address")
	assert ("Id", "custom_salesforce_opp_id") in pairs("Opportunity", "Quotation")
	assert {("Product2", "item_code"), ("Quantity", "qty"), ("UnitPrice", "rate")} <= pairs(
		"OpportunityLineItem", "Quotation Item"
	)


def test_every_named_transform_exists():
	named = {rule.transform for m in DEFAULT_MAPPINGS for rule in m.rules if rule.transform}

	assert named <= set(TRANSFORMS) | ERPNEXT_LOOKUP_TRANSFORMS


def test_one_mapping_per_object_and_doctype():
	keys = [(m.salesforce_object, m.erpnext_doctype) for m in DEFAULT_MAPPINGS]

	assert len(keys) == len(set(keys))


def test_indian_lead_maps_to_canonical_values():
	lead = {
		"Id": "00Q000000000001AAA",
		"Company": " Sharma Traders ",
		"Email": "Buyer@Sharma.EXAMPLE",
		"Phone": "098200 12345",
		"State": "MH",
		"Street": "12 Link Road",
	}

	customer = map_record(mapping("Lead", "Customer"), lead).values
	contact = map_record(mapping("Lead", "Contact"), lead).values
	address = map_record(mapping("Lead", "Address"), lead).values

	assert customer["customer_name"] == "Sharma Traders"
	assert contact["email_id"] == "Buyer@sharma.example"
	assert contact["mobile_no"] == "+919820012345"
	assert address["state"] == "Maharashtra"


def keep_country(value, options):
	return TransformResult(value)


def test_foreign_lead_keeps_its_state_as_typed():
	lead = {"State": "WA", "Street": "One Example Way", "Country": "USA"}

	values = map_record(
		mapping("Lead", "Address"), lead, extra_transforms={"erpnext_country": keep_country}
	).values

	assert values["state"] == "WA"


def test_lead_without_country_is_read_as_indian():
	with pytest.raises(MappingError, match="'WA' is not an Indian state"):
		map_record(mapping("Lead", "Address"), {"State": "WA", "Street": "One Example Way"})
