"""Background processing of Sync Log rows made from Outbound Messages.

Jobs never throw at a user: every outcome, including an unexpected error, ends on the row, where an
admin reads it and presses Retry.
"""

import json
from datetime import timedelta

import frappe
from frappe.utils import now_datetime, strip_html

from salesforce_connector.constants import (
	DUPLICATE,
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
from salesforce_connector.services.outcome import Outcome
from salesforce_connector.services.sync_log import (
	enqueue_processing,
	fit_text,
	last_applied_modstamp,
	last_success_with_fields,
	mark_failed,
)

# A job takes only a queued row: a retry (the sweep's or a person's) queues the row first, so a
# job left over from an earlier delivery never runs a failed row a second time on its own.
PROCESSABLE = (QUEUED,)
# A queued row older than this was lost on its way to Redis; the sweep picks it up.
LOST_JOB_AFTER = timedelta(minutes=5)
# A row still Processing after this lost its worker (a restart, a killed job); it is queued again.
STUCK_AFTER = timedelta(minutes=30)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_AUTOMATIC_ATTEMPTS = len(RETRY_DELAYS) + 1
# Objects whose processing reads nothing but the message; an Opportunity is read again over REST.
PROCESSED_FROM_MESSAGE_ALONE = ("Lead", "Account", "Contact")


def process_sync_log(log_name: str) -> None:
	"""Process one row; safe to call again for a row that is already done."""
	try:
		_take_row(log_name)
	finally:
		_forget_finished_saves()


def _take_row(log_name: str) -> None:
	if frappe.db.get_value(SYNC_LOG, log_name, "status") not in PROCESSABLE:
		return

	_act_as(frappe.get_cached_doc(SETTINGS).integration_user or "Administrator")

	with record_lock(frappe.db.get_value(SYNC_LOG, log_name, "salesforce_id")):
		log = frappe.get_doc(SYNC_LOG, log_name, for_update=True)
		if log.status not in PROCESSABLE:
			return
		_start_attempt(log)
		_run(log)


def _forget_finished_saves() -> None:
	# Frappe lists the documents being saved in frappe.flags.currently_saving and looks through the
	# list on every save and db_set (frappe/model/document.py). An insert adds its document before
	# naming it and removes it by its new name, so every insert leaves an entry behind, as does a
	# save that raised. A worker starts each job with fresh flags; a backfill, a replay or a resync
	# runs thousands of jobs in one process, where the list grew by a few entries a record and each
	# record took longer than the one before. Between two jobs no document is being saved.
	frappe.flags.currently_saving = []


def _act_as(user: str) -> None:
	# set_user empties this process's cache of doctype metas and defaults; a backfill calls the job
	# once a record, and reading them all again from Redis each time made it a fifth slower
	if frappe.session.user != user:
		frappe.set_user(user)


def process_due_logs() -> None:
	"""Scheduled sweep: rows whose job was lost, and retryable failures whose wait is over."""
	now = now_datetime()
	lost = frappe.get_all(
		SYNC_LOG, filters={"status": QUEUED, "modified": ["<", now - LOST_JOB_AFTER]}, pluck="name"
	)
	# Frappe reads a blank date as the earliest one in comparisons, so "set" must be said apart: a
	# permanent failure has no retry time and waits for a person.
	due = frappe.get_all(
		SYNC_LOG,
		filters=[
			[SYNC_LOG, "status", "=", FAILED],
			[SYNC_LOG, "next_retry_at", "is", "set"],
			[SYNC_LOG, "next_retry_at", "<=", now],
		],
		pluck="name",
		limit=500,
	)
	stuck = frappe.get_all(
		SYNC_LOG, filters={"status": PROCESSING, "modified": ["<", now - STUCK_AFTER]}, pluck="name"
	)
	for log_name in due + stuck:
		frappe.db.set_value(SYNC_LOG, log_name, "status", QUEUED)
	for log_name in lost + due + stuck:
		enqueue_processing(log_name)


def _start_attempt(log) -> None:
	log.db_set({"status": PROCESSING, "attempts": log.attempts + 1, "error": None, "next_retry_at": None})
	frappe.db.commit()  # nosemgrep: the attempt must stay counted even if the work below rolls back


def _run(log) -> None:
	payload = json.loads(log.payload)
	already_seen = _version_already_seen(log, payload["fields"])
	if already_seen:
		status, reason, twin = already_seen
		_finish(log, status, reason, outcome=_same_outcome_as(twin) if twin else None)
		return

	try:
		outcome = process_notification(payload["object_type"], payload["fields"], log)
	except RetryableSalesforceError as error:
		_fail(log, f"Salesforce is not available right now, will retry: {error.message}", retry=True)
	except ConnectorError as error:
		_fail(log, error.message)
	except (frappe.DuplicateEntryError, frappe.UniqueValidationError) as error:
		# another worker made the same document a moment ago; the next attempt finds and links it
		_fail(
			log,
			f"Another job made this document at the same moment, will retry: {_frappe_message(error)}",
			retry=True,
		)
	except frappe.PermissionError as error:
		_fail(log, f"The integration user {frappe.session.user} is not permitted: {_frappe_message(error)}")
	except frappe.ValidationError as error:
		_fail(log, _frappe_message(error))
	except Exception as error:
		_fail(log, f"Unexpected error: {error!r}", traceback=frappe.get_traceback())
	else:
		_finish(log, outcome.status, error=outcome.reason, outcome=outcome)


def _version_already_seen(log, fields: dict) -> tuple | None:
	"""(status, reason, twin row) when another row already applied this version or a newer one."""
	applied = last_applied_modstamp(log.salesforce_object, log.salesforce_id, excluding=log.name)
	if log.salesforce_modstamp and is_stale(log.salesforce_modstamp, applied):
		reason = (
			f"Stale: this version ({log.salesforce_modstamp}) is older than the one already "
			f"applied ({applied})."
		)
		return SKIPPED, reason, None

	# Equal modstamps alone prove nothing: SystemModstamp has whole seconds, and two saves in one
	# second share it. Equal content does: a Lead, Account or Contact is processed from the message
	# alone, so the same fields again cannot change anything.
	if log.salesforce_object in PROCESSED_FROM_MESSAGE_ALONE:
		twin = last_success_with_fields(log.salesforce_object, log.salesforce_id, fields, excluding=log.name)
		if twin:
			return (
				DUPLICATE,
				f"The same fields were already applied by Sync Log {twin.name}; nothing new to do.",
				twin,
			)
	return None


def _same_outcome_as(twin) -> Outcome:
	return Outcome(DUPLICATE, reference_doctype=twin.reference_doctype, reference_name=twin.reference_name)


def _finish(log, status: str, error: str | None = None, *, outcome=None) -> None:
	"""Record the outcome; a success's description leads the notes, the error field is for trouble."""
	values = {"status": status, "error": fit_text(error), "processed_at": now_datetime()}
	if outcome is not None:
		notes = list(outcome.notes)
		if status == SUCCESS:
			notes.insert(0, outcome.reason)
			values["error"] = None
		values.update(
			{
				"reference_doctype": outcome.reference_doctype,
				"reference_name": outcome.reference_name,
				"notes": fit_text("\n".join(filter(None, notes)) or None),
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
