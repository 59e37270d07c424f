"""The endpoint Salesforce posts Outbound Messages to.

It only verifies, records and acknowledges: every message is stored as Sync Log rows and the ERPNext
work runs in a background job, so Salesforce gets its Ack in milliseconds and a slow or failing
ERPNext never makes Salesforce give up on a message. Anything refused gets a SOAP fault and leaves
nothing behind; Salesforce retries a faulted message for up to 24 hours.
Reference: Salesforce Help, "Outbound Messaging" (delivery, retries and the Ack).
"""

from werkzeug.wrappers import Response

import frappe

from salesforce_connector.constants import SETTINGS
from salesforce_connector.core.errors import MalformedMessageError, RejectedMessageError
from salesforce_connector.core.outbound_message import (
	ACK_RESPONSE,
	MAX_BODY_BYTES,
	build_fault,
	organization_matches,
	parse_outbound_message,
	token_matches,
)
from salesforce_connector.services.sync_log import record_notifications

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
SERVER_SIDE = "server"


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive(token: str | None = None):
	try:
		settings = frappe.get_cached_doc(SETTINGS)
		_check_enabled(settings)
		message = parse_outbound_message(_request_body())
		_check_sender(settings, message, token)
	except (MalformedMessageError, RejectedMessageError) as error:
		return _soap_response(build_fault(error.message, client_error=error.code != SERVER_SIDE), status=500)

	record_notifications(message)
	return _soap_response(ACK_RESPONSE)


def _request_body() -> bytes:
	# Frappe has already read the body (up to its own upload limit) to build form_dict; refuse by the
	# declared length first so that an oversized body is not copied again.
	declared = frappe.request.content_length or 0
	if declared > MAX_BODY_BYTES:
		raise MalformedMessageError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
	return frappe.request.get_data(cache=True)


def _check_enabled(settings) -> None:
	if not settings.enabled:
		raise RejectedMessageError("The Salesforce integration is disabled on this site.", code=SERVER_SIDE)


def _check_sender(settings, message, token: str | None) -> None:
	if not organization_matches(message.organization_id, settings.allowed_organization_id_list()):
		raise RejectedMessageError("This Salesforce organization is not allowed to send messages here.")

	expected_token = settings.get_password("endpoint_token", raise_exception=False)
	if expected_token and not token_matches(token, expected_token):
		raise RejectedMessageError("The endpoint token is missing or wrong.")


def _soap_response(body: bytes, status: int = 200) -> Response:
	return Response(body, status=status, content_type=SOAP_CONTENT_TYPE)
