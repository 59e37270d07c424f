"""sObject REST resources of the emulator, driven by unmodified simple-salesforce and plain HTTP."""

import re
import socket
import ssl
from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import (
	SalesforceMalformedRequest,
	SalesforceRefusedRequest,
	SalesforceResourceNotFound,
)

from salesforce_connector.emulator import ids

SALESFORCE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")


def error_of(raised) -> dict:
	return raised.value.content[0]


def test_create_answers_201_with_a_valid_18_character_id(sf):
	answer = sf.Account.create({"Name": "Kaveri Textiles"})

	assert answer["success"] is True and answer["errors"] == []
	assert answer["id"].startswith("001") and len(answer["id"]) == 18
	assert ids.is_valid_id(answer["id"])


def test_get_returns_attributes_and_every_field(sf):
	record_id = sf.Account.create({"Name": "Kaveri Textiles"})["id"]

	record = sf.Account.get(record_id)

	assert record["attributes"] == {
		"type": "Account",
		"url": f"/services/data/v59.0/sobjects/Account/{record_id}",
	}
	assert record["Name"] == "Kaveri Textiles"
	assert "BillingState" in record and record["BillingState"] is None


def test_timestamps_are_formatted_like_salesforce_json(sf):
	record = sf.Account.get(sf.Account.create({"Name": "Kaveri Textiles"})["id"])

	assert SALESFORCE_DATETIME.match(record["CreatedDate"])
	assert record["CreatedDate"] == record["SystemModstamp"] == record["LastModifiedDate"]


def test_timestamps_come_from_the_virtual_clock(sf, org):
	org.clock.set(datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc))

	record = sf.Account.get(sf.Account.create({"Name": "Kaveri Textiles"})["id"])

	assert record["CreatedDate"] == "2024-05-01T10:20:30.000+0000"


def test_get_accepts_a_15_character_id_in_the_url(sf):
	record_id = sf.Account.create({"Name": "Kaveri Textiles"})["id"]

	assert sf.Account.get(record_id[:15])["Id"] == record_id


def test_get_with_fields_returns_only_those(raw, sf):
	record_id = sf.Account.create({"Name": "Kaveri Textiles", "Phone": "0422 123456"})["id"]

	record = raw.call("GET", f"sobjects/Account/{record_id}", params={"fields": "Phone"}).json()

	assert set(record) == {"attributes", "Id", "Phone"}


def test_update_answers_204_and_moves_last_modified(sf, org):
	record_id = sf.Account.create({"Name": "Kaveri Textiles"})["id"]
	org.clock.advance(minutes=5)

	status = sf.Account.update(record_id, {"Phone": "0422 123456"})

	record = sf.Account.get(record_id)
	assert status == 204
	assert record["LastModifiedDate"] != record["CreatedDate"]


def test_update_with_an_unknown_field_is_invalid_field(sf):
	record_id = sf.Account.create({"Name": "Kaveri Textiles"})["id"]

	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Account.update(record_id, {"Colour": "blue"})

	assert error_of(raised)["errorCode"] == "INVALID_FIELD"


def test_any_custom_field_is_accepted(sf):
	record_id = sf.Account.create({"Name": "Kaveri Textiles", "Credit_Rating__c": "A"})["id"]

	assert sf.Account.get(record_id)["Credit_Rating__c"] == "A"


def test_read_only_field_cannot_be_written(sf):
	account = sf.Account.create({"Name": "Kaveri Textiles"})["id"]
	values = {"Name": "Looms", "AccountId": account, "StageName": "Prospecting", "CloseDate": "2024-06-01"}
	opportunity = sf.Opportunity.create(values)["id"]

	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Opportunity.update(opportunity, {"IsWon": True})

	assert error_of(raised)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
	assert error_of(raised)["fields"] == ["IsWon"]


def test_missing_required_field_names_the_fields(sf):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Opportunity.create({"Name": "No stage"})

	assert error_of(raised)["errorCode"] == "REQUIRED_FIELD_MISSING"
	assert set(error_of(raised)["fields"]) == {"StageName", "CloseDate"}


def test_bad_date_is_a_json_parser_error(sf):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Opportunity.create({"Name": "X", "StageName": "Prospecting", "CloseDate": "31/12/2024"})

	assert error_of(raised)["errorCode"] == "JSON_PARSER_ERROR"


def test_reference_to_the_wrong_object_is_refused(sf):
	contact = sf.Contact.create({"LastName": "Iyer"})["id"]

	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Opportunity.create(
			{"Name": "X", "StageName": "Prospecting", "CloseDate": "2024-06-01", "AccountId": contact}
		)

	assert error_of(raised)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_malformed_id_in_a_reference_is_malformed_id(sf):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Contact.create({"LastName": "Iyer", "AccountId": "001-not-an-id"})

	assert error_of(raised)["errorCode"] == "MALFORMED_ID"


def test_text_longer_than_the_field_is_string_too_long(sf):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Account.create({"Name": "x" * 256})

	assert error_of(raised)["errorCode"] == "STRING_TOO_LONG"


def test_delete_answers_204_and_the_record_is_then_deleted(sf):
	record_id = sf.Account.create({"Name": "Kaveri Textiles"})["id"]

	status = sf.Account.delete(record_id)

	with pytest.raises(SalesforceResourceNotFound) as raised:
		sf.Account.get(record_id)
	assert status == 204
	assert error_of(raised)["errorCode"] == "ENTITY_IS_DELETED"


def test_unknown_record_is_not_found(sf):
	with pytest.raises(SalesforceResourceNotFound) as raised:
		sf.Account.get("001000000000000AAA")

	assert error_of(raised) == {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}


def test_unknown_object_is_not_found(sf):
	with pytest.raises(SalesforceResourceNotFound) as raised:
		sf.Widget.describe()

	assert error_of(raised)["errorCode"] == "NOT_FOUND"


def test_upsert_creates_with_201_then_updates_with_200(sf):
	first = sf.Account.upsert("ERP_Id__c/CUST-0001", {"Name": "Kaveri Textiles"}, raw_response=True)
	second = sf.Account.upsert("ERP_Id__c/CUST-0001", {"Name": "Kaveri Textiles Pvt Ltd"}, raw_response=True)

	assert (first.status_code, first.json()["created"]) == (201, True)
	assert (second.status_code, second.json()["created"]) == (200, False)
	assert second.json()["id"] == first.json()["id"]


def test_get_by_external_id(sf):
	sf.Account.upsert("ERP_Id__c/CUST-0002", {"Name": "Godavari Agro"})

	assert sf.Account.get_by_custom_id("ERP_Id__c", "CUST-0002")["Name"] == "Godavari Agro"


def test_upsert_on_a_field_that_is_not_an_external_id_is_refused(sf):
	with pytest.raises(SalesforceResourceNotFound) as raised:
		sf.Account.upsert("Phone/123", {"Name": "X"})

	assert "external ID field" in error_of(raised)["message"]


def test_describe_lists_field_properties(sf):
	fields = {field["name"]: field for field in sf.Opportunity.describe()["fields"]}

	assert fields["ERP_Id__c"]["externalId"] is True
	assert fields["IsWon"]["updateable"] is False
	assert fields["Name"]["length"] == 120
	assert fields["AccountId"]["referenceTo"] == ["Account"]
	assert fields["CloseDate"]["type"] == "date"


def test_describe_names_child_relationships(sf):
	relationships = {each["relationshipName"] for each in sf.Opportunity.describe()["childRelationships"]}

	assert "OpportunityLineItems" in relationships


def test_describe_global_lists_the_objects_with_key_prefixes(sf):
	prefixes = {each["name"]: each["keyPrefix"] for each in sf.describe()["sobjects"]}

	assert (
		prefixes["Opportunity"] == "006"
		and prefixes["OpportunityLineItem"] == "00k"
		and prefixes["Lead"] == "00Q"
	)


def test_limits_report_daily_api_requests(sf, org):
	limits = sf.limits()

	assert limits["DailyApiRequests"]["Max"] == org.usage.daily_limit


def test_every_answer_carries_the_limit_header(raw, org):
	answer = raw.call("GET", "limits")

	assert answer.headers["Sforce-Limit-Info"] == f"api-usage={org.usage.used}/{org.usage.daily_limit}"


def test_error_answers_carry_the_limit_header_too(raw):
	answer = raw.call("GET", "sobjects/Account/001000000000000AAA")

	assert answer.status_code == 404
	assert answer.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_past_the_daily_limit_answers_403_request_limit_exceeded(sf, org):
	org.usage.daily_limit = org.usage.used

	with pytest.raises(SalesforceRefusedRequest) as raised:
		sf.limits()

	assert error_of(raised) == {
		"message": "TotalRequests Limit exceeded.",
		"errorCode": "REQUEST_LIMIT_EXCEEDED",
	}


def test_api_usage_resets_after_a_day(client, org):
	client.query("SELECT Id FROM Account")
	org.usage.daily_limit = org.usage.used
	org.clock.advance(days=1)

	client.query("SELECT Id FROM Account")

	assert client.api_usage == (1, org.usage.daily_limit)


def test_get_updated_lists_records_changed_in_the_window(sf, org):
	start = org.clock.now()
	changed = sf.Account.create({"Name": "Kaveri Textiles"})["id"]
	org.clock.advance(minutes=10)

	updated = sf.Account.updated(start, start + timedelta(minutes=5))

	assert updated["ids"] == [changed]


def test_get_deleted_lists_deleted_records_with_their_date(sf, org):
	start = org.clock.now()
	removed = sf.Account.create({"Name": "Kaveri Textiles"})["id"]
	sf.Account.delete(removed)
	org.clock.advance(minutes=10)

	deleted = sf.Account.deleted(start, start + timedelta(minutes=5))

	assert [each["id"] for each in deleted["deletedRecords"]] == [removed]


def test_get_updated_needs_a_window_longer_than_a_minute(sf, org):
	start = org.clock.now()

	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Account.updated(start, start + timedelta(seconds=30))

	assert error_of(raised)["errorCode"] == "INVALID_REPLICATION_DATE"


def test_invalid_json_body_is_a_parser_error_not_a_traceback(raw):
	answer = raw.call(
		"POST", "sobjects/Account", data=b"{not json", headers={"Content-Type": "application/json"}
	)

	assert answer.status_code == 400
	assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_a_crash_inside_the_emulator_answers_unknown_exception_without_a_traceback(raw, org):
	org.add_validation_rule("Account", "Broken", lambda record: 1 / 0, "never")

	answer = raw.call("POST", "sobjects/Account", json={"Name": "Kaveri Textiles"})

	assert answer.status_code == 500
	assert answer.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
	assert "Traceback" not in answer.text and "ZeroDivisionError" not in answer.text


def test_validation_rule_rejects_with_its_message_and_field(sf, org):
	org.add_validation_rule(
		"Account",
		"GSTIN length",
		lambda record: record["GSTIN__c"] and len(record["GSTIN__c"]) != 15,
		"GSTIN must have 15 characters",
		"GSTIN__c",
	)

	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.Account.create({"Name": "Kaveri Textiles", "GSTIN__c": "33ABC"})

	assert error_of(raised) == {
		"message": "GSTIN must have 15 characters",
		"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
		"fields": ["GSTIN__c"],
	}


def test_garbage_content_length_is_a_400_not_a_dropped_connection(server, http_session):
	host, port = server.url.split("://")[1].split(":")
	raw_socket = socket.create_connection((host, int(port)), timeout=5)
	if server.url.startswith("https"):
		context = ssl.create_default_context(cafile=http_session.verify)
		raw_socket = context.wrap_socket(raw_socket, server_hostname=host)
	with raw_socket:
		raw_socket.sendall(b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
		answer = raw_socket.recv(4096)

	assert answer.startswith(b"HTTP/1.1 400")
	assert b"Traceback" not in answer


def test_describe_lists_the_stage_table_as_the_stage_picklist(sf, org):
	org.rename_stage("Closed Won", "Order Confirmed")

	fields = {field["name"]: field for field in sf.Opportunity.describe()["fields"]}

	values = [value["value"] for value in fields["StageName"]["picklistValues"]]
	assert "Order Confirmed" in values and "Closed Won" not in values
