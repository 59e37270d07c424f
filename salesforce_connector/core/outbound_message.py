"""Reading Salesforce Outbound Messages and writing the answers Salesforce expects.

An Outbound Message is a SOAP 1.1 request whose body is a `notifications` element holding up to 100
`Notification`s, each carrying one sObject with the fields the workflow rule selected.
Reference: Salesforce Help, "Outbound Messaging" and "Understanding the Outbound Messaging WSDL".
"""

import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from salesforce_connector.core.errors import MalformedMessageError
from salesforce_connector.core.salesforce_ids import CASE_SENSITIVE_LENGTH, SALESFORCE_ID, comparable_forms

logger = logging.getLogger(__name__)

SOAP_ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# A message holds at most 100 notifications; a few KB each is generous, so 4 MiB leaves room for
# wide objects while refusing bodies that only exist to exhaust memory.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_NOTIFICATIONS = 100

# An sObject's API name: custom ones end in __c and may carry a namespace prefix.
API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
UTF8_BOM = b"\xef\xbb\xbf"
XML_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

ACK_RESPONSE = (
	'<?xml version="1.0" encoding="UTF-8"?>'
	f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}">'
	"<soapenv:Body>"
	f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
	"</soapenv:Body>"
	"</soapenv:Envelope>"
).encode()


@dataclass(frozen=True)
class Notification:
	"""One sObject change inside an Outbound Message."""

	notification_id: str
	object_type: str
	fields: dict[str, str | None]
	xml: str = ""

	@property
	def record_id(self) -> str:
		return self.fields["Id"]

	def to_payload(self, message: "OutboundMessage") -> str:
		"""The JSON kept on the Sync Log: everything needed to process again, never the SessionId."""
		return json.dumps(
			{
				"organization_id": message.organization_id,
				"action_id": message.action_id,
				"notification_id": self.notification_id,
				"object_type": self.object_type,
				"fields": self.fields,
				"xml": self.xml,
			},
			indent=1,
			ensure_ascii=False,
		)


@dataclass(frozen=True)
class OutboundMessage:
	"""A parsed message. The SessionId Salesforce may send is not kept: the connector logs in on its
	own, and a session Id held in memory is one that can leak into an error report."""

	organization_id: str
	action_id: str
	enterprise_url: str | None
	partner_url: str | None
	notifications: list[Notification] = field(default_factory=list)


def parse_outbound_message(body: bytes) -> OutboundMessage:
	"""Parse a request body into an OutboundMessage, or raise MalformedMessageError saying why."""
	if not body:
		raise MalformedMessageError("The request has no body.")
	if len(body) > MAX_BODY_BYTES:
		raise MalformedMessageError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")

	envelope = _parse_xml(body)
	notifications_element = _find_notifications_element(envelope)

	organization_id = _required_id(notifications_element, "OrganizationId")
	action_id = _required_id(notifications_element, "ActionId")
	notifications = [_read_notification(element) for element in _notification_elements(notifications_element)]
	_refuse_repeated_ids(notifications)

	return OutboundMessage(
		organization_id=organization_id,
		action_id=action_id,
		enterprise_url=_optional_text(notifications_element, "EnterpriseUrl"),
		partner_url=_optional_text(notifications_element, "PartnerUrl"),
		notifications=notifications,
	)


def organization_matches(received_id: str, allowed_ids: list[str]) -> bool:
	"""Whether the sending organization is one of the allowed ones.

	Salesforce sends the OrganizationId in 15 or 18 characters depending on the org and API version;
	see `comparable_forms` for how the two forms compare. Every allowed Id is compared, in constant
	time, with no early exit that would tell an attacker which one came close.
	"""
	matched = False
	for allowed in allowed_ids:
		received, candidate = comparable_forms(received_id, allowed)
		if len(candidate) >= CASE_SENSITIVE_LENGTH and hmac.compare_digest(
			received.encode(), candidate.encode()
		):
			matched = True
	return matched


def token_matches(received: str | None, expected: str) -> bool:
	return hmac.compare_digest((received or "").encode(), expected.encode())


def build_fault(reason: str, *, client_error: bool = True) -> bytes:
	"""A SOAP 1.1 fault; Salesforce treats anything but an Ack as a failure and retries later."""
	code = "soapenv:Client" if client_error else "soapenv:Server"
	return (
		'<?xml version="1.0" encoding="UTF-8"?>'
		f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}"><soapenv:Body><soapenv:Fault>'
		f"<faultcode>{code}</faultcode><faultstring>{escape(reason)}</faultstring>"
		"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
	).encode()


def _parse_xml(body: bytes) -> Element:
	# expat understands a UTF-8 byte-order mark on bytes input; real Salesforce proxies and some
	# middleware prepend one, so it must not turn into a fault.
	_refuse_conflicting_encoding(body)
	try:
		return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
	except DefusedXmlException as error:
		raise MalformedMessageError("XML with a DTD or entity declarations is refused.") from error
	except ParseError as error:
		raise MalformedMessageError(f"The request is not well-formed XML ({error}).") from error
	except (ValueError, LookupError) as error:
		# expat reads UTF-8, UTF-16 and the single-byte encodings; Shift_JIS and the like are refused
		raise MalformedMessageError(f"The request's character encoding cannot be read ({error}).") from error


def _refuse_conflicting_encoding(body: bytes) -> None:
	"""A UTF-8 byte-order mark before a declaration of another encoding is a fatal error (XML 1.0,
	section 4.3.3); reading on would store every accented letter wrongly."""
	if not body.startswith(UTF8_BOM):
		return

	declared = XML_DECLARED_ENCODING.match(body[len(UTF8_BOM) :])
	if declared and declared.group(1).decode().lower().replace("_", "-") not in ("utf-8", "utf8"):
		raise MalformedMessageError(
			"The request starts with a UTF-8 byte-order mark but declares another encoding."
		)


def _find_notifications_element(envelope: Element) -> Element:
	if envelope.tag != f"{{{SOAP_ENVELOPE_NS}}}Envelope":
		raise MalformedMessageError("The request is not a SOAP 1.1 envelope.")

	body = envelope.find(f"{{{SOAP_ENVELOPE_NS}}}Body")
	if body is None:
		raise MalformedMessageError("The SOAP envelope has no Body.")

	notifications = body.findall(f"{{{OUTBOUND_NS}}}notifications")
	if not notifications:
		raise MalformedMessageError("The SOAP Body holds no Salesforce notifications element.")
	if len(notifications) > 1:
		raise MalformedMessageError("The SOAP Body holds more than one notifications element.")
	return notifications[0]


def _notification_elements(notifications_element: Element) -> list[Element]:
	elements = notifications_element.findall(f"{{{OUTBOUND_NS}}}Notification")
	if not elements:
		raise MalformedMessageError("The message holds no Notification.")
	if len(elements) > MAX_NOTIFICATIONS:
		raise MalformedMessageError(f"The message holds more than {MAX_NOTIFICATIONS} notifications.")
	return elements


def _refuse_repeated_ids(notifications: list[Notification]) -> None:
	seen: set[str] = set()
	for notification in notifications:
		if notification.notification_id in seen:
			raise MalformedMessageError(
				f"Notification Id {notification.notification_id} appears twice in one message."
			)
		seen.add(notification.notification_id)


def _read_notification(element: Element) -> Notification:
	notification_id = _required_id(element, "Id")

	sobject = element.find(f"{{{OUTBOUND_NS}}}sObject")
	if sobject is None:
		raise MalformedMessageError(f"Notification {notification_id} has no sObject.")

	object_type = _object_type(sobject, notification_id)
	fields = _sobject_fields(sobject, notification_id)
	if not fields.get("Id"):
		raise MalformedMessageError(f"Notification {notification_id} carries a record without an Id.")
	if not SALESFORCE_ID.fullmatch(fields["Id"]):
		raise MalformedMessageError(
			f"Notification {notification_id} carries a record Id that is not a Salesforce Id."
		)

	return Notification(
		notification_id=notification_id,
		object_type=object_type,
		fields=fields,
		xml=tostring(element, encoding="unicode"),
	)


def _object_type(sobject: Element, notification_id: str) -> str:
	declared = sobject.get(f"{{{XSI_NS}}}type") or ""
	object_type = declared.rpartition(":")[2]
	if not object_type:
		raise MalformedMessageError(f"Notification {notification_id} does not say which object it carries.")
	if not API_NAME.fullmatch(object_type):
		raise MalformedMessageError(
			f"Notification {notification_id} names an object that is not an API name."
		)
	return object_type


def _sobject_fields(sobject: Element, notification_id: str) -> dict[str, str | None]:
	"""Field name → text. Outbound Messages leave null fields out; an explicit xsi:nil reads as None.

	A field is plain text: an Outbound Message carries no related records, so a field holding
	elements is refused before anything walks into it.
	"""
	fields: dict[str, str | None] = {}
	for child in sobject:
		name = _local_name(child.tag)
		if len(child):
			raise MalformedMessageError(
				f"Notification {notification_id}: field {name} holds elements, not a value."
			)
		if name in fields:
			# Salesforce writes each selected field once; with two, which one wins would be a guess,
			# and a second Id would move the change onto another record
			raise MalformedMessageError(f"Notification {notification_id}: field {name} appears twice.")
		if child.get(f"{{{XSI_NS}}}nil") == "true":
			fields[name] = None
		else:
			fields[name] = (child.text or "").strip()
	return fields


def _required_id(parent: Element, name: str) -> str:
	text = _required_text(parent, name)
	if not SALESFORCE_ID.fullmatch(text):
		raise MalformedMessageError(
			f"The message's {name} is not a Salesforce Id (15 or 18 letters and digits)."
		)
	return text


def _required_text(parent: Element, name: str) -> str:
	text = _optional_text(parent, name)
	if not text:
		raise MalformedMessageError(f"The message has no {name}.")
	return text


def _optional_text(parent: Element, name: str) -> str | None:
	child = parent.find(f"{{{OUTBOUND_NS}}}{name}")
	if child is None or child.get(f"{{{XSI_NS}}}nil") == "true":
		return None
	return (child.text or "").strip() or None


def _local_name(tag: str) -> str:
	return tag.rpartition("}")[2]
