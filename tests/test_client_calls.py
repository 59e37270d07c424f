"""The client's calls against the emulator, and how it reacts to each injected fault."""

import tracemalloc

import pytest

from salesforce_connector.core.errors import (
	MalformedQueryError,
	NotFoundError,
	RequestLimitError,
	RetryableSalesforceError,
	ValidationRuleError,
)
from salesforce_connector.emulator import faults


@pytest.fixture
def deal(org) -> dict:
	"""An Account with a GSTIN, two products in the standard price book, an Opportunity with two lines."""
	account = org.create(
		"Account",
		{
			"Name": "Shakti Fabricators",
			"BillingCity": "Pune",
			"BillingState": "Maharashtra",
			"GSTIN__c": "27AAPFU0939F1ZV",
		},
	)
	lines = []
	opportunity = org.create(
		"Opportunity",
		{"Name": "Boilers", "AccountId": account, "StageName": "Prospecting", "CloseDate": "2024-06-30"},
	)
	for code, price, quantity in (("BLR-10", 1500.0, 2), ("VLV-02", 250.5, 4)):
		product = org.create("Product2", {"Name": f"Item {code}", "ProductCode": code, "IsActive": True})
		entry = org.create(
			"PricebookEntry",
			{
				"Pricebook2Id": org.standard_pricebook_id,
				"Product2Id": product,
				"UnitPrice": price,
				"IsActive": True,
			},
		)
		lines.append(
			org.create(
				"OpportunityLineItem",
				{"OpportunityId": opportunity, "PricebookEntryId": entry, "Quantity": quantity},
			)
		)
	return {"account": account, "opportunity": opportunity, "lines": lines}


def make_accounts(org, count: int) -> list[str]:
	return [org.create("Account", {"Name": f"Account {index:05d}"}) for index in range(count)]


# reading


def test_get_record_returns_the_requested_fields(client, deal):
	record = client.get_record("Account", deal["account"], fields=["Name", "GSTIN__c"])

	assert record["Name"] == "Shakti Fabricators"
	assert record["GSTIN__c"] == "27AAPFU0939F1ZV"
	assert "BillingCity" not in record


def test_get_record_accepts_a_15_character_id(client, deal):
	record = client.get_record("Account", deal["account"][:15])

	assert record["Id"] == deal["account"]


def test_get_record_of_a_missing_record_is_not_found(client, org):
	with pytest.raises(NotFoundError) as raised:
		client.get_record("Account", "001000000000000AAA")

	assert raised.value.code == "NOT_FOUND"


def test_get_record_of_a_deleted_record_says_entity_is_deleted(client, org, deal):
	org.delete("Account", deal["account"])

	with pytest.raises(NotFoundError) as raised:
		client.get_record("Account", deal["account"])

	assert raised.value.code == "ENTITY_IS_DELETED"


def test_get_record_refuses_a_field_name_that_is_not_an_api_name(client, deal):
	with pytest.raises(ValueError, match="API name"):
		client.get_record("Account", deal["account"], fields=["Name, (SELECT Id FROM Contacts)"])


def test_query_quotes_parameters_with_format_soql(client, org):
	org.create("Account", {"Name": "O'Brien & Sons"})

	records = client.query("SELECT Name FROM Account WHERE Name = {name}", name="O'Brien & Sons")

	assert [record["Name"] for record in records] == ["O'Brien & Sons"]


def test_query_reads_every_page(client, org):
	org.query_page_size = 200
	make_accounts(org, 450)

	assert len(client.query("SELECT Id FROM Account")) == 450


def test_count_reads_total_size(client, org):
	make_accounts(org, 7)

	assert client.count("SELECT COUNT() FROM Account") == 7


def test_malformed_query_is_a_permanent_malformed_query_error(client):
	with pytest.raises(MalformedQueryError) as raised:
		client.query("SELECT Id FORM Account")

	assert raised.value.code == "MALFORMED_QUERY"
	assert not raised.value.retryable


def test_unknown_field_in_query_is_invalid_field(client):
	with pytest.raises(MalformedQueryError) as raised:
		client.query("SELECT Nonsense FROM Account")

	assert raised.value.code == "INVALID_FIELD"
	assert "Nonsense" in raised.value.message


def test_iter_query_fetches_the_next_page_only_when_needed(client, org):
	org.query_page_size = 200
	make_accounts(org, 450)
	client.login()
	before = org.usage.used

	records = client.iter_query("SELECT Id FROM Account")
	for _ in range(200):
		next(records)
	calls_for_first_page = org.usage.used - before
	next(records)

	assert calls_for_first_page == 1
	assert org.usage.used - before == 2


def _peak_after_first_record(consume) -> int:
	"""Peak memory while `consume` reads the rest of a query whose first page has already arrived."""
	tracemalloc.start()
	try:
		consume()
		return tracemalloc.get_traced_memory()[1]
	finally:
		tracemalloc.stop()


# the emulator shares this process: compare streaming with holding everything, both measured after the
# first page (when the emulator has built its cursor), instead of guessing a fixed size
@pytest.mark.parametrize("transport", ["http"])
def test_iter_query_streams_5000_records_in_constant_memory(client, org):
	org.query_page_size = 250
	make_accounts(org, 5000)
	soql = "SELECT Id, Name, CreatedDate, SystemModstamp FROM Account"
	streamed, held = client.iter_query(soql), client.iter_query(soql)
	next(streamed)
	first = next(held)
	kept = []

	streaming_peak = _peak_after_first_record(lambda: sum(1 for _ in streamed))
	holding_peak = _peak_after_first_record(lambda: kept.extend([first, *held]))

	assert len(kept) == 5000
	assert streaming_peak < holding_peak / 4


# the Opportunity fetch


def test_fetch_opportunity_brings_account_and_line_items(client, deal):
	opportunity = client.fetch_opportunity(deal["opportunity"])

	lines = opportunity["OpportunityLineItems"]["records"]
	assert opportunity["Account"]["Name"] == "Shakti Fabricators"
	assert opportunity["Account"]["BillingCity"] == "Pune"
	assert sorted(line["Product2"]["ProductCode"] for line in lines) == ["BLR-10", "VLV-02"]
	assert opportunity["Amount"] == 2 * 1500.0 + 4 * 250.5


def test_fetch_opportunity_line_total_is_quantity_times_unit_price(client, deal):
	lines = client.fetch_opportunity(deal["opportunity"])["OpportunityLineItems"]["records"]

	assert all(line["TotalPrice"] == line["Quantity"] * line["UnitPrice"] for line in lines)


def test_fetch_opportunity_includes_requested_custom_account_fields(client, deal):
	opportunity = client.fetch_opportunity(deal["opportunity"], account_fields=["GSTIN__c"])

	assert opportunity["Account"]["GSTIN__c"] == "27AAPFU0939F1ZV"


def test_fetch_opportunity_reports_won_and_closed_from_the_stage(client, org, deal):
	org.update("Opportunity", deal["opportunity"], {"StageName": "Closed Won"})

	opportunity = client.fetch_opportunity(deal["opportunity"])

	assert (opportunity["IsWon"], opportunity["IsClosed"], opportunity["StageName"]) == (
		True,
		True,
		"Closed Won",
	)


def test_fetch_opportunity_without_products_has_an_empty_line_list(client, org, deal):
	bare = org.create(
		"Opportunity",
		{
			"Name": "Enquiry",
			"AccountId": deal["account"],
			"StageName": "Qualification",
			"CloseDate": "2024-07-01",
		},
	)

	opportunity = client.fetch_opportunity(bare)

	assert opportunity["OpportunityLineItems"]["records"] == []


def test_fetch_opportunity_has_no_currency_in_a_single_currency_org(client, deal):
	assert "CurrencyIsoCode" not in client.fetch_opportunity(deal["opportunity"])


def test_fetch_opportunity_of_a_missing_id_is_not_found(client):
	with pytest.raises(NotFoundError):
		client.fetch_opportunity("006000000000000AAA")


def test_fetch_opportunity_refuses_an_injected_field_name(client, deal):
	with pytest.raises(ValueError):
		client.fetch_opportunity(deal["opportunity"], account_fields=["Name FROM Account --"])


# writing through sObject Collections


def test_update_records_of_450_takes_exactly_3_calls(client, org):
	account_ids = make_accounts(org, 450)
	client.login()
	before = org.usage.used

	results = client.update_records(
		"Account", [{"Id": each, "Phone": "+91 20 1234 5678"} for each in account_ids]
	)

	assert org.usage.used - before == 3
	assert all(result.success for result in results)
	assert org.get("Account", account_ids[-1])["Phone"] == "+91 20 1234 5678"


def test_update_records_keeps_each_failure_with_its_id(client, org):
	first, second = make_accounts(org, 2)
	org.add_validation_rule(
		"Account", "PhoneRequired", lambda record: not record["Phone"], "Phone is required", "Phone"
	)

	results = client.update_records(
		"Account", [{"Id": first, "Phone": "020 5555"}, {"Id": second, "Phone": None}]
	)

	assert results[0].success
	assert (results[1].id, results[1].success) == (second, False)
	assert results[1].errors[0].code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
	assert results[1].errors[0].fields == ["Phone"]


def test_update_records_reports_injected_validation_error_for_one_record_only(client, org):
	first, second, third = make_accounts(org, 3)
	org.faults.add(
		"PATCH composite/sobjects",
		faults.validation_error("GSTIN does not match state", ["GSTIN__c"], second),
	)

	results = client.update_records(
		"Account", [{"Id": each, "Phone": "1"} for each in (first, second, third)]
	)

	assert [result.success for result in results] == [True, False, True]
	assert results[1].errors[0].message == "GSTIN does not match state"
	assert org.get("Account", second)["Phone"] is None


def test_update_records_marks_a_locked_row_as_retryable(client, org):
	first, second = make_accounts(org, 2)
	org.faults.add("PATCH composite/sobjects", faults.unable_to_lock_row(first))

	results = client.update_records("Account", [{"Id": first, "Phone": "1"}, {"Id": second, "Phone": "2"}])

	assert results[0].retryable
	assert not results[1].retryable


def test_update_records_requires_ids(client):
	with pytest.raises(ValueError, match="no Id"):
		client.update_records("Account", [{"Name": "No Id"}])


# reacting to faults


def test_session_expired_once_is_renewed_and_succeeds(client, org, deal):
	rule = org.faults.add("GET query", faults.session_expired())

	assert client.count("SELECT COUNT() FROM Opportunity") == 1
	assert rule.fired == 1


def test_request_limit_fault_raises_request_limit_error_without_retrying(client, org):
	rule = org.faults.add("GET query", faults.request_limit_exceeded(), times=5)

	with pytest.raises(RequestLimitError):
		client.query("SELECT Id FROM Account")

	assert rule.fired == 1


def test_spent_daily_limit_raises_request_limit_error(client, org):
	client.login()
	org.usage.daily_limit = org.usage.used

	with pytest.raises(RequestLimitError) as raised:
		client.query("SELECT Id FROM Account")

	assert raised.value.code == "REQUEST_LIMIT_EXCEEDED"


def test_locked_row_once_is_retried_and_succeeds(client, org, deal):
	rule = org.faults.add("GET sobjects/Account/*", faults.unable_to_lock_row())

	assert client.get_record("Account", deal["account"])["Id"] == deal["account"]
	assert rule.fired == 1


def test_locked_row_that_persists_gives_up_after_the_configured_attempts(client, org, deal):
	rule = org.faults.add("GET sobjects/Account/*", faults.unable_to_lock_row(), times=10)

	with pytest.raises(RetryableSalesforceError) as raised:
		client.get_record("Account", deal["account"])

	assert raised.value.code == "UNABLE_TO_LOCK_ROW"
	assert rule.fired == client.settings.retry_attempts


def test_validation_fault_is_permanent_with_message_and_fields(client, org, deal):
	rule = org.faults.add(
		"PATCH composite/sobjects", faults.validation_error("Stage locked", ["StageName"]), times=5
	)

	with pytest.raises(ValidationRuleError) as raised:
		client.update_records("Opportunity", [{"Id": deal["opportunity"], "NextStep": "Ship"}])

	assert (raised.value.code, raised.value.message, raised.value.fields) == (
		"FIELD_CUSTOM_VALIDATION_EXCEPTION",
		"Stage locked",
		["StageName"],
	)
	assert rule.fired == 1


def test_entity_is_deleted_fault_is_not_found(client, org, deal):
	org.faults.add("GET sobjects/Account/*", faults.entity_is_deleted())

	with pytest.raises(NotFoundError) as raised:
		client.get_record("Account", deal["account"])

	assert raised.value.code == "ENTITY_IS_DELETED"


def test_server_error_once_is_retried_and_succeeds(client, org):
	rule = org.faults.add("GET query", faults.server_error())

	assert client.query("SELECT Id FROM Account") == []
	assert rule.fired == 1


def test_service_unavailable_that_persists_is_retryable(client, org):
	org.faults.add("GET query", faults.service_unavailable(), times=10)

	with pytest.raises(RetryableSalesforceError) as raised:
		client.query("SELECT Id FROM Account")

	assert raised.value.status == 503


def test_slow_answer_times_out_and_is_retried(make_client, org):
	client = make_client(timeout=0.2)
	client.login()
	rule = org.faults.add("GET query", faults.slow(1.0))

	assert client.query("SELECT Id FROM Account") == []
	assert rule.fired == 1


def test_slow_answer_every_time_ends_in_a_retryable_timeout(make_client, org):
	client = make_client(timeout=0.1, retry_attempts=2)
	client.login()
	org.faults.add("GET query", faults.slow(0.5), times=2)

	with pytest.raises(RetryableSalesforceError) as raised:
		client.query("SELECT Id FROM Account")

	assert raised.value.code == "TIMEOUT"


def test_an_org_that_keeps_hanging_is_tried_twice_however_many_retries_are_allowed(make_client, org):
	client = make_client(timeout=0.1, retry_attempts=4)
	client.login()
	rule = org.faults.add("GET query", faults.slow(0.5), times=10)

	with pytest.raises(RetryableSalesforceError) as raised:
		client.query("SELECT Id FROM Account")

	assert (raised.value.code, rule.fired) == ("TIMEOUT", 2)


def test_a_single_slow_answer_after_a_server_error_is_tried_once_more(make_client, org):
	client = make_client(timeout=0.1, retry_attempts=3)
	client.login()
	org.faults.add("GET query", faults.service_unavailable())
	slow = org.faults.add("GET query", faults.slow(0.5), skip=1)

	assert client.query("SELECT Id FROM Account") == []
	assert slow.fired == 1


def test_a_login_that_keeps_hanging_is_tried_twice(make_client, org):
	client = make_client(timeout=0.1, retry_attempts=4)
	rule = org.faults.add("POST /services/oauth2/token", faults.slow(0.5), times=10)

	with pytest.raises(RetryableSalesforceError) as raised:
		client.query("SELECT Id FROM Account")

	assert (raised.value.code, rule.fired) == ("TIMEOUT", 2)


# the API budget


def test_api_usage_is_read_from_every_answer(client, org):
	client.query("SELECT Id FROM Account")

	assert client.api_usage == (org.usage.used, org.usage.daily_limit)


def test_ensure_budget_refuses_non_urgent_work_above_the_share(make_client, org):
	client = make_client(max_daily_share=0.5)
	org.usage.daily_limit = 10
	org.usage.used = 5
	client.query("SELECT Id FROM Account")

	with pytest.raises(RequestLimitError) as raised:
		client.ensure_budget()

	assert raised.value.code == "BUDGET_RESERVED"


def test_ensure_budget_lets_urgent_work_through(make_client, org):
	client = make_client(max_daily_share=0.5)
	org.usage.daily_limit = 10
	org.usage.used = 5
	client.query("SELECT Id FROM Account")

	assert client.ensure_budget(urgent=True) is None


def test_ensure_budget_lets_work_through_below_the_share(client):
	client.query("SELECT Id FROM Account")

	assert client.ensure_budget() is None
