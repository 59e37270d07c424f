"""The org model on its own: Ids, the clock, derived Opportunity fields, price books, Lead conversion."""

from datetime import datetime, timedelta, timezone

import pytest

from salesforce_connector.emulator import ApiError, Org, VirtualClock, ids


@pytest.fixture
def bare_org() -> Org:
	return Org(clock=VirtualClock(datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc)))


@pytest.fixture
def priced(bare_org) -> dict:
	product = bare_org.create("Product2", {"Name": "Boiler 10T", "ProductCode": "BLR-10", "IsActive": True})
	entry = bare_org.create(
		"PricebookEntry",
		{
			"Pricebook2Id": bare_org.standard_pricebook_id,
			"Product2Id": product,
			"UnitPrice": 1500,
			"IsActive": True,
		},
	)
	account = bare_org.create("Account", {"Name": "Shakti Fabricators"})
	opportunity = bare_org.create(
		"Opportunity",
		{"Name": "Boilers", "AccountId": account, "StageName": "Prospecting", "CloseDate": "2024-06-30"},
	)
	return {"product": product, "entry": entry, "account": account, "opportunity": opportunity}


def add_line(org: Org, priced: dict, **values) -> str:
	return org.create(
		"OpportunityLineItem",
		{"OpportunityId": priced["opportunity"], "PricebookEntryId": priced["entry"], **values},
	)


# Ids


@pytest.mark.parametrize(
	("id15", "id18"),
	[
		("001000000000001", "001000000000001AAA"),
		("0015g00000AbCdE", "0015g00000AbCdEAAV"),
		("00QZZZZZZZZZZZZ", "00QZZZZZZZZZZZZ255"),
		("001A0000006Vm9r", "001A0000006Vm9rIAC"),
	],
)
def test_checksum_suffix_encodes_upper_case_positions(id15, id18):
	assert ids.to_18(id15) == id18


def test_an_18_character_id_with_a_wrong_suffix_is_not_valid():
	assert not ids.is_valid_id("001000000000001AAB")


@pytest.mark.parametrize("value", ["", "001", "001-00000000000", None, 42])
def test_non_ids_are_refused(value):
	assert not ids.is_valid_id(value)


def test_new_ids_carry_the_object_key_prefix_and_a_valid_suffix(bare_org, priced):
	expected = {"account": "001", "product": "01t", "entry": "01u", "opportunity": "006"}

	for name, prefix in expected.items():
		assert priced[name].startswith(prefix) and ids.is_valid_id(priced[name]) and len(priced[name]) == 18


def test_org_id_has_the_00d_prefix(bare_org):
	assert bare_org.org_id.startswith("00D") and ids.is_valid_id(bare_org.org_id)


def test_given_15_character_org_id_is_kept_in_18_character_form():
	assert Org(org_id="00D5g000004Vbcd").org_id == ids.to_18("00D5g000004Vbcd")


# the clock


def test_frozen_clock_does_not_move_by_itself():
	clock = VirtualClock(datetime(2024, 5, 1, tzinfo=timezone.utc))

	assert clock.now() == clock.now() == datetime(2024, 5, 1, tzinfo=timezone.utc)


def test_clock_advances_when_told(bare_org):
	bare_org.clock.advance(hours=2)

	assert bare_org.clock.now() == datetime(2024, 5, 1, 12, 20, 30, tzinfo=timezone.utc)


def test_clock_refuses_to_go_back(bare_org):
	with pytest.raises(ValueError):
		bare_org.clock.advance(timedelta(seconds=-1))


# Opportunities


def test_closed_won_is_won_and_closed(bare_org, priced):
	bare_org.update("Opportunity", priced["opportunity"], {"StageName": "Closed Won"})

	record = bare_org.get("Opportunity", priced["opportunity"])
	assert (record["IsWon"], record["IsClosed"], record["Probability"]) == (True, True, 100.0)


def test_closed_lost_is_closed_but_not_won(bare_org, priced):
	bare_org.update("Opportunity", priced["opportunity"], {"StageName": "Closed Lost"})

	record = bare_org.get("Opportunity", priced["opportunity"])
	assert (record["IsWon"], record["IsClosed"]) == (False, True)


def test_open_stage_is_neither_won_nor_closed(bare_org, priced):
	record = bare_org.get("Opportunity", priced["opportunity"])

	assert (record["IsWon"], record["IsClosed"]) == (False, False)


def test_renamed_won_stage_still_wins(bare_org, priced):
	bare_org.rename_stage("Closed Won", "Order Confirmed")

	bare_org.update("Opportunity", priced["opportunity"], {"StageName": "Order Confirmed"})

	assert bare_org.get("Opportunity", priced["opportunity"])["IsWon"] is True


def test_old_label_is_refused_after_a_rename(bare_org, priced):
	bare_org.rename_stage("Closed Won", "Order Confirmed")

	with pytest.raises(ApiError) as raised:
		bare_org.update("Opportunity", priced["opportunity"], {"StageName": "Closed Won"})

	assert raised.value.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_line_total_is_quantity_times_unit_price(bare_org, priced):
	line = add_line(bare_org, priced, Quantity=3, UnitPrice=1450.5)

	assert bare_org.get("OpportunityLineItem", line)["TotalPrice"] == 4351.5


def test_line_unit_price_defaults_to_the_list_price(bare_org, priced):
	line = bare_org.get("OpportunityLineItem", add_line(bare_org, priced, Quantity=2))

	assert (line["UnitPrice"], line["ListPrice"], line["TotalPrice"]) == (1500.0, 1500.0, 3000.0)


def test_line_given_total_price_derives_unit_price(bare_org, priced):
	line = bare_org.get("OpportunityLineItem", add_line(bare_org, priced, Quantity=4, TotalPrice=5000))

	assert line["UnitPrice"] == 1250.0


def test_line_with_both_unit_and_total_price_is_refused(bare_org, priced):
	with pytest.raises(ApiError) as raised:
		add_line(bare_org, priced, Quantity=1, UnitPrice=10, TotalPrice=10)

	assert raised.value.error_code == "FIELD_INTEGRITY_EXCEPTION"


def test_line_takes_product_and_code_from_its_price_book_entry(bare_org, priced):
	line = bare_org.get("OpportunityLineItem", add_line(bare_org, priced, Quantity=1))

	assert (line["Product2Id"], line["ProductCode"]) == (priced["product"], "BLR-10")


def test_line_given_only_a_product_finds_its_price_book_entry(bare_org, priced):
	line = bare_org.create(
		"OpportunityLineItem",
		{"OpportunityId": priced["opportunity"], "Product2Id": priced["product"], "Quantity": 1},
	)

	assert bare_org.get("OpportunityLineItem", line)["PricebookEntryId"] == priced["entry"]


def test_amount_is_the_sum_of_the_lines(bare_org, priced):
	add_line(bare_org, priced, Quantity=2)
	add_line(bare_org, priced, Quantity=1, UnitPrice=99.5)

	assert bare_org.get("Opportunity", priced["opportunity"])["Amount"] == 3099.5


def test_amount_follows_a_changed_line(bare_org, priced):
	line = add_line(bare_org, priced, Quantity=2)

	bare_org.update("OpportunityLineItem", line, {"Quantity": 5})

	assert bare_org.get("Opportunity", priced["opportunity"])["Amount"] == 7500.0


def test_amount_follows_a_deleted_line(bare_org, priced):
	add_line(bare_org, priced, Quantity=2)
	line = add_line(bare_org, priced, Quantity=1)

	bare_org.delete("OpportunityLineItem", line)

	assert bare_org.get("Opportunity", priced["opportunity"])["Amount"] == 3000.0


def test_a_line_written_in_a_failed_transaction_is_not_in_the_amount(bare_org, priced):
	add_line(bare_org, priced, Quantity=2)

	with pytest.raises(ApiError), bare_org.atomic():
		add_line(bare_org, priced, Quantity=4)
		bare_org.create("Account", {})
	add_line(bare_org, priced, Quantity=1)

	assert bare_org.get("Opportunity", priced["opportunity"])["Amount"] == 4500.0


def test_lines_count_for_their_own_opportunity_only(bare_org, priced):
	other = bare_org.create(
		"Opportunity",
		{"Name": "Valves", "AccountId": None, "StageName": "Prospecting", "CloseDate": "2026-06-30"},
	)
	add_line(bare_org, priced, Quantity=2)
	bare_org.create(
		"OpportunityLineItem", {"OpportunityId": other, "PricebookEntryId": priced["entry"], "Quantity": 1}
	)

	amounts = [bare_org.get("Opportunity", each)["Amount"] for each in (priced["opportunity"], other)]

	assert amounts == [3000.0, 1500.0]


def test_deleting_an_opportunity_deletes_its_lines(bare_org, priced):
	line = add_line(bare_org, priced, Quantity=1)

	bare_org.delete("Opportunity", priced["opportunity"])

	assert bare_org.find("OpportunityLineItem", line) is None


def test_custom_price_book_entry_needs_a_standard_price(bare_org):
	product = bare_org.create("Product2", {"Name": "Valve", "IsActive": True})
	wholesale = bare_org.create("Pricebook2", {"Name": "Wholesale", "IsActive": True})

	with pytest.raises(ApiError) as raised:
		bare_org.create(
			"PricebookEntry",
			{"Pricebook2Id": wholesale, "Product2Id": product, "UnitPrice": 90, "IsActive": True},
		)

	assert raised.value.error_code == "STANDARD_PRICE_NOT_DEFINED"


# Leads


@pytest.fixture
def lead(bare_org) -> str:
	return bare_org.create(
		"Lead",
		{
			"FirstName": "Ravi",
			"LastName": "Menon",
			"Company": "Menon Agro",
			"City": "Kochi",
			"GSTIN__c": "32AAACM1234A1Z5",
		},
	)


def test_new_lead_defaults_to_open_status(bare_org, lead):
	assert bare_org.get("Lead", lead)["Status"] == "Open - Not Contacted"


def test_lead_conversion_creates_account_contact_and_opportunity(bare_org, lead):
	result = bare_org.convert_lead(lead)

	converted = bare_org.get("Lead", lead)
	assert converted["IsConverted"] is True
	assert converted["ConvertedAccountId"] == result["accountId"]
	assert converted["ConvertedContactId"] == result["contactId"]
	assert converted["ConvertedOpportunityId"] == result["opportunityId"]
	assert bare_org.get("Account", result["accountId"])["Name"] == "Menon Agro"
	assert bare_org.get("Contact", result["contactId"])["AccountId"] == result["accountId"]


def test_lead_conversion_carries_the_gstin_to_the_account(bare_org, lead):
	result = bare_org.convert_lead(lead)

	assert bare_org.get("Account", result["accountId"])["GSTIN__c"] == "32AAACM1234A1Z5"


def test_lead_conversion_into_an_existing_account_without_opportunity(bare_org, lead):
	account = bare_org.create("Account", {"Name": "Menon Agro Pvt Ltd"})

	result = bare_org.convert_lead(lead, account_id=account, create_opportunity=False)

	assert (result["accountId"], result["opportunityId"]) == (account, None)


def test_converted_lead_cannot_be_converted_again(bare_org, lead):
	bare_org.convert_lead(lead)

	with pytest.raises(ApiError) as raised:
		bare_org.convert_lead(lead)

	assert raised.value.error_code == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_conversion_flags_cannot_be_written_directly(bare_org, lead):
	with pytest.raises(ApiError) as raised:
		bare_org.update("Lead", lead, {"IsConverted": True})

	assert raised.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


# transactions


def test_failed_atomic_block_leaves_no_trace(bare_org):
	with pytest.raises(ApiError), bare_org.atomic():
		bare_org.create("Account", {"Name": "Kept only if all succeed"})
		bare_org.create("Account", {})

	assert bare_org.rows("Account") == []


def test_contact_name_is_first_and_last(bare_org):
	contact = bare_org.create("Contact", {"FirstName": "Asha", "LastName": "Iyer"})

	assert bare_org.get("Contact", contact)["Name"] == "Asha Iyer"


def test_custom_object_gets_its_own_prefix_and_name_field(bare_org):
	bare_org.add_custom_object("Shipment__c")

	record_id = bare_org.create("Shipment__c", {"Name": "SHP-1"})

	assert record_id.startswith("a00") and bare_org.get("Shipment__c", record_id)["Name"] == "SHP-1"
