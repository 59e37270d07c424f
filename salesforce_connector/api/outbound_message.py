"""The endpoint Salesforce posts Outbound Messages to.

It only verifies, records and acknowledges: every message is stored as Sync Log rows and the ERPNext
work runs in a background job, so Salesforce gets its Ack in milliseconds and a slow or failing
ERPNext never makes Salesforce give up on a message. Anything refused gets a SOAP fault and leaves
nothing behind; Salesforce retries a faulted message for up to 24 hours.
Reference: Salesforce Help, "Outbound Messaging" (delivery, retries and the Ack).
"""

import traceback

from werkzeug.wrappers import Response

import frappe

from salesforce_connector.constants import SETTINGS
from salesforce_connector.core.errors import MalformedMessageError, RejectedMessageError
from salesforce_connector.core.outbound_message import (
	ACK_RESPONSE,
	build_fault,
	organization_matches,
	parse_outbound_message,
	token_matches,
)
from salesforce_connector.services.sync_log import record_notifications

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
RECORD_ATTEMPTS = 3
SERVER_SIDE = "server"


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive(token: str | None = None):
	status, answer = accept_outbound_message(frappe.request.get_data(cache=True), token)
	return Response(answer, status=status, content_type=SOAP_CONTENT_TYPE)


def accept_outbound_message(body: bytes, token: str | None = None) -> tuple[int, bytes]:
	"""Verify and record a message; the HTTP status and SOAP answer to give Salesforce."""
	try:
		settings = frappe.get_cached_doc(SETTINGS)
		_check_enabled(settings)
		message = parse_outbound_message(body)
		_check_sender(settings, message, token)
	except (MalformedMessageError, RejectedMessageError) as error:
		return 500, build_fault(error.message, client_error=error.code != SERVER_SIDE)

	return _record(message)


def _record(message) -> tuple[int, bytes]:
	"""Record the message, again after a deadlock; what cannot be recorded gets a fault, not a page.

	Concurrent deliveries of one message lock the same index entries, and MariaDB ends such a wait
	by killing one transaction; that delivery tries again. Anything else is logged without the
	request (it carries a Session Id) and answered with a fault, so Salesforce delivers again later.
	"""
	for attempt in range(1, RECORD_ATTEMPTS + 1):
		try:
			record_notifications(message)
			return 200, ACK_RESPONSE
		except Exception as error:
			frappe.db.rollback()
			if attempt < RECORD_ATTEMPTS and _is_lock_conflict(error):
				continue
			frappe.log_error(title="Salesforce Outbound Message not recorded", message=_traceback_only())
			return 500, build_fault(
				"The message could not be recorded now; deliver it again later.", client_error=False
			)


def _is_lock_conflict(error: Exception) -> bool:
	# frappe.db.sql turns MariaDB's deadlock and lock-wait errors into these two
	return isinstance(error, frappe.QueryDeadlockError | frappe.QueryTimeoutError)


def _traceback_only() -> str:
	# frappe.get_traceback(with_context=True) would add the frame's locals, the message among them
	return traceback.format_exc()


def _check_enabled(settings) -> None:
	if not settings.enabled:
		raise RejectedMessageError("The Salesforce integration is disabled on this site.", code=SERVER_SIDE)


def _check_sender(settings, message, token: str | None) -> None:
	if not organization_matches(message.organization_id, settings.allowed_organization_id_list()):
		# the sender's own Id, so that an admin sees which org to allow; nothing configured is echoed
		raise RejectedMessageError(
			f"Salesforce organization {message.organization_id} is not allowed to send messages here."
		)

	expected_token = settings.get_password("endpoint_token", raise_exception=False)
	if expected_token and not token_matches(token, expected_token):
		raise RejectedMessageError("The endpoint token is missing or wrong.")
