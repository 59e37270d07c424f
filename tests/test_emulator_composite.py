"""Composite requests, sObject Collections and Bulk API 2.0 jobs of the emulator."""

import csv
import io

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_connector.emulator import faults


def composite(sf, subrequests: list[dict], all_or_none: bool = False) -> list[dict]:
	body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
	return sf.restful("composite", method="POST", json=body)["compositeResponse"]


def account_request(reference: str, name: str | None = "Kaveri Textiles") -> dict:
	body = {"Name": name} if name else {}
	return {
		"method": "POST",
		"url": "/services/data/v59.0/sobjects/Account",
		"referenceId": reference,
		"body": body,
	}


# composite


def test_composite_passes_an_id_to_a_later_subrequest(sf, org):
	contact = {
		"method": "POST",
		"url": "/services/data/v59.0/sobjects/Contact",
		"referenceId": "newContact",
		"body": {"LastName": "Iyer", "AccountId": "@{newAccount.id}"},
	}

	answers = composite(sf, [account_request("newAccount"), contact])

	assert [answer["httpStatusCode"] for answer in answers] == [201, 201]
	assert org.get("Contact", answers[1]["body"]["id"])["AccountId"] == answers[0]["body"]["id"]


def test_composite_reference_into_a_query_result(sf, org):
	org.create("Account", {"Name": "Godavari Agro"})
	query = {
		"method": "GET",
		"url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account",
		"referenceId": "found",
	}
	update = {
		"method": "PATCH",
		"url": "/services/data/v59.0/sobjects/Account/@{found.records[0].Id}",
		"referenceId": "changed",
		"body": {"Phone": "0891 22"},
	}

	answers = composite(sf, [query, update])

	assert answers[1]["httpStatusCode"] == 204
	assert org.rows("Account")[0]["Phone"] == "0891 22"


def test_composite_all_or_none_rolls_back_every_subrequest(sf, org):
	answers = composite(sf, [account_request("good"), account_request("bad", name=None)], all_or_none=True)

	assert [answer["httpStatusCode"] for answer in answers] == [400, 400]
	assert answers[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
	assert answers[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
	assert org.rows("Account") == []


def test_composite_without_all_or_none_keeps_the_successes(sf, org):
	answers = composite(sf, [account_request("good"), account_request("bad", name=None)])

	assert [answer["httpStatusCode"] for answer in answers] == [201, 400]
	assert len(org.rows("Account")) == 1


def test_composite_reference_to_a_failed_subrequest_is_halted(sf):
	contact = {
		"method": "POST",
		"url": "/services/data/v59.0/sobjects/Contact",
		"referenceId": "contact",
		"body": {"LastName": "Iyer", "AccountId": "@{bad.id}"},
	}

	answers = composite(sf, [account_request("bad", name=None), contact])

	assert answers[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_composite_counts_as_one_api_call(sf, org):
	before = org.usage.used

	composite(sf, [account_request(f"a{index}", f"Account {index}") for index in range(5)])

	assert org.usage.used - before == 1


def test_composite_with_more_than_25_subrequests_is_refused(sf, org):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		composite(sf, [account_request(f"a{index}", f"Account {index}") for index in range(26)])

	assert raised.value.content[0]["errorCode"] == "LIMIT_EXCEEDED"
	assert org.rows("Account") == []


@pytest.mark.parametrize(
	"bad",
	[
		7,
		{"method": "POST", "url": 7, "referenceId": "b"},
		{"method": ["GET"], "url": "/services/data/v59.0/limits", "referenceId": "b"},
		{"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": ["b"]},
	],
	ids=["number", "url", "method", "reference"],
)
def test_composite_subrequest_that_cannot_be_routed_is_refused_and_nothing_runs(sf, org, bad):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		composite(sf, [account_request("a"), bad])

	assert raised.value.status == 400
	assert raised.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
	assert org.rows("Account") == []


# sObject Collections


def collection(sf, method: str, records: list[dict], all_or_none: bool) -> list[dict]:
	return sf.restful(
		"composite/sobjects", method=method, json={"allOrNone": all_or_none, "records": records}
	)


def test_collection_create_answers_per_record(sf, org):
	records = [{"attributes": {"type": "Account"}, "Name": name} for name in ("A", "B")]

	answers = collection(sf, "POST", records, all_or_none=False)

	assert [answer["success"] for answer in answers] == [True, True]
	assert {row["Name"] for row in org.rows("Account")} == {"A", "B"}


def test_collection_without_all_or_none_keeps_good_records_and_reports_bad_ones(sf, org):
	records = [{"attributes": {"type": "Account"}, "Name": "Good"}, {"attributes": {"type": "Account"}}]

	answers = collection(sf, "POST", records, all_or_none=False)

	assert answers[0]["success"] is True
	assert answers[1] == {
		"id": None,
		"success": False,
		"errors": [
			{
				"statusCode": "REQUIRED_FIELD_MISSING",
				"message": "Required fields are missing: [Name]",
				"fields": ["Name"],
			}
		],
	}
	assert [row["Name"] for row in org.rows("Account")] == ["Good"]


def test_collection_all_or_none_rolls_back_and_marks_the_others(sf, org):
	records = [{"attributes": {"type": "Account"}, "Name": "Good"}, {"attributes": {"type": "Account"}}]

	answers = collection(sf, "POST", records, all_or_none=True)

	assert answers[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	assert answers[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
	assert org.rows("Account") == []


def test_collection_update_without_id_is_a_record_error(sf, org):
	answers = collection(sf, "PATCH", [{"attributes": {"type": "Account"}, "Name": "X"}], all_or_none=False)

	assert answers[0]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"


def test_collection_record_without_a_type_is_a_record_error(sf):
	answers = collection(sf, "POST", [{"Name": "X"}], all_or_none=False)

	assert answers[0]["errors"][0]["statusCode"] == "INVALID_TYPE"


def test_collection_of_more_than_200_records_is_refused(sf):
	records = [{"attributes": {"type": "Account"}, "Name": f"A{index}"} for index in range(201)]

	with pytest.raises(SalesforceMalformedRequest) as raised:
		collection(sf, "POST", records, all_or_none=False)

	assert raised.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


@pytest.mark.parametrize(
	"record",
	[
		7,
		"Account",
		None,
		["Account"],
		{"attributes": "Account", "Name": "X"},
		{"attributes": [], "Name": "X"},
	],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_collection_record_that_is_not_an_object_is_refused_and_nothing_written(sf, org, method, record):
	good = {"attributes": {"type": "Account"}, "Name": "Good"}

	with pytest.raises(SalesforceMalformedRequest) as raised:
		collection(sf, method, [good, record], all_or_none=False)

	assert raised.value.status == 400
	assert raised.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
	assert org.rows("Account") == []


def test_collection_delete_by_ids(sf, org):
	keep, remove = org.create("Account", {"Name": "Keep"}), org.create("Account", {"Name": "Remove"})

	answers = sf.restful("composite/sobjects", method="DELETE", params={"ids": remove, "allOrNone": "false"})

	assert answers == [{"id": remove, "success": True, "errors": []}]
	assert [row["Id"] for row in org.rows("Account")] == [keep]


def test_collection_retrieve_by_ids(sf, org):
	record_id = org.create("Account", {"Name": "Kaveri Textiles", "Phone": "0422"})

	answers = sf.restful("composite/sobjects/Account", params={"ids": record_id, "fields": "Name,Phone"})

	assert (answers[0]["Name"], answers[0]["Phone"]) == ("Kaveri Textiles", "0422")


def test_injected_fault_for_one_record_fails_only_that_record(sf, org):
	first, second = org.create("Account", {"Name": "A"}), org.create("Account", {"Name": "B"})
	org.faults.add("PATCH composite/sobjects", faults.unable_to_lock_row(second))
	records = [{"attributes": {"type": "Account"}, "Id": each, "Phone": "1"} for each in (first, second)]

	answers = collection(sf, "PATCH", records, all_or_none=False)

	assert answers[0]["success"] is True
	assert answers[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"


# Bulk API 2.0


def test_bulk_query_returns_csv_of_the_selected_fields(sf, org):
	org.create("Account", {"Name": "Kaveri Textiles", "BillingCity": "Chennai"})
	org.create("Account", {"Name": "Shakti, Fabricators", "BillingCity": None})

	pages = list(sf.bulk2.Account.query("SELECT Name, BillingCity FROM Account ORDER BY Name", wait=0))

	rows = list(csv.DictReader(io.StringIO("".join(pages))))
	assert rows == [
		{"Name": "Kaveri Textiles", "BillingCity": "Chennai"},
		{"Name": "Shakti, Fabricators", "BillingCity": ""},
	]


def test_bulk_query_pages_with_a_locator(sf, org):
	for index in range(5):
		org.create("Account", {"Name": f"Dealer {index}"})

	pages = list(sf.bulk2.Account.query("SELECT Name FROM Account", max_records=2, wait=0))

	assert [len(page.strip().splitlines()) - 1 for page in pages] == [2, 2, 1]


def test_bulk_query_with_bad_soql_is_refused(sf):
	with pytest.raises(SalesforceMalformedRequest):
		list(sf.bulk2.Account.query("SELECT Nope FROM Account", wait=0))


def test_bulk_insert_creates_records_and_counts_them(sf, org):
	results = sf.bulk2.Account.insert(records=[{"Name": "A"}, {"Name": "B"}, {"Name": ""}], wait=0)

	assert (results[0]["numberRecordsProcessed"], results[0]["numberRecordsFailed"]) == (3, 1)
	assert {row["Name"] for row in org.rows("Account")} == {"A", "B"}


def test_bulk_failed_results_name_the_error(sf):
	job_id = sf.bulk2.Account.insert(records=[{"Name": "A"}, {"Name": ""}], wait=0)[0]["job_id"]

	failed = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_failed_records(job_id))))

	assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING")


def test_bulk_upsert_by_external_id(sf, org):
	org.create("Account", {"Name": "Old name", "ERP_Id__c": "C-1"})

	sf.bulk2.Account.upsert(
		records=[{"ERP_Id__c": "C-1", "Name": "New name"}, {"ERP_Id__c": "C-2", "Name": "Second"}],
		external_id_field="ERP_Id__c",
		wait=0,
	)

	assert {row["ERP_Id__c"]: row["Name"] for row in org.rows("Account")} == {
		"C-1": "New name",
		"C-2": "Second",
	}


def test_bulk_update_by_id(sf, org):
	record_id = org.create("Account", {"Name": "Kaveri"})

	sf.bulk2.Account.update(records=[{"Id": record_id, "Phone": "0422"}], wait=0)

	assert org.get("Account", record_id)["Phone"] == "0422"


def test_composite_create_answer_names_the_record_in_location(sf):
	answer = composite(sf, [account_request("created")])[0]

	assert (
		answer["httpHeaders"]["Location"] == f"/services/data/v59.0/sobjects/Account/{answer['body']['id']}"
	)
