"""The emulator's Outbound Message sender: envelope shape, schema validity, Ack handling, retries, chaos."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import defusedxml.ElementTree as SafeET
import pytest
import xmlschema
from xmlschema.extras.wsdl import Wsdl11Document

from salesforce_connector.emulator import ids
from salesforce_connector.emulator.outbound import is_ack, retry_interval
from salesforce_connector.emulator.schema import Field
from tests.conftest import FIXTURES

OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"
SOBJECT = "{urn:sobject.enterprise.soap.sforce.com}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
WSDL = FIXTURES / "wsdl" / "salesforce-generated-custom-object.wsdl"


@pytest.fixture
def account(org) -> str:
	return org.create("Account", {"Name": "Vayu Pumps", "BillingState": "Gujarat"})


def opportunity_values(account: str, **extra) -> dict:
	return {
		"Name": "Pumps",
		"AccountId": account,
		"StageName": "Prospecting",
		"CloseDate": "2024-06-30",
		**extra,
	}


def notifications_of(body: bytes):
	return SafeET.fromstring(body).find(f".//{OUTBOUND}notifications")


def sent_fields(body: bytes) -> list[list[tuple[str, str]]]:
	"""For each Notification, the (field, text) pairs of its sObject in document order."""
	out = []
	for notification in notifications_of(body).findall(f"{OUTBOUND}Notification"):
		sobject = notification.find(f"{OUTBOUND}sObject")
		out.append([(child.tag.removeprefix(SOBJECT), child.text) for child in sobject])
	return out


# what a message looks like


def test_rule_fires_on_create_and_delivers_one_notification(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name", "StageName"])
	opportunity = org.create("Opportunity", opportunity_values(account))

	deliveries = org.outbound.deliver_due()

	assert [delivery.acknowledged for delivery in deliveries] == [True]
	assert sent_fields(receiver.bodies[0]) == [
		[("Id", opportunity), ("Name", "Pumps"), ("StageName", "Prospecting")]
	]


def test_message_names_org_action_and_urls_as_salesforce_does(org, receiver, account):
	rule = org.outbound.add_rule("Opportunity", receiver.url, ["Name"])
	org.create("Opportunity", opportunity_values(account))

	org.outbound.deliver_due()

	root = notifications_of(receiver.bodies[0])
	assert root.findtext(f"{OUTBOUND}OrganizationId") == org.org_id
	assert root.findtext(f"{OUTBOUND}ActionId") == rule.action_id
	assert root.findtext(f"{OUTBOUND}PartnerUrl").endswith(f"/services/Soap/u/59.0/{org.org_id[:15]}")
	assert root.findtext(f"{OUTBOUND}EnterpriseUrl").endswith(f"/services/Soap/c/59.0/{org.org_id[:15]}")


def test_notification_ids_are_valid_04l_ids(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"])
	org.create("Opportunity", opportunity_values(account))

	org.outbound.deliver_due()

	notification_id = notifications_of(receiver.bodies[0]).findtext(f"{OUTBOUND}Notification/{OUTBOUND}Id")
	assert notification_id.startswith("04l")
	assert ids.is_valid_id(notification_id) and len(notification_id) == 18


def test_sobject_carries_the_enterprise_xsi_type(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"])
	org.create("Opportunity", opportunity_values(account))

	org.outbound.deliver_due()

	sobject = notifications_of(receiver.bodies[0]).find(f"{OUTBOUND}Notification/{OUTBOUND}sObject")
	assert sobject.get(XSI_TYPE) == "sf:Opportunity"
	assert b'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"' in receiver.bodies[0]


def test_id_comes_first_then_fields_in_alphabetical_order(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["StageName", "Amount", "IsWon", "CloseDate", "Name"])
	org.create("Opportunity", opportunity_values(account, Amount=1200))

	org.outbound.deliver_due()

	names = [name for name, _ in sent_fields(receiver.bodies[0])[0]]
	assert names == ["Id", "Amount", "CloseDate", "IsWon", "Name", "StageName"]


def test_null_fields_are_left_out(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name", "NextStep", "Delivery_Note_ID__c"])
	org.create("Opportunity", opportunity_values(account))

	org.outbound.deliver_due()

	assert [name for name, _ in sent_fields(receiver.bodies[0])[0]] == ["Id", "Name"]


def test_values_are_written_as_soap_text(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["IsWon", "CreatedDate", "CloseDate", "Amount"])
	org.create("Opportunity", opportunity_values(account, StageName="Closed Won", Amount=1500))

	org.outbound.deliver_due()

	values = dict(sent_fields(receiver.bodies[0])[0])
	assert values["IsWon"] == "true"
	assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z", values["CreatedDate"])
	assert values["CloseDate"] == "2024-06-30"
	assert values["Amount"] == "1500.0"


def test_values_are_read_when_the_message_is_sent(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["StageName"], on_create_only=True)
	opportunity = org.create("Opportunity", opportunity_values(account))
	org.update("Opportunity", opportunity, {"StageName": "Negotiation/Review"})

	org.outbound.deliver_due()

	assert dict(sent_fields(receiver.bodies[0])[0])["StageName"] == "Negotiation/Review"


def test_session_id_is_nil_unless_the_rule_sends_it(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"])
	org.create("Opportunity", opportunity_values(account))

	org.outbound.deliver_due()

	assert b'<SessionId xsi:nil="true"/>' in receiver.bodies[0]


def test_sent_session_id_can_call_the_rest_api(org, server, receiver, http_session, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"], send_session_id=True)
	org.create("Opportunity", opportunity_values(account))
	org.outbound.deliver_due()
	session_id = notifications_of(receiver.bodies[0]).findtext(f"{OUTBOUND}SessionId")

	answer = http_session.get(
		f"{server.url}/services/data/v59.0/limits", headers={"Authorization": f"Bearer {session_id}"}
	)

	assert answer.status_code == 200


def test_message_is_posted_as_text_xml_with_an_empty_soap_action(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"])
	org.create("Opportunity", opportunity_values(account))

	org.outbound.deliver_due()

	assert receiver.headers[0]["Content-Type"].startswith("text/xml")
	assert receiver.headers[0]["SOAPAction"] == '""'


# which changes fire


def test_field_equality_criteria_skip_records_that_do_not_match(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"], criteria={"StageName": "Closed Won"})
	org.create("Opportunity", opportunity_values(account))

	assert org.outbound.deliver_due() == []


def test_field_equality_criteria_fire_when_the_record_matches(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"], criteria={"StageName": "Closed Won"})
	opportunity = org.create("Opportunity", opportunity_values(account))
	org.update("Opportunity", opportunity, {"StageName": "Closed Won"})

	assert len(org.outbound.deliver_due()) == 1


def test_callable_criteria_see_the_saved_record(org, receiver, account):
	org.outbound.add_rule("Opportunity", receiver.url, ["Name"], criteria=lambda record: record["IsWon"])
	org.create("Opportunity", opportunity_values(account, StageName="Closed Won"))
	org.create("Opportunity", opportunity_values(account, StageName="Closed Lost"))

	org.outbound.deliver_due()

	assert len(sent_fields(receiver.bodies[0])) == 1


def test_create_only_rule_ignores_updates(org, receiver, account):
	org.outbound.add_rule("Account", receiver.url, ["Name"], on_create_only=True)
	org.update("Account", account, {"Phone": "1"})

	assert org.outbound.pending() == []


def test_rolled_back_changes_send_nothing(org, server, http_session, receiver, client, account):
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.outbound.deliver_due()
	body = {
		"allOrNone": True,
		"records": [{"attributes": {"type": "Account"}, "Name": "Kept"}, {"attributes": {"type": "Account"}}],
	}

	client.salesforce.restful("composite/sobjects", method="POST", json=body)

	assert org.outbound.pending() == []


def test_rule_with_an_unknown_field_is_refused(org):
	with pytest.raises(ValueError, match="no field"):
		org.outbound.add_rule("Opportunity", "http://127.0.0.1:9/", ["NotAField"])


def test_more_than_100_notifications_go_in_several_messages(org, receiver):
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	for index in range(150):
		org.create("Account", {"Name": f"Dealer {index}"})

	org.outbound.deliver_due()

	assert [len(sent_fields(body)) for body in receiver.bodies] == [100, 50]


# acknowledgement and retries


def test_only_a_true_ack_counts_as_delivered(org, receiver, account):
	receiver.answer = (
		200,
		b'<Envelope><Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>false</Ack></notificationsResponse></Body></Envelope>',
	)
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})

	delivery = org.outbound.deliver_due()[0]

	assert not delivery.acknowledged
	assert len(org.outbound.pending()) == 1


def test_http_200_without_an_ack_is_not_delivered(org, receiver, account):
	receiver.answer = (200, b"OK")
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})

	assert not org.outbound.deliver_due()[0].acknowledged


def test_soap_fault_is_retried_after_the_first_interval(org, receiver, account):
	receiver.answer = (500, receiver.FAULT)
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})
	org.outbound.deliver_due()
	receiver.answer = (200, receiver.ACK)

	too_early = org.outbound.deliver_due()
	org.clock.advance(seconds=15)
	on_time = org.outbound.deliver_due()

	assert too_early == []
	assert [delivery.acknowledged for delivery in on_time] == [True]
	assert org.outbound.pending() == []


def test_a_soap_fault_is_kept_as_its_whole_faultstring(org, receiver, account):
	reason = "Salesforce Settings: the endpoint token is missing or wrong; " + "check it in Setup. " * 20
	receiver.answer = (500, receiver.FAULT.replace(b"<faultstring>busy", f"<faultstring>{reason}".encode()))
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})

	delivery = org.outbound.deliver_due()[0]

	assert delivery.error == f"HTTP 500: {reason.strip()}"
	assert org.outbound.pending()[0].last_error == delivery.error


def test_an_answer_that_is_no_soap_is_kept_as_its_start(org, receiver, account):
	receiver.answer = (502, b"<html>Bad Gateway</html>" + b" " * 500)
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})

	assert org.outbound.deliver_due()[0].error.startswith("HTTP 502: <html>Bad Gateway</html>")


def test_unreachable_endpoint_is_retried_with_the_error_kept(org, account):
	org.outbound.add_rule("Account", "http://127.0.0.1:9/outbound", ["Name"])
	org.update("Account", account, {"Phone": "1"})

	delivery = org.outbound.deliver_due()[0]

	assert delivery.status is None
	assert "ConnectionError" in org.outbound.pending()[0].last_error


def test_retry_intervals_double_up_to_two_hours():
	intervals = [retry_interval(attempt) for attempt in (1, 2, 3, 4, 20)]

	assert intervals == [
		timedelta(seconds=15),
		timedelta(seconds=30),
		timedelta(seconds=60),
		timedelta(seconds=120),
		timedelta(hours=2),
	]


def test_notification_is_dropped_24_hours_after_it_was_queued(org, receiver, account):
	receiver.answer = (503, b"down")
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})
	org.outbound.deliver_due()

	org.clock.advance(hours=24)
	org.outbound.deliver_due()

	assert len(org.outbound.dropped()) == 1
	assert org.outbound.pending() == []
	assert len(receiver.bodies) == 1


# chaos on request


def test_duplicate_sends_the_same_notifications_twice(org, receiver, account):
	org.outbound.duplicate = True
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})

	org.outbound.deliver_due()

	assert len(receiver.bodies) == 2
	assert receiver.bodies[0] == receiver.bodies[1]


def test_reorder_sends_later_changes_first(org, receiver):
	org.outbound.reorder = True
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.create("Account", {"Name": "First"})
	org.create("Account", {"Name": "Second"})

	org.outbound.deliver_due()

	names = [dict(fields)["Name"] for fields in sent_fields(receiver.bodies[0])]
	assert names == ["Second", "First"]


def test_delay_holds_messages_until_the_clock_moves(org, receiver, account):
	org.outbound.delay = timedelta(minutes=5)
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})

	held = org.outbound.deliver_due()
	org.clock.advance(minutes=5)

	assert held == []
	assert len(org.outbound.deliver_due()) == 1


def test_background_thread_delivers_without_being_asked(org, receiver, account):
	org.outbound.add_rule("Account", receiver.url, ["Name"])
	org.update("Account", account, {"Phone": "1"})

	org.outbound.start_background(interval=0.01)
	try:
		assert receiver.received.wait(timeout=10)
	finally:
		org.outbound.stop_background()


# the acknowledgement parser


def test_ack_fixture_with_byte_order_mark_is_an_ack():
	assert is_ack((FIXTURES / "outbound-messages" / "ack-response-bom.xml").read_bytes())


def test_notifications_message_is_not_an_ack():
	assert not is_ack((FIXTURES / "outbound-messages" / "contact-two-notifications.xml").read_bytes())


# schema validity


@pytest.fixture(scope="module")
def generated_wsdl() -> Wsdl11Document:
	return Wsdl11Document(str(WSDL))


def _validate(schema, body: bytes) -> None:
	"""Validate the `notifications` element; ElementTree drops prefix declarations, so name `sf` again."""
	element = ET.fromstring(body).find(f".//{OUTBOUND}notifications")
	schema.validate(element, namespaces={"sf": "urn:sobject.enterprise.soap.sforce.com"})


@pytest.mark.parametrize("transport", ["http"])
def test_custom_object_message_validates_against_the_salesforce_generated_wsdl(org, receiver, generated_wsdl):
	org.add_custom_object(
		"DiscountRule__c",
		[
			Field("ContractTerm__c", custom=True),
			Field("Discount__c", "double", custom=True),
			Field("Price__c", "currency", custom=True),
			Field("Type__c", custom=True),
		],
	)
	fields = [
		"ContractTerm__c",
		"CreatedDate",
		"Discount__c",
		"IsDeleted",
		"LastModifiedDate",
		"Name",
		"Price__c",
		"Type__c",
	]
	org.outbound.add_rule("DiscountRule__c", receiver.url, fields)
	org.create(
		"DiscountRule__c",
		{"Name": "Diwali", "Discount__c": 12.5, "Price__c": 999, "ContractTerm__c": "12 months"},
	)
	org.create("DiscountRule__c", {"Name": "Monsoon"})

	org.outbound.deliver_due()

	_validate(generated_wsdl.schema, receiver.bodies[0])


def _opportunity_wsdl(fields: dict[str, str]) -> str:
	"""The WSDL Salesforce would generate for an Opportunity rule: same document, the object's type swapped."""
	text = WSDL.read_text()
	elements = "".join(
		f'<element name="{name}" nillable="true" minOccurs="0" type="{kind}"/>'
		for name, kind in sorted(fields.items(), key=lambda item: item[0].lower())
	)
	text = re.sub(
		r'<complexType name="DiscountRule__c">.*?</complexType>',
		'<complexType name="Opportunity"><complexContent><extension base="ens:sObject"><sequence>'
		f"{elements}</sequence></extension></complexContent></complexType>",
		text,
		flags=re.DOTALL,
	)
	return text.replace("DiscountRule__c", "Opportunity")


@pytest.mark.parametrize("transport", ["http"])
def test_opportunity_message_validates_against_its_generated_wsdl(org, receiver, account, tmp_path):
	fields = {
		"AccountId": "ent:ID",
		"Amount": "xsd:double",
		"CloseDate": "xsd:date",
		"IsClosed": "xsd:boolean",
		"IsWon": "xsd:boolean",
		"Name": "xsd:string",
		"StageName": "xsd:string",
		"SystemModstamp": "xsd:dateTime",
		"Delivery_Note_ID__c": "xsd:string",
	}
	wsdl_file = tmp_path / "opportunity.wsdl"
	wsdl_file.write_text(_opportunity_wsdl(fields))
	org.outbound.add_rule("Opportunity", receiver.url, list(fields))
	org.create("Opportunity", opportunity_values(account, StageName="Closed Won", Amount=2500))

	org.outbound.deliver_due()

	_validate(Wsdl11Document(str(wsdl_file)).schema, receiver.bodies[0])


@pytest.mark.parametrize("transport", ["http"])
def test_schema_rejects_a_message_with_fields_out_of_order(generated_wsdl, org, receiver):
	org.add_custom_object("DiscountRule__c", [Field("Type__c", custom=True)])
	org.outbound.add_rule("DiscountRule__c", receiver.url, ["Name", "Type__c"])
	org.create("DiscountRule__c", {"Name": "Festive", "Type__c": "Seasonal"})
	org.outbound.deliver_due()
	swapped = re.sub(
		rb"(<sf:Name>.*?</sf:Name>\s*)(<sf:Type__c>.*?</sf:Type__c>)",
		rb"\2\1",
		receiver.bodies[0],
		flags=re.DOTALL,
	)

	with pytest.raises(xmlschema.XMLSchemaValidationError):
		_validate(generated_wsdl.schema, swapped)
