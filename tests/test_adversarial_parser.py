"""Hostile and odd Outbound Message bodies against the SOAP parser.

Each test feeds one kind of bad or unusual input. The rule: the parser returns a message it read
correctly, or raises MalformedMessageError saying why; any other exception would reach the HTTP
client as a server error page instead of a SOAP fault.
"""

import pytest

from salesforce_connector.core.errors import MalformedMessageError
from salesforce_connector.core.freshness import parse_salesforce_datetime
from salesforce_connector.core.outbound_message import (
	OUTBOUND_NS,
	SOAP_ENVELOPE_NS,
	organization_matches,
	parse_outbound_message,
	token_matches,
)

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
UTF8_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
ORG_ID = "00D000000000001AAA"


def notification(
	fields: str = "", notification_id="04l000000000001AAA", type_attribute='xsi:type="sf:Account"'
):
	return (
		f"<Notification><Id>{notification_id}</Id>"
		f'<sObject {type_attribute} xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
		f"<sf:Id>001000000000001AAA</sf:Id>{fields}</sObject></Notification>"
	)


def envelope(notifications: str, declaration: str = UTF8_DECLARATION, soap_ns: str = SOAP_ENVELOPE_NS) -> str:
	return (
		f'{declaration}<soapenv:Envelope xmlns:soapenv="{soap_ns}" {XSI}><soapenv:Body>'
		f'<notifications xmlns="{OUTBOUND_NS}"><OrganizationId>{ORG_ID}</OrganizationId>'
		f"<ActionId>04k000000000001AAA</ActionId>{notifications}</notifications>"
		"</soapenv:Body></soapenv:Envelope>"
	)


def named(name: str, declaration: str = UTF8_DECLARATION) -> str:
	return envelope(notification(f"<sf:Name>{name}</sf:Name>"), declaration)


def first_fields(body: bytes) -> dict:
	return parse_outbound_message(body).notifications[0].fields


# structure


def test_truncated_envelope_is_malformed():
	body = envelope(notification()).encode()

	with pytest.raises(MalformedMessageError, match="not well-formed"):
		parse_outbound_message(body[: len(body) // 2])


def test_soap_1_2_envelope_is_refused_as_not_soap_1_1():
	with pytest.raises(MalformedMessageError, match=r"SOAP 1\.1"):
		parse_outbound_message(envelope(notification(), soap_ns=SOAP12_NS).encode())


def test_notifications_in_a_foreign_namespace_are_malformed():
	body = envelope(notification()).replace(OUTBOUND_NS, "http://soap.sforce.com/2005/09/outbound-evil")

	with pytest.raises(MalformedMessageError, match="no Salesforce notifications"):
		parse_outbound_message(body.encode())


def test_junk_after_the_envelope_is_malformed():
	with pytest.raises(MalformedMessageError, match="not well-formed"):
		parse_outbound_message(envelope(notification()).encode() + b"<extra/>")


def test_huge_attribute_value_is_read_without_keeping_it_as_a_field():
	huge = "x" * (3 * 1024 * 1024)

	fields = first_fields(envelope(notification(f'<sf:Name data-junk="{huge}">Kaveri</sf:Name>')).encode())

	assert fields == {"Id": "001000000000001AAA", "Name": "Kaveri"}


def test_deeply_nested_field_is_malformed_not_a_crash():
	depth = 1200
	nested = "<a>" * depth + "x" + "</a>" * depth

	with pytest.raises(MalformedMessageError, match="holds elements"):
		parse_outbound_message(envelope(notification(f"<sf:Name>{nested}</sf:Name>")).encode())


def test_deep_nesting_outside_the_notifications_is_harmless():
	nested = "<a>" * 5000 + "</a>" * 5000
	body = envelope(notification()).replace(
		"<soapenv:Body>", f"<soapenv:Header>{nested}</soapenv:Header><soapenv:Body>"
	)

	assert len(parse_outbound_message(body.encode()).notifications) == 1


def test_second_notifications_element_is_refused_not_ignored():
	second = f'<notifications xmlns="{OUTBOUND_NS}">{notification(notification_id="04l000000000002AAA")}'
	body = envelope(notification()).replace("</soapenv:Body>", f"{second}</notifications></soapenv:Body>")

	with pytest.raises(MalformedMessageError, match="more than one notifications"):
		parse_outbound_message(body.encode())


@pytest.mark.parametrize(
	"fields",
	[
		"<sf:Id>001000000000002AAA</sf:Id>",
		"<sf:Name>Kaveri Textiles</sf:Name><sf:Name>Someone Else</sf:Name>",
		'<sf:Name>Kaveri Textiles</sf:Name><x:Name xmlns:x="urn:other">Someone Else</x:Name>',
	],
	ids=["second-id", "second-name", "name-from-another-namespace"],
)
def test_field_repeated_in_one_record_is_malformed_not_last_one_wins(fields):
	with pytest.raises(MalformedMessageError, match="appears twice"):
		parse_outbound_message(envelope(notification(fields)).encode())


def test_one_hundred_notifications_are_accepted():
	notifications = "".join(notification(notification_id=f"04l{i:015d}") for i in range(100))

	assert len(parse_outbound_message(envelope(notifications).encode()).notifications) == 100


# DTDs, entities, XInclude


def test_external_dtd_is_refused_without_fetching():
	body = '<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">' + envelope(
		notification(), ""
	)

	with pytest.raises(MalformedMessageError, match="DTD"):
		parse_outbound_message(body.encode())


def test_parameter_entity_is_refused():
	dtd = '<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil"> %remote;]>'

	with pytest.raises(MalformedMessageError, match="DTD"):
		parse_outbound_message(('<?xml version="1.0"?>' + dtd + envelope(notification(), "")).encode())


def test_xinclude_is_refused_without_being_expanded():
	include = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'

	with pytest.raises(MalformedMessageError, match="holds elements") as refused:
		parse_outbound_message(envelope(notification(f"<sf:Name>{include}</sf:Name>")).encode())
	assert "root:" not in refused.value.message


def test_comment_inside_a_value_is_dropped_without_splitting_it():
	assert (
		first_fields(envelope(notification("<sf:Name>Ka<!-- x -->veri</sf:Name>")).encode())["Name"]
		== "Kaveri"
	)


# encodings


def test_declared_latin_1_is_decoded():
	body = named("Café Müller", '<?xml version="1.0" encoding="ISO-8859-1"?>').encode("latin-1")

	assert first_fields(body)["Name"] == "Café Müller"


def test_declared_windows_1252_is_decoded():
	body = named("Café €", '<?xml version="1.0" encoding="windows-1252"?>').encode("cp1252")

	assert first_fields(body)["Name"] == "Café €"


def test_undeclared_latin_1_bytes_are_malformed_not_mojibake():
	with pytest.raises(MalformedMessageError, match="not well-formed"):
		parse_outbound_message(named("Café", "").encode("latin-1"))


def test_utf_16_with_byte_order_mark_is_decoded():
	assert first_fields(named("ಕಾವೇರಿ", "").encode("utf-16"))["Name"] == "ಕಾವೇರಿ"


def test_utf_16_bytes_declared_utf_8_are_malformed():
	with pytest.raises(MalformedMessageError, match="encoding"):
		parse_outbound_message(named("Café").encode("utf-16"))


def test_declared_multi_byte_encoding_is_malformed_not_a_crash():
	body = named("日本", '<?xml version="1.0" encoding="Shift_JIS"?>').encode("shift_jis")

	with pytest.raises(MalformedMessageError, match="encoding cannot be read"):
		parse_outbound_message(body)


def test_utf_8_bom_with_conflicting_declaration_is_malformed_not_mojibake():
	body = b"\xef\xbb\xbf" + named("Café", '<?xml version="1.0" encoding="ISO-8859-1"?>').encode()

	with pytest.raises(MalformedMessageError, match="byte-order mark"):
		parse_outbound_message(body)


# sObject types and values


def test_object_type_without_prefix_is_read():
	body = envelope(notification(type_attribute='xsi:type="Opportunity"'))

	assert parse_outbound_message(body.encode()).notifications[0].object_type == "Opportunity"


def test_object_type_with_prefix_only_is_malformed():
	body = envelope(notification(type_attribute='xsi:type="sf:"'))

	with pytest.raises(MalformedMessageError, match="which object"):
		parse_outbound_message(body.encode())


def test_type_attribute_outside_the_xsi_namespace_is_malformed():
	body = envelope(notification(type_attribute='type="sf:Account"'))

	with pytest.raises(MalformedMessageError, match="which object"):
		parse_outbound_message(body.encode())


def test_nil_record_id_is_malformed():
	body = envelope(notification()).replace(
		"<sf:Id>001000000000001AAA</sf:Id>", '<sf:Id xsi:nil="true">001000000000001AAA</sf:Id>'
	)

	with pytest.raises(MalformedMessageError, match="without an Id"):
		parse_outbound_message(body.encode())


def test_nil_notification_id_is_malformed():
	body = envelope(notification()).replace(
		"<Id>04l000000000001AAA</Id>", '<Id xsi:nil="true">04l000000000001AAA</Id>'
	)

	with pytest.raises(MalformedMessageError, match="no Id"):
		parse_outbound_message(body.encode())


def test_nil_fields_read_as_none_and_empty_ones_as_empty_text():
	fields = first_fields(
		envelope(
			notification('<sf:Name xsi:nil="true"/><sf:Phone/><sf:Website xsi:nil="false">w</sf:Website>')
		).encode()
	)

	assert (fields["Name"], fields["Phone"], fields["Website"]) == (None, "", "w")


def test_nil_organization_id_is_malformed():
	body = envelope(notification()).replace(
		f"<OrganizationId>{ORG_ID}</OrganizationId>", '<OrganizationId xsi:nil="true"/>'
	)

	with pytest.raises(MalformedMessageError, match="OrganizationId"):
		parse_outbound_message(body.encode())


# modstamps


@pytest.mark.parametrize("modstamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_modstamp_out_of_range_reads_as_none(modstamp):
	assert parse_salesforce_datetime(modstamp) is None


@pytest.mark.parametrize("modstamp", ["yesterday", "2026-13-45T00:00:00Z", "", "2026-01-05T10:00:00+5"])
def test_unreadable_modstamp_reads_as_none(modstamp):
	assert parse_salesforce_datetime(modstamp) is None


@pytest.mark.parametrize(
	"replace, by, reason",
	[
		("<Id>04l000000000001AAA</Id>", "<Id>04l" + "A" * 200 + "</Id>", "not a Salesforce Id"),
		(
			"<sf:Id>001000000000001AAA</sf:Id>",
			"<sf:Id>../Opportunity/006000000000001</sf:Id>",
			"not a Salesforce Id",
		),
		('xsi:type="sf:Account"', 'xsi:type="sf:Account;DROP"', "not an API name"),
		("<ActionId>04k000000000001AAA</ActionId>", "<ActionId>x</ActionId>", "not a Salesforce Id"),
	],
)
def test_ids_and_names_that_are_not_salesforce_ones_are_malformed(replace, by, reason):
	with pytest.raises(MalformedMessageError, match=reason):
		parse_outbound_message(envelope(notification()).replace(replace, by).encode())


# sender checks


def test_fifteen_character_organization_id_in_the_wrong_case_is_refused():
	assert not organization_matches("00d000000000001", ["00D000000000001"])


def test_eighteen_character_organization_id_matches_its_fifteen_character_form():
	assert organization_matches("00D000000000001AAA", ["00D000000000001"])


def test_eighteen_character_organization_id_is_case_insensitive():
	assert organization_matches("00D000000000001EAA", ["00d000000000001eaa"])


def test_eighteen_character_organization_id_of_another_org_differing_in_case_is_refused():
	assert not organization_matches("00D000000000001EAA", ["00d000000000001aaa"])


@pytest.mark.parametrize(
	"received", ["CORRECT-HORSE", "Correct-Horse", "correct-horse ", " correct-horse", ""]
)
def test_endpoint_token_in_another_case_or_padded_is_refused(received):
	assert not token_matches(received, "correct-horse")


def test_endpoint_token_with_non_ascii_characters_is_compared():
	assert token_matches("çorrect-hörse", "çorrect-hörse")
	assert not token_matches("correct-horse", "çorrect-hörse")
