"""The emulator's SOQL: the REST query resources, and the parser and evaluator on their own."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from salesforce_connector.emulator import ApiError
from salesforce_connector.emulator.soql import Runner, compile_query


@pytest.fixture
def catalogue(org) -> dict:
	"""Three accounts, one with an Opportunity carrying two products, one with a Contact."""
	made = {}
	made["pune"] = org.create(
		"Account", {"Name": "Shakti Fabricators", "BillingCity": "Pune", "AnnualRevenue": 5000000}
	)
	made["chennai"] = org.create(
		"Account", {"Name": "Kaveri Textiles", "BillingCity": "Chennai", "AnnualRevenue": 1200000}
	)
	made["none"] = org.create("Account", {"Name": "anand & co", "BillingCity": None})
	made["contact"] = org.create(
		"Contact", {"LastName": "Iyer", "FirstName": "Asha", "AccountId": made["chennai"]}
	)
	made["opportunity"] = org.create(
		"Opportunity",
		{"Name": "Boilers", "AccountId": made["pune"], "StageName": "Closed Won", "CloseDate": "2024-06-30"},
	)
	for code, price in (("BLR-10", 1500), ("VLV-02", 250)):
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
		org.create(
			"OpportunityLineItem",
			{"OpportunityId": made["opportunity"], "PricebookEntryId": entry, "Quantity": 2},
		)
	return made


def run(org, soql: str, *, include_deleted: bool = False) -> list[dict]:
	query = compile_query(org.schema, soql)
	runner = Runner(org, "59.0")
	return [runner.shape(query, row) for row in runner.rows(query, include_deleted=include_deleted)]


def names(org, soql: str) -> list[str]:
	return [record["Name"] for record in run(org, soql)]


def error_code(org, soql: str) -> str:
	with pytest.raises(ApiError) as raised:
		run(org, soql)
	return raised.value.error_code


# through REST


def test_query_answers_records_with_attributes(sf, catalogue):
	result = sf.query(format_soql("SELECT Id, Name FROM Account WHERE Id = {id}", id=catalogue["pune"]))

	assert result["totalSize"] == 1 and result["done"] is True
	assert result["records"][0]["attributes"]["type"] == "Account"


def test_parent_path_comes_back_as_a_nested_record(sf, catalogue):
	record = sf.query("SELECT Account.Name, Account.BillingCity FROM Contact")["records"][0]

	assert record["Account"]["Name"] == "Kaveri Textiles"
	assert record["Account"]["attributes"]["type"] == "Account"


def test_child_subquery_lists_line_items_with_product_fields(sf, catalogue):
	soql = (
		"SELECT Id, (SELECT Id, Quantity, UnitPrice, Product2.ProductCode, Product2.Name FROM OpportunityLineItems "
		"ORDER BY UnitPrice DESC) FROM Opportunity"
	)

	lines = sf.query(soql)["records"][0]["OpportunityLineItems"]

	assert lines["totalSize"] == 2
	assert [line["Product2"]["ProductCode"] for line in lines["records"]] == ["BLR-10", "VLV-02"]


def test_child_subquery_lists_only_the_live_lines_of_each_opportunity(org, catalogue):
	second = org.create(
		"Opportunity",
		{
			"Name": "Valves",
			"AccountId": catalogue["chennai"],
			"StageName": "Prospecting",
			"CloseDate": "2024-07-31",
		},
	)
	entry = org.rows("PricebookEntry")[0]["Id"]
	kept = org.create(
		"OpportunityLineItem", {"OpportunityId": second, "PricebookEntryId": entry, "Quantity": 1}
	)
	org.create("OpportunityLineItem", {"OpportunityId": second, "PricebookEntryId": entry, "Quantity": 7})
	dropped = org.create(
		"OpportunityLineItem", {"OpportunityId": second, "PricebookEntryId": entry, "Quantity": 2}
	)
	org.delete("OpportunityLineItem", dropped)

	records = run(
		org,
		"SELECT Name, (SELECT Id, Quantity FROM OpportunityLineItems WHERE Quantity < 5) FROM Opportunity ORDER BY Name",
	)

	boilers, valves = records
	assert boilers["OpportunityLineItems"]["totalSize"] == 2
	assert [line["Id"] for line in valves["OpportunityLineItems"]["records"]] == [kept]


def test_empty_child_relationship_is_null(sf, catalogue):
	record = sf.query(
		format_soql("SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id = {id}", id=catalogue["pune"])
	)

	assert record["records"][0]["Contacts"] is None


def test_results_page_with_next_records_url(sf, org):
	org.query_page_size = 200
	for index in range(450):
		org.create("Account", {"Name": f"Dealer {index}"})

	first = sf.query("SELECT Id FROM Account")
	second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
	third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)

	assert (len(first["records"]), first["done"], first["totalSize"]) == (200, False, 450)
	assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
	assert (len(third["records"]), third["done"]) == (50, True)
	assert "nextRecordsUrl" not in third


def test_page_size_follows_the_query_options_header(raw, org):
	for index in range(300):
		org.create("Account", {"Name": f"Dealer {index}"})

	answer = raw.call(
		"GET",
		"query",
		params={"q": "SELECT Id FROM Account"},
		headers={"Sforce-Query-Options": "batchSize=250"},
	)

	assert len(answer.json()["records"]) == 250


def test_unknown_query_locator_is_refused(raw):
	answer = raw.call("GET", "query/01g000000000000AAA-200")

	assert answer.status_code == 400
	assert answer.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted_records(sf, org, catalogue):
	org.delete("Account", catalogue["none"])

	live = sf.query("SELECT Id FROM Account")["totalSize"]
	everything = sf.query_all(
		"SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true", include_deleted=True
	)

	assert live == 2
	assert [record["Id"] for record in everything["records"]] == [catalogue["none"]]


def test_count_answers_total_size_and_no_records(sf, catalogue):
	result = sf.query("SELECT COUNT() FROM Account WHERE BillingCity != null")

	assert (result["totalSize"], result["records"]) == (2, [])


def test_bad_soql_is_400_malformed_query(sf):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.query("SELECT Id FROM Account WHERE")

	assert raised.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_unknown_object_in_soql_is_400_invalid_type(sf):
	with pytest.raises(SalesforceMalformedRequest) as raised:
		sf.query("SELECT Id FROM Invoice")

	assert raised.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_query_without_q_is_malformed(raw):
	answer = raw.call("GET", "query")

	assert answer.json()[0]["errorCode"] == "MALFORMED_QUERY"


# the parser and evaluator


def test_where_with_and_or_not_and_parentheses(org, catalogue):
	soql = "SELECT Name FROM Account WHERE (BillingCity = 'Pune' OR BillingCity = 'Chennai') AND NOT Name LIKE 'Kav%'"

	assert names(org, soql) == ["Shakti Fabricators"]


def test_string_equality_ignores_case(org, catalogue):
	assert names(org, "SELECT Name FROM Account WHERE BillingCity = 'PUNE'") == ["Shakti Fabricators"]


def test_like_escapes_percent_and_underscore(org):
	org.create("Account", {"Name": "100% Cotton"})
	org.create("Account", {"Name": "1000 Cotton"})

	assert names(org, format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}%'", "100%")) == [
		"100% Cotton"
	]


def test_string_escapes_are_understood(org):
	org.create("Account", {"Name": "O'Brien \\ Sons"})

	assert names(org, format_soql("SELECT Name FROM Account WHERE Name = {}", "O'Brien \\ Sons")) == [
		"O'Brien \\ Sons"
	]


def test_in_and_not_in(org, catalogue):
	inside = names(org, "SELECT Name FROM Account WHERE BillingCity IN ('Pune', 'Delhi')")
	outside = names(org, "SELECT Name FROM Account WHERE BillingCity NOT IN ('Pune') ORDER BY Name")

	assert inside == ["Shakti Fabricators"]
	assert outside == ["Kaveri Textiles"]


def test_null_comparisons(org, catalogue):
	assert names(org, "SELECT Name FROM Account WHERE BillingCity = null") == ["anand & co"]


def test_number_comparisons(org, catalogue):
	assert names(
		org, "SELECT Name FROM Account WHERE AnnualRevenue >= 1200000.0 AND AnnualRevenue < 5000000"
	) == ["Kaveri Textiles"]


def test_boolean_literals(org, catalogue):
	assert [record["Name"] for record in run(org, "SELECT Name FROM Opportunity WHERE IsWon = true")] == [
		"Boilers"
	]


def test_date_literal(org, catalogue):
	assert names(
		org, "SELECT Name FROM Opportunity WHERE CloseDate > 2024-06-01 AND CloseDate <= 2024-06-30"
	) == ["Boilers"]


def test_datetime_literal_as_format_soql_writes_it(org, catalogue):
	since = org.clock.now()
	soql = format_soql("SELECT Name FROM Account WHERE CreatedDate >= {since} ORDER BY Name", since=since)

	assert names(org, soql) == ["anand & co", "Kaveri Textiles", "Shakti Fabricators"]


def test_date_field_compared_with_a_string_is_refused(org, catalogue):
	assert error_code(org, "SELECT Id FROM Opportunity WHERE CloseDate = '2024-06-30'") == "INVALID_FIELD"


def test_id_filter_accepts_15_characters(org, catalogue):
	soql = format_soql("SELECT Name FROM Account WHERE Id = {id}", id=catalogue["pune"][:15])

	assert names(org, soql) == ["Shakti Fabricators"]


@pytest.mark.parametrize(
	"condition, expected",
	[
		("Id = {pune}", ["Shakti Fabricators"]),
		("Id = {pune} AND BillingCity = 'Chennai'", []),
		("BillingCity = 'Pune' AND (Id = {pune} AND Name LIKE 'Shakti%')", ["Shakti Fabricators"]),
		("Id = {pune} OR Id = {chennai}", ["Shakti Fabricators", "Kaveri Textiles"]),
		("NOT Id = {pune}", ["Kaveri Textiles", "anand & co"]),
		("Id = {deleted_contact}", []),
	],
)
def test_a_record_sought_by_id_is_found_as_by_any_other_condition(org, catalogue, condition, expected):
	ids = {
		"pune": catalogue["pune"],
		"chennai": catalogue["chennai"],
		"deleted_contact": catalogue["contact"],
	}
	soql = format_soql(f"SELECT Name FROM Account WHERE {condition} ORDER BY Id", **ids)

	assert sorted(names(org, soql)) == sorted(expected)


def test_a_deleted_record_sought_by_id_is_in_query_all_only(org, catalogue):
	org.delete("Account", catalogue["none"])
	soql = format_soql("SELECT Name FROM Account WHERE Id = {id}", id=catalogue["none"])

	assert (names(org, soql), [row["Name"] for row in run(org, soql, include_deleted=True)]) == (
		[],
		["anand & co"],
	)


def test_id_filter_with_a_malformed_id_is_refused(org, catalogue):
	assert error_code(org, "SELECT Id FROM Account WHERE Id = 'abc'") == "INVALID_QUERY_FILTER_OPERATOR"


def test_parent_path_in_where(org, catalogue):
	assert names(org, "SELECT Name FROM Contact WHERE Account.BillingCity = 'Chennai'") == ["Asha Iyer"]


def test_order_by_nulls_first_and_last(org, catalogue):
	first = names(org, "SELECT Name FROM Account ORDER BY BillingCity ASC NULLS FIRST")
	last = names(org, "SELECT Name FROM Account ORDER BY BillingCity DESC NULLS LAST")

	assert first == ["anand & co", "Kaveri Textiles", "Shakti Fabricators"]
	assert last == ["Shakti Fabricators", "Kaveri Textiles", "anand & co"]


def test_order_by_text_ignores_case(org, catalogue):
	assert names(org, "SELECT Name FROM Account ORDER BY Name") == [
		"anand & co",
		"Kaveri Textiles",
		"Shakti Fabricators",
	]


def test_limit_and_offset(org, catalogue):
	assert names(org, "SELECT Name FROM Account ORDER BY Name LIMIT 1 OFFSET 1") == ["Kaveri Textiles"]


def test_field_names_are_case_insensitive_and_answered_canonically(org, catalogue):
	record = run(org, "select name, billingcity from account where billingcity = 'Pune'")[0]

	assert record["Name"] == "Shakti Fabricators" and record["BillingCity"] == "Pune"


def test_unknown_field_names_the_column(org):
	with pytest.raises(ApiError) as raised:
		run(org, "SELECT Id, Colour FROM Account")

	assert raised.value.error_code == "INVALID_FIELD"
	assert "No such column 'Colour' on entity 'Account'" in raised.value.message


def test_unknown_relationship_is_invalid_field(org):
	assert error_code(org, "SELECT Owner2.Name FROM Account") == "INVALID_FIELD"


def test_unknown_child_relationship_is_invalid_type(org):
	assert error_code(org, "SELECT Id, (SELECT Id FROM Invoices) FROM Account") == "INVALID_TYPE"


@pytest.mark.parametrize(
	"soql",
	[
		"SELECT FROM Account",
		"SELECT Id Account",
		"SELECT Id FROM Account WHERE Name = ",
		"SELECT Id FROM Account WHERE Name = 'open",
		"SELECT Id FROM Account LIMIT -1",
		"SELECT Id FROM Account ORDER Name",
		"SELECT Id FROM Account WHERE (Name = 'a'",
		"SELECT Id FROM Account GROUP BY Name",
		"",
	],
)
def test_malformed_soql_is_malformed_query(org, soql):
	assert error_code(org, soql) == "MALFORMED_QUERY"


def test_opportunity_stage_table_is_queryable(org):
	won = [
		record["MasterLabel"]
		for record in run(org, "SELECT MasterLabel FROM OpportunityStage WHERE IsWon = true")
	]

	assert won == ["Closed Won"]


def test_ids_sort_case_sensitively_in_creation_order(org):
	made = [org.create("Account", {"Name": f"Dealer {index}"}) for index in range(300)]

	ordered = [record["Id"] for record in run(org, "SELECT Id FROM Account ORDER BY Id")]

	assert ordered == sorted(made) == made


def test_id_greater_than_compares_case_sensitively(org):
	made = [org.create("Account", {"Name": f"Dealer {index}"}) for index in range(300)]

	later = [
		record["Id"]
		for record in run(
			org, format_soql("SELECT Id FROM Account WHERE Id > {id} ORDER BY Id", id=made[149])
		)
	]

	assert later == made[150:]


@pytest.mark.parametrize(
	"literal",
	["2024-02-30", "2024-13-01", "2024-00-10", "2024-06-30T25:00:00Z", "2024-06-31T10:00:00Z"],
)
def test_impossible_date_literal_is_malformed_query_not_a_server_error(raw, literal):
	field = "CreatedDate" if "T" in literal else "CloseDate"
	answer = raw.call("GET", "query", params={"q": f"SELECT Id FROM Opportunity WHERE {field} = {literal}"})

	assert answer.status_code == 400
	assert answer.json()[0]["errorCode"] == "MALFORMED_QUERY"
	assert literal in answer.json()[0]["message"]


@pytest.mark.parametrize(
	"condition",
	["(" * 3000 + "Name = 'x'" + ")" * 3000, "NOT " * 3000 + "Name = 'x'"],
	ids=["parentheses", "not"],
)
def test_hostile_nesting_is_malformed_query_not_a_server_error(raw, condition):
	answer = raw.call("GET", "query", params={"q": f"SELECT Id FROM Account WHERE {condition}"})

	assert answer.status_code == 400
	assert answer.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_nesting_up_to_the_cap_is_still_evaluated(org, catalogue):
	condition = "(" * 100 + "BillingCity = 'Pune'" + ")" * 100

	assert names(org, f"SELECT Name FROM Account WHERE {condition}") == ["Shakti Fabricators"]


def test_offset_beyond_2000_is_number_outside_valid_range(raw):
	answer = raw.call("GET", "query", params={"q": "SELECT Id FROM Account ORDER BY Id LIMIT 10 OFFSET 2001"})

	assert answer.status_code == 400
	assert answer.json()[0]["errorCode"] == "NUMBER_OUTSIDE_VALID_RANGE"


def test_offset_of_2000_and_offset_past_the_last_row_answer_no_records(org, catalogue):
	assert run(org, "SELECT Id FROM Account ORDER BY Id OFFSET 2000") == []
	assert run(org, "SELECT Id FROM Account ORDER BY Id LIMIT 5 OFFSET 3") == []
