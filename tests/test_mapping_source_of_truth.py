"""Which values an update of an existing ERPNext document takes, by each field's source of truth."""

from datetime import datetime, timezone

import pytest

from salesforce_connector.core.default_mappings import DEFAULT_MAPPINGS, default_source_of_truth
from salesforce_connector.core.mapping import (
	ERPNEXT,
	NEWEST_WINS,
	SALESFORCE,
	DocumentVersion,
	FieldRule,
	ObjectMapping,
	map_record,
	plan_update,
	salesforce_changed_at,
)


def at(hour: int, minute: int = 0) -> datetime:
	return datetime(2026, 5, 1, hour, minute, tzinfo=timezone.utc)


def account_mapping() -> ObjectMapping:
	return ObjectMapping(
		"Account",
		"Customer",
		(
			FieldRule("Name", "customer_name", source_of_truth=SALESFORCE),
			FieldRule("Credit__c", "credit_limit", source_of_truth=ERPNEXT),
			FieldRule("GSTIN__c", "tax_id", source_of_truth=NEWEST_WINS),
		),
	)


def account(changed: str, **values) -> dict:
	return {"Name": "Kaveri Textiles", "Credit__c": 5000, "GSTIN__c": "29AAAPL1234C1Z5", **values} | {
		"SystemModstamp": changed
	}


def test_salesforce_owned_field_replaces_an_erpnext_edit():
	mapped = map_record(account_mapping(), account("2026-05-01T12:00:00.000Z", Name="Kaveri Mills"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9), edited_at=at(13)))

	assert plan.values["customer_name"] == "Kaveri Mills"


def test_erpnext_owned_field_is_never_changed_by_an_update():
	mapped = map_record(account_mapping(), account("2026-05-01T12:00:00.000Z"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9)))

	assert "credit_limit" not in plan.values
	[skipped] = [skip for skip in plan.skipped if skip.erpnext_field == "credit_limit"]
	assert skipped.reason == "ERPNext owns it"
	assert skipped.value == 5000
	assert skipped.salesforce_field == "Credit__c"


def test_newest_wins_keeps_an_erpnext_edit_made_after_the_salesforce_change():
	mapped = map_record(account_mapping(), account("2026-05-01T12:00:00.000Z"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9), edited_at=at(12, 30)))

	assert "tax_id" not in plan.values
	[skipped] = [skip for skip in plan.skipped if skip.erpnext_field == "tax_id"]
	assert "2026-05-01 12:30:00 UTC" in skipped.reason
	assert "2026-05-01 12:00:00 UTC" in skipped.reason


def test_newest_wins_takes_a_salesforce_change_made_after_the_erpnext_edit():
	mapped = map_record(account_mapping(), account("2026-05-01T14:00:00.000Z"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9), edited_at=at(12, 30)))

	assert plan.values["tax_id"] == "29AAAPL1234C1Z5"


def test_newest_wins_compares_with_the_later_of_the_applied_version_and_the_edit():
	# ERPNext was edited at 10, then Salesforce's 11 o'clock version was applied; a late 10:30
	# version is newer than the edit but older than what the document holds
	mapped = map_record(account_mapping(), account("2026-05-01T10:30:00.000Z"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(11), edited_at=at(10)))

	assert "tax_id" not in plan.values


def test_newest_wins_without_a_salesforce_time_keeps_an_erpnext_edit():
	mapping = account_mapping()
	mapped = map_record(mapping, {"GSTIN__c": "29AAAPL1234C1Z5"})

	plan = plan_update(mapped, DocumentVersion(edited_at=at(9)))

	assert plan.values == {}
	assert "does not say when it changed" in plan.skipped[0].reason


def test_newest_wins_on_a_document_nobody_edited_takes_a_newer_salesforce_value():
	mapped = map_record(account_mapping(), account("2026-05-01T10:00:00.000Z"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9)))

	assert plan.values["tax_id"] == "29AAAPL1234C1Z5"


@pytest.mark.parametrize("field", ["customer_name", "tax_id"])
def test_an_older_salesforce_version_never_overwrites_a_newer_one(field):
	mapped = map_record(account_mapping(), account("2026-05-01T08:00:00.000Z", Name="Old Name"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9)))

	assert field not in plan.values
	[skipped] = [skip for skip in plan.skipped if skip.erpnext_field == field]
	assert "older than the one already applied" in skipped.reason


def test_the_same_version_again_is_applied_so_a_retry_is_harmless():
	mapped = map_record(account_mapping(), account("2026-05-01T09:00:00.000Z", Name="Kaveri Mills"))

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9)))

	assert plan.values["customer_name"] == "Kaveri Mills"


def test_salesforce_value_without_any_time_is_applied_when_salesforce_owns_it():
	mapped = map_record(account_mapping(), {"Name": "Kaveri Mills"})

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9), edited_at=at(10)))

	assert plan.values == {"customer_name": "Kaveri Mills"}


def test_values_already_in_the_document_are_neither_applied_nor_reported():
	mapped = map_record(account_mapping(), account("2026-05-01T12:00:00.000Z"))
	current = {"customer_name": "Kaveri Textiles", "credit_limit": 5000, "tax_id": "29AAAPL1234C1Z5"}

	plan = plan_update(mapped, DocumentVersion(applied_at=at(9), edited_at=at(13)), current=current)

	assert plan.values == {}
	assert plan.skipped == []


def test_notes_name_the_document_the_field_the_value_and_the_reason():
	mapped = map_record(account_mapping(), account("2026-05-01T12:00:00.000Z", Credit__c=9000))

	notes = plan_update(mapped, DocumentVersion()).notes("Customer", "CUST-0001")

	assert notes == ["Customer CUST-0001: kept credit_limit, not 9000 from Credit__c: ERPNext owns it"]


def test_last_modified_date_is_preferred_over_system_modstamp():
	record = {
		"LastModifiedDate": "2026-05-01T09:00:00.000+0000",
		"SystemModstamp": "2026-05-01T11:00:00.000+0000",
	}

	assert salesforce_changed_at(record) == at(9)
	assert salesforce_changed_at({"SystemModstamp": "2026-05-01T11:00:00Z"}) == at(11)
	assert salesforce_changed_at({"Name": "x"}) is None


def test_mapped_record_carries_its_rules_and_time():
	mapped = map_record(account_mapping(), account("2026-05-01T12:00:00.000Z"))

	assert mapped.changed_at == at(12)
	assert mapped.rules["credit_limit"].source_of_truth == ERPNEXT


@pytest.mark.parametrize(
	"doctype, field, owner",
	[
		("Customer", "customer_name", SALESFORCE),
		("Contact", "email_id", SALESFORCE),
		("Contact", "mobile_no", SALESFORCE),
		("Quotation Item", "rate", SALESFORCE),
		("Quotation Item", "qty", SALESFORCE),
		("Quotation Item", "price_list_rate", ERPNEXT),
		("Quotation Item", "warehouse", ERPNEXT),
		("Sales Order", "delivery_date", ERPNEXT),
		("Sales Order", "per_billed", ERPNEXT),
		("Sales Invoice", "outstanding_amount", ERPNEXT),
		("Address", "city", NEWEST_WINS),
		("Customer", "tax_id", NEWEST_WINS),
	],
)
def test_default_owner_of_a_field(doctype, field, owner):
	assert default_source_of_truth(doctype, field) == owner


def test_every_default_row_has_an_owner():
	owners = {rule.source_of_truth for mapping in DEFAULT_MAPPINGS for rule in mapping.rules}

	assert owners <= {SALESFORCE, ERPNEXT, NEWEST_WINS}
	address = next(
		m for m in DEFAULT_MAPPINGS if (m.salesforce_object, m.erpnext_doctype) == ("Lead", "Address")
	)
	assert {rule.source_of_truth for rule in address.rules} == {NEWEST_WINS}
