"""Write-back decisions that need no site: Ids, values from documents, what is sent, outcomes, timing."""

import random
import string
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from salesforce_connector.core.client import RecordError, RecordResult
from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.mapping import FieldRule, ObjectMapping
from salesforce_connector.core.writeback import (
	REFUSED,
	RETRY,
	RETRY_DELAYS,
	WRITTEN,
	PendingGroup,
	SourceFacts,
	changes_to_send,
	id_18,
	json_value,
	outbox_key,
	outcome_of,
	record_values,
	retry_delay,
	rows_ready,
	same_value,
	seconds_until_ready,
	split_fields,
)
from salesforce_connector.emulator import ids as emulator_ids

ORDER_TYPES = {"status": "Select", "per_delivered": "Percent", "transaction_date": "Date"}
INVOICE_TYPES = {"grand_total": "Currency", "outstanding_amount": "Currency", "name": "Data"}
FIELDTYPES = {"Sales Order": ORDER_TYPES, "Sales Invoice": INVOICE_TYPES}
NOW = datetime(2027, 1, 10, 12, 0, 0)
SETTLE = timedelta(seconds=3)
MAX_WAIT = timedelta(seconds=45)


def mapping(doctype, *rules, salesforce_object="Opportunity"):
	return ObjectMapping(salesforce_object, doctype, tuple(rules))


def rule(salesforce_field, erpnext_field, transform=None, options=None):
	return FieldRule(salesforce_field, erpnext_field, transform, options or {})


# Ids and keys


def test_id_18_of_an_all_lower_case_id_appends_aaa():
	assert id_18("001000000000001") == "001000000000001AAA"


def test_id_18_encodes_the_capitals_of_each_five_characters():
	assert id_18("ABCDE0000000000")[15:] == "5AA"
	assert id_18("0000000000a000B")[15:] == "AAQ"


def test_id_18_agrees_with_the_emulators_independent_conversion():
	alphabet = string.ascii_letters + string.digits
	generator = random.Random(7)
	for _ in range(500):
		id15 = "".join(generator.choice(alphabet) for _ in range(15))
		assert id_18(id15) == emulator_ids.to_18(id15)


def test_an_18_character_id_keeps_its_first_15_and_recomputes_the_suffix():
	assert id_18("006000000000001AAA") == "006000000000001AAA"
	assert id_18("006000000000001xyz") == "006000000000001AAA"


@pytest.mark.parametrize("mangle", [str.upper, str.lower], ids=["upper", "lower"])
def test_an_18_character_id_that_lost_its_case_gets_it_back_from_its_suffix(mangle):
	real = emulator_ids.to_18("0018e0000Hf8cR0")

	assert id_18(mangle(real)) == real
	assert outbox_key("Account", mangle(real)) == outbox_key("Account", real)


def test_an_upper_cased_account_id_is_written_back_to_its_own_record(client, org):
	account = org.create("Account", {"Name": "Kaveri Textiles"})

	results = client.update_records("Account", [{"Id": id_18(account.upper()), "Phone": "+914422334455"}])

	assert results[0].success, results[0].errors
	assert org.get("Account", account)["Phone"] == "+914422334455"


@pytest.mark.parametrize("bad", ["", "006", "006000000000001AA", "00600000000000!", None, 6])
def test_id_18_refuses_what_is_not_an_id(bad):
	with pytest.raises(ValueError):
		id_18(bad)


def test_both_forms_of_an_id_share_one_outbox_key():
	assert outbox_key("Opportunity", "006Ab0000000001") == outbox_key("Opportunity", id_18("006Ab0000000001"))


def test_ids_differing_only_in_case_get_different_keys():
	# MariaDB compares the key without case; the 18-character suffix keeps them apart
	assert (
		outbox_key("Account", "001ab0000000001").lower() != outbox_key("Account", "001AB0000000001").lower()
	)


# values from documents


def test_numeric_fields_are_summed_and_the_others_come_from_the_newest_document():
	numeric, latest = split_fields(
		["grand_total", "name", "grand_total", "outstanding_amount"], INVOICE_TYPES
	)

	assert numeric == ["grand_total", "outstanding_amount"]
	assert latest == ["name"]


def test_record_values_take_sums_and_the_newest_documents_fields():
	mappings = [
		mapping(
			"Sales Order", rule("Fulfillment_Status__c", "status"), rule("Delivered__c", "per_delivered")
		),
		mapping("Sales Invoice", rule("Invoiced__c", "grand_total"), rule("Last_Invoice__c", "name")),
	]
	facts = {
		"Sales Order": SourceFacts(sums={"per_delivered": Decimal("33.333")}, latest={"status": "To Bill"}),
		"Sales Invoice": SourceFacts(sums={"grand_total": Decimal("1000.00")}, latest={"name": "SINV-2"}),
	}

	result = record_values(mappings, facts, FIELDTYPES, time_zone="Asia/Kolkata")

	assert result.values == {
		"Fulfillment_Status__c": "To Bill",
		"Delivered__c": 33.333,
		"Invoiced__c": 1000.0,
		"Last_Invoice__c": "SINV-2",
	}
	assert result.warnings == []


def test_no_related_document_writes_zero_for_numbers_and_null_for_the_rest():
	mappings = [mapping("Sales Invoice", rule("Invoiced__c", "grand_total"), rule("Last_Invoice__c", "name"))]

	result = record_values(mappings, {"Sales Invoice": SourceFacts()}, FIELDTYPES, time_zone="UTC")

	assert result.values == {"Invoiced__c": 0, "Last_Invoice__c": None}


def test_a_doctype_the_connector_cannot_relate_is_left_out_with_a_warning():
	mappings = [mapping("Item", rule("Product__c", "item_code"))]

	result = record_values(mappings, {}, FIELDTYPES, time_zone="UTC")

	assert result.values == {}
	assert "does not know how a Item relates to an Opportunity" in result.warnings[0]


def test_a_row_transform_applies_to_the_erpnext_value():
	mappings = [
		mapping(
			"Sales Order",
			rule("Fulfillment_Status__c", "status", "picklist", {"map": {"To Bill": "Shipped"}}),
		)
	]
	facts = {"Sales Order": SourceFacts(latest={"status": "To Bill"})}

	result = record_values(mappings, facts, FIELDTYPES, time_zone="UTC")

	assert result.values == {"Fulfillment_Status__c": "Shipped"}


def test_every_refused_value_is_named_in_one_error():
	mappings = [
		mapping(
			"Sales Order",
			rule("A__c", "status", "picklist", {"map": {"Closed": "Done"}}),
			rule("B__c", "status", "truncate"),
		)
	]
	facts = {"Sales Order": SourceFacts(latest={"status": "To Bill"})}

	with pytest.raises(MappingError) as raised:
		record_values(mappings, facts, FIELDTYPES, time_zone="UTC")

	assert "status → A__c" in raised.value.message
	assert "status → B__c" in raised.value.message


def test_two_rows_writing_one_field_warn_and_the_later_wins():
	mappings = [
		mapping("Sales Order", rule("Status__c", "status")),
		mapping("Sales Invoice", rule("Status__c", "name")),
	]
	facts = {
		"Sales Order": SourceFacts(latest={"status": "To Bill"}),
		"Sales Invoice": SourceFacts(latest={"name": "SINV-1"}),
	}

	result = record_values(mappings, facts, FIELDTYPES, time_zone="UTC")

	assert result.values == {"Status__c": "SINV-1"}
	assert "more than one row" in result.warnings[0]


def test_json_values_are_what_the_rest_api_takes():
	assert json_value(date(2027, 1, 5), "UTC") == "2027-01-05"
	assert json_value(Decimal("12.50"), "UTC") == 12.5
	assert json_value(float("nan"), "UTC") is None
	assert json_value(True, "UTC") is True
	# a naive ERPNext datetime is the site's wall clock; Salesforce wants UTC
	assert json_value(datetime(2027, 1, 5, 10, 0), "Asia/Kolkata") == "2027-01-05T04:30:00.000Z"


# what is sent


def test_unchanged_values_are_not_sent_again():
	changes = changes_to_send(
		{"Fulfillment_Status__c": "To Bill", "Delivered__c": 100.0, "Delivery_Note_ID__c": None},
		{"Fulfillment_Status__c": "To Bill", "Delivered__c": 100, "Delivery_Note_ID__c": ""},
		(),
	)

	assert changes.values == {}
	assert sorted(changes.unchanged) == ["Delivered__c", "Delivery_Note_ID__c", "Fulfillment_Status__c"]


def test_a_value_going_back_to_empty_is_sent():
	changes = changes_to_send({"Delivery_Note_ID__c": None}, {"Delivery_Note_ID__c": "DN-1"}, ())

	assert changes.values == {"Delivery_Note_ID__c": None}


def test_fields_salesforce_owns_and_the_id_are_never_sent():
	changes = changes_to_send(
		{"Name": "Renamed", "id": "x", "Fulfillment_Status__c": "Closed"}, None, ["name"]
	)

	assert changes.values == {"Fulfillment_Status__c": "Closed"}
	assert sorted(changes.salesforce_owned) == ["Name", "id"]


def test_same_value_compares_numbers_by_value_and_blanks_alike():
	assert same_value(1, 1.0)
	assert same_value(None, "")
	assert not same_value(0, None)
	assert not same_value("1", 1)


# what Salesforce's answer means


def test_a_written_record_is_written():
	assert outcome_of(RecordResult("006", True)).kind == WRITTEN


def test_a_locked_record_is_retried():
	result = RecordResult(
		"006", False, [RecordError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")]
	)

	outcome = outcome_of(result)

	assert outcome.kind == RETRY
	assert "will retry" in outcome.message


def test_a_validation_rule_is_final_and_keeps_salesforces_message_and_fields():
	result = RecordResult(
		"006",
		False,
		[
			RecordError(
				"FIELD_CUSTOM_VALIDATION_EXCEPTION", "Orders on hold need a reason", ["Hold_Reason__c"]
			)
		],
	)

	outcome = outcome_of(result)

	assert outcome.kind == REFUSED
	assert outcome.message == (
		"Salesforce refused the update: FIELD_CUSTOM_VALIDATION_EXCEPTION: Orders on hold need a reason "
		"(fields: Hold_Reason__c)"
	)


def test_a_lock_together_with_a_final_error_is_final():
	result = RecordResult(
		"006",
		False,
		[RecordError("UNABLE_TO_LOCK_ROW", "locked"), RecordError("ENTITY_IS_DELETED", "entity is deleted")],
	)

	assert outcome_of(result).kind == REFUSED


def test_retry_delays_grow_and_then_stay_at_the_longest():
	delays = [retry_delay(attempt) for attempt in range(1, 12)]

	assert delays == sorted(delays)
	assert delays[0] == RETRY_DELAYS[0]
	assert delays[-1] == RETRY_DELAYS[-1]
	assert retry_delay(0) == RETRY_DELAYS[0]


# when a flush takes the outbox


def group(count, changed_seconds_ago, pending_seconds_ago):
	return PendingGroup(
		count, NOW - timedelta(seconds=changed_seconds_ago), NOW - timedelta(seconds=pending_seconds_ago)
	)


def test_full_batches_go_at_once_and_the_rest_waits():
	assert rows_ready(group(450, 0, 0), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 400


def test_a_partial_batch_waits_while_records_still_change():
	assert rows_ready(group(12, 1, 2), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 0


def test_a_partial_batch_goes_once_changes_settle():
	assert rows_ready(group(12, 3, 10), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 12


def test_a_steady_trickle_still_goes_after_the_longest_wait():
	assert rows_ready(group(12, 0, 45), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 12


def test_nothing_due_is_nothing_ready():
	assert rows_ready(group(0, 60, 60), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 0


def test_the_wait_is_until_the_changes_settle_or_the_longest_wait_ends():
	assert seconds_until_ready(group(5, 1, 2), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 2.0
	assert seconds_until_ready(group(5, 0, 44), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 1.0
	assert seconds_until_ready(group(5, 10, 10), NOW, settle=SETTLE, max_wait=MAX_WAIT) == 0.0
