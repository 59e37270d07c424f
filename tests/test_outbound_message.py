import json
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring

from salesforce_connector.core.errors import MalformedMessageError
from salesforce_connector.core.outbound_message import (
	ACK_RESPONSE,
	MAX_BODY_BYTES,
	OUTBOUND_NS,
	SOAP_ENVELOPE_NS,
	build_fault,
	organization_matches,
	parse_outbound_message,
	token_matches,
)

FIXTURES = Path(__file__).parent / "fixtures" / "outbound-messages"


def fixture_bytes(name: str) -> bytes:
	return (FIXTURES / name).read_bytes()


def envelope(notifications_xml: str) -> bytes:
	return (
		f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}" '
		'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
		f'<notifications xmlns="{OUTBOUND_NS}">{notifications_xml}</notifications>'
		"</soapenv:Body></soapenv:Envelope>"
	).encode()


HEADER = "<OrganizationId>00D000000000001AAA</OrganizationId><ActionId>04k000000000001AAA</ActionId>"


def opportunity_notification(
	notification_id="04l000000000001AAA", fields="<sf:Id>006000000000001AAA</sf:Id>"
):
	return (
		f"<Notification><Id>{notification_id}</Id>"
		'<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
		f"{fields}</sObject></Notification>"
	)


def test_lead_fixture_with_byte_order_mark_parses():
	body = fixture_bytes("lead-three-notifications-bom.xml")

	message = parse_outbound_message(body)

	assert body.startswith(b"\xef\xbb\xbf")
	assert message.organization_id == "0123456789ABCDENNN"
	assert message.action_id == "05h370200108OsUAAU"
	assert [n.notification_id for n in message.notifications] == [
		"04l37000000L0E5AAK",
		"14l37000123L0E5AAK",
		"24l37123450L0E5AAK",
	]


def test_lead_fixture_keeps_unknown_object_types_as_sent():
	message = parse_outbound_message(fixture_bytes("lead-three-notifications-bom.xml"))

	assert [n.object_type for n in message.notifications] == ["Lead1", "Lead2", "Lead3"]


def test_null_fields_left_out_by_salesforce_stay_absent():
	first = parse_outbound_message(fixture_bytes("lead-three-notifications-bom.xml")).notifications[0]

	assert "Email" not in first.fields
	assert "Phone" not in first.fields
	assert first.fields["Company"] == "Example Traders"
	assert first.fields["IsConverted"] == "false"


def test_payload_kept_for_the_log_has_no_session_id():
	message = parse_outbound_message(fixture_bytes("lead-three-notifications-bom.xml"))

	payloads = [n.to_payload(message) for n in message.notifications]
	session_id = "0123456789ABCDE!BSGSRAzG9lPxyKRPjJ3"

	assert not hasattr(message, "session_id")
	assert all(session_id not in payload for payload in payloads)
	assert all("SessionId" not in payload for payload in payloads)
	assert json.loads(payloads[0])["fields"]["Id"] == "0123456789ABCDEEAE"


def test_contact_fixture_with_fifteen_character_organization_id():
	message = parse_outbound_message(fixture_bytes("contact-two-notifications.xml"))

	assert message.organization_id == "012345678901234"
	assert [n.object_type for n in message.notifications] == ["Contact", "Contact"]
	assert "Email" not in message.notifications[0].fields
	assert message.notifications[1].fields["Email"] == "buyer@example.com"


def test_empty_notifications_fixture_is_malformed():
	with pytest.raises(MalformedMessageError, match="OrganizationId"):
		parse_outbound_message(fixture_bytes("empty-notifications-bom.xml"))


def test_explicit_nil_field_reads_as_none():
	fields = '<sf:Id>006000000000001AAA</sf:Id><sf:Description xsi:nil="true"/>'
	message = parse_outbound_message(envelope(HEADER + opportunity_notification(fields=fields)))

	assert message.notifications[0].fields == {"Id": "006000000000001AAA", "Description": None}


@pytest.mark.parametrize(
	"body, reason",
	[
		(b"", "no body"),
		(b"this is not xml", "not well-formed"),
		(b"<a><b></a>", "not well-formed"),
		(b"<root/>", "not a SOAP 1.1 envelope"),
		(f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}"/>'.encode(), "no Body"),
		(
			f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}"><soapenv:Body/></soapenv:Envelope>'.encode(),
			"no Salesforce notifications",
		),
	],
)
def test_what_is_not_an_outbound_message_is_malformed(body, reason):
	with pytest.raises(MalformedMessageError, match=reason):
		parse_outbound_message(body)


def test_entity_declaration_is_refused():
	body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>' + envelope(
		HEADER + opportunity_notification(fields="<sf:Id>&secret;</sf:Id>")
	)

	with pytest.raises(MalformedMessageError, match="DTD or entity"):
		parse_outbound_message(body)


def test_billion_laughs_is_refused_without_expanding():
	levels = ['<!ENTITY lol0 "lol">'] + [
		f'<!ENTITY lol{level} "{("&lol" + str(level - 1) + ";") * 10}">' for level in range(1, 10)
	]
	body = f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(levels)}]><lolz>&lol9;</lolz>'.encode()

	with pytest.raises(MalformedMessageError, match="DTD or entity"):
		parse_outbound_message(body)


def test_body_over_the_cap_is_refused_before_parsing():
	body = envelope(HEADER + opportunity_notification()) + b" " * MAX_BODY_BYTES

	with pytest.raises(MalformedMessageError, match="larger than"):
		parse_outbound_message(body)


def test_missing_notification_id_is_malformed():
	notification = opportunity_notification().replace("<Id>04l000000000001AAA</Id>", "")

	with pytest.raises(MalformedMessageError, match="no Id"):
		parse_outbound_message(envelope(HEADER + notification))


def test_record_without_id_is_malformed():
	notification = opportunity_notification(fields="<sf:Name>Deal</sf:Name>")

	with pytest.raises(MalformedMessageError, match="without an Id"):
		parse_outbound_message(envelope(HEADER + notification))


def test_sobject_without_type_is_malformed():
	notification = opportunity_notification().replace(' xsi:type="sf:Opportunity"', "")

	with pytest.raises(MalformedMessageError, match="which object"):
		parse_outbound_message(envelope(HEADER + notification))


def test_more_than_one_hundred_notifications_is_malformed():
	notifications = "".join(opportunity_notification(f"04l{i:015d}") for i in range(101))

	with pytest.raises(MalformedMessageError, match="more than 100"):
		parse_outbound_message(envelope(HEADER + notifications))


def test_missing_organization_id_is_malformed():
	header = "<ActionId>04k000000000001AAA</ActionId>"

	with pytest.raises(MalformedMessageError, match="OrganizationId"):
		parse_outbound_message(envelope(header + opportunity_notification()))


@pytest.mark.parametrize(
	"received, allowed, expected",
	[
		("012345678901234", ["012345678901234"], True),
		("012345678901234AAA", ["012345678901234"], True),
		("012345678901234", ["012345678901234AAA"], True),
		("00D000000000001AAA", ["00DXXXXXXXXXXXX", "00D000000000001"], True),
		("012345678901235", ["012345678901234"], False),
		("012345678901234", [], False),
		("012345678901234", ["0123"], False),
		("00d000000000001", ["00D000000000001"], False),
	],
)
def test_organization_check_compares_first_fifteen_characters(received, allowed, expected):
	assert organization_matches(received, allowed) is expected


def test_token_check():
	assert token_matches("s3cret", "s3cret")
	assert not token_matches("s3cre", "s3cret")
	assert not token_matches(None, "s3cret")


def test_ack_is_equivalent_to_what_salesforce_expects():
	expected = fromstring(fixture_bytes("ack-response-bom.xml"))
	ours = fromstring(ACK_RESPONSE)

	ack_path = f"{{{SOAP_ENVELOPE_NS}}}Body/{{{OUTBOUND_NS}}}notificationsResponse/{{{OUTBOUND_NS}}}Ack"
	assert ours.tag == expected.tag
	assert ours.find(ack_path).text == expected.find(ack_path).text == "true"


def test_fault_escapes_the_reason():
	fault = fromstring(build_fault("bad <input> & more"))

	faultstring = fault.find(f"{{{SOAP_ENVELOPE_NS}}}Body/{{{SOAP_ENVELOPE_NS}}}Fault/faultstring")
	faultcode = fault.find(f"{{{SOAP_ENVELOPE_NS}}}Body/{{{SOAP_ENVELOPE_NS}}}Fault/faultcode")
	assert faultstring.text == "bad <input> & more"
	assert faultcode.text == "soapenv:Client"


def test_server_fault_code():
	fault = fromstring(build_fault("disabled", client_error=False))

	assert fault.find(f".//{{{SOAP_ENVELOPE_NS}}}Fault/faultcode").text == "soapenv:Server"


@pytest.mark.parametrize(
	"header, reason",
	[
		(
			"<OrganizationId>00D" + "X" * 200 + "</OrganizationId><ActionId>04k000000000001AAA</ActionId>",
			"OrganizationId",
		),
		("<OrganizationId>00D000000000001AAA</OrganizationId><ActionId>04k-1</ActionId>", "ActionId"),
	],
)
def test_header_ids_must_be_salesforce_ids(header, reason):
	with pytest.raises(MalformedMessageError, match=f"{reason} is not a Salesforce Id"):
		parse_outbound_message(envelope(header + opportunity_notification()))


def test_overlong_notification_id_is_malformed():
	with pytest.raises(MalformedMessageError, match="Id is not a Salesforce Id"):
		parse_outbound_message(envelope(HEADER + opportunity_notification(notification_id="04l" + "A" * 300)))


def test_record_id_must_be_a_salesforce_id():
	notification = opportunity_notification(fields="<sf:Id>../../etc/passwd</sf:Id>")

	with pytest.raises(MalformedMessageError, match="record Id that is not a Salesforce Id"):
		parse_outbound_message(envelope(HEADER + notification))


def test_object_type_must_be_an_api_name():
	notification = opportunity_notification().replace("sf:Opportunity", "sf:" + "Opportunity" * 20)

	with pytest.raises(MalformedMessageError, match="not an API name"):
		parse_outbound_message(envelope(HEADER + notification))


def test_notification_id_repeated_in_one_message_is_malformed():
	notifications = opportunity_notification("04l000000000001AAA") * 2

	with pytest.raises(MalformedMessageError, match="appears twice"):
		parse_outbound_message(envelope(HEADER + notifications))
