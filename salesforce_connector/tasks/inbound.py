"""Background processing of Sync Log rows made from Outbound Messages.

Jobs never throw at a user: every outcome, including an unexpected error, ends on the row, where an
admin reads it and presses Retry.
"""

import json
from datetime import timedelta

import frappe
from frappe.utils import now_datetime, strip_html

from salesforce_connector.constants import (
	FAILED,
	PROCESSING,
	QUEUED,
	SETTINGS,
	SKIPPED,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.errors import ConnectorError, RetryableSalesforceError
from salesforce_connector.core.freshness import is_stale
from salesforce_connector.services import record_lock
from salesforce_connector.services.inbound import process_notification
from salesforce_connector.services.sync_log import enqueue_processing, last_applied_modstamp, mark_failed

PROCESSABLE = (QUEUED, FAILED)
# A queued row older than this was lost on its way to Redis; the sweep picks it up.
LOST_JOB_AFTER = timedelta(minutes=5)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_AUTOMATIC_ATTEMPTS = len(RETRY_DELAYS) + 1


def process_sync_log(log_name: str) -> None:
	"""Process one row; safe to call again for a row that is already done."""
	if frappe.db.get_value(SYNC_LOG, log_name, "status") not in PROCESSABLE:
		return

	settings = frappe.get_cached_doc(SETTINGS)
	frappe.set_user(settings.integration_user or "Administrator")

	with record_lock(frappe.db.get_value(SYNC_LOG, log_name, "salesforce_id")):
		log = frappe.get_doc(SYNC_LOG, log_name, for_update=True)
		if log.status not in PROCESSABLE:
			return
		_start_attempt(log)
		_run(log)


def process_due_logs() -> None:
	"""Scheduled sweep: rows whose job was lost, and retryable failures whose wait is over."""
	now = now_datetime()
	lost = frappe.get_all(
		SYNC_LOG, filters={"status": QUEUED, "modified": ["<", now - LOST_JOB_AFTER]}, pluck="name"
	)
	due = frappe.get_all(
		SYNC_LOG, filters={"status": FAILED, "next_retry_at": ["<=", now]}, pluck="name", limit=500
	)
	for log_name in lost + due:
		enqueue_processing(log_name)


def _start_attempt(log) -> None:
	log.db_set({"status": PROCESSING, "attempts": log.attempts + 1, "error": None, "next_retry_at": None})
	frappe.db.commit()  # nosemgrep: the attempt must stay counted even if the work below rolls back


def _run(log) -> None:
	payload = json.loads(log.payload)
	stale_reason = _stale_reason(log)
	if stale_reason:
		_finish(log, SKIPPED, error=stale_reason)
		return

	try:
		outcome = process_notification(payload["object_type"], payload["fields"], log)
	except RetryableSalesforceError as error:
		_fail(log, f"Salesforce is not available right now, will retry: {error.message}", retry=True)
	except ConnectorError as error:
		_fail(log, error.message)
	except frappe.ValidationError as error:
		_fail(log, _frappe_message(error))
	except Exception as error:
		_fail(log, f"Unexpected error: {error!r}", traceback=frappe.get_traceback())
	else:
		_finish(log, outcome.status, error=outcome.reason, outcome=outcome)


def _stale_reason(log) -> str | None:
	applied = last_applied_modstamp(log.salesforce_object, log.salesforce_id, excluding=log.name)
	if log.salesforce_modstamp and is_stale(log.salesforce_modstamp, applied):
		return (
			f"Stale: this version ({log.salesforce_modstamp} UTC) is older than the one already "
			f"applied ({applied} UTC)."
		)
	return None


def _finish(log, status: str, *, error: str | None = None, outcome=None) -> None:
	"""Record the outcome; a success's description leads the notes, the error field is for trouble."""
	values = {"status": status, "error": error, "processed_at": now_datetime()}
	if outcome is not None:
		notes = list(outcome.notes)
		if status == SUCCESS:
			notes.insert(0, outcome.reason)
			values["error"] = None
		values.update(
			{
				"reference_doctype": outcome.reference_doctype,
				"reference_name": outcome.reference_name,
				"notes": "\n".join(filter(None, notes)) or None,
			}
		)
		if outcome.applied_modstamp:
			values["salesforce_modstamp"] = outcome.applied_modstamp
	log.db_set(values)
	frappe.db.commit()  # nosemgrep: a job's outcome is committed row by row


def _fail(log, message: str, *, retry: bool = False, traceback: str | None = None) -> None:
	frappe.db.rollback()
	log.reload()
	retry_at = _next_retry_at(log.attempts) if retry else None
	mark_failed(log, message, traceback=traceback, retry_at=retry_at)
	frappe.db.commit()  # nosemgrep: a job's outcome is committed row by row


def _next_retry_at(attempts: int):
	if attempts >= MAX_AUTOMATIC_ATTEMPTS:
		return None
	return now_datetime() + RETRY_DELAYS[attempts - 1]


def _frappe_message(error: Exception) -> str:
	return strip_html(str(error)).strip() or error.__class__.__name__
