"""Writing Salesforce Sync Log rows: one per notification received, one per action taken."""

import json
import re

import frappe
from frappe.utils import convert_utc_to_system_timezone, now_datetime

from salesforce_connector.constants import (
	DUPLICATE,
	FAILED,
	INBOUND,
	QUEUED,
	SKIPPED,
	SUCCESS,
	SUPPORTED_OBJECTS,
	SYNC_LOG,
)
from salesforce_connector.core.freshness import parse_salesforce_datetime
from salesforce_connector.core.outbound_message import Notification, OutboundMessage

PROCESS_METHOD = "salesforce_connector.tasks.inbound.process_sync_log"
# Small Text columns hold 65,535 bytes; a reason an admin reads is far shorter than that.
MAX_TEXT = 4000
# a stretch of a message with no quote, bracket or colon in it: a quoted value, not the wording
LONG_RUN = re.compile(r"[^'\"():]{300,}")


def record_notifications(message: OutboundMessage) -> None:
	"""One row per new notification, queued for processing after commit; a redelivery is counted."""
	for notification in message.notifications:
		if count_redelivery(notification.notification_id):
			continue

		log = _insert_inbound_log(message, notification)
		if log is not None and log.status == QUEUED:
			enqueue_processing(log.name)


def count_redelivery(notification_id: str) -> bool:
	"""Count one more delivery of a notification already recorded; False when there is none.

	An UPDATE reads the newest committed row and waits for one being inserted by a concurrent
	delivery, where a SELECT would answer from this transaction's older snapshot.
	"""
	table = frappe.qb.DocType(SYNC_LOG)
	frappe.qb.update(table).set(table.delivery_count, table.delivery_count + 1).where(
		table.notification_id == notification_id
	).run()
	return frappe.db.sql("SELECT ROW_COUNT()")[0][0] > 0


def enqueue_processing(log_name: str) -> None:
	"""Queue the job once the row is committed; if Redis is down, the five-minute sweep finds it."""
	frappe.db.after_commit.add(lambda: _enqueue_safely(log_name))


def _enqueue_safely(log_name: str) -> None:
	try:
		frappe.enqueue(
			PROCESS_METHOD,
			queue="short",
			job_id=f"salesforce-sync-log-{log_name}",
			deduplicate=True,
			log_name=log_name,
		)
	except Exception:
		frappe.log_error(title="Salesforce Sync Log could not be queued", reference_doctype=SYNC_LOG)


def _insert_inbound_log(message: OutboundMessage, notification: Notification):
	skip_reason = _skip_reason(notification)
	log = frappe.get_doc(
		{
			"doctype": SYNC_LOG,
			"direction": INBOUND,
			"status": SKIPPED if skip_reason else QUEUED,
			"error": skip_reason,
			"salesforce_object": notification.object_type,
			"salesforce_id": notification.fields.get("Id"),
			"notification_id": notification.notification_id,
			"action_id": message.action_id,
			"organization_id": message.organization_id,
			"salesforce_modstamp": site_datetime(notification.fields.get("SystemModstamp")),
			"delivery_count": 1,
			"payload": notification.to_payload(message),
		}
	)

	# A concurrent delivery of the same notification may insert first; the unique notification Id
	# makes the loser a counted redelivery instead of an error Salesforce would retry.
	savepoint = "salesforce_sync_log_insert"
	frappe.db.savepoint(savepoint)
	try:
		log.insert(ignore_permissions=True)
	except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
		frappe.db.rollback(save_point=savepoint)
		count_redelivery(notification.notification_id)
		return None
	return log


def _skip_reason(notification: Notification) -> str | None:
	if notification.object_type not in SUPPORTED_OBJECTS:
		supported = ", ".join(SUPPORTED_OBJECTS)
		return f"{notification.object_type} is not an object the connector handles ({supported})."
	return None


def site_datetime(salesforce_datetime: str | None):
	"""A Salesforce datetime as Frappe keeps datetimes: naive, in the site's time zone.

	Stored that way, Desk shows the moment right, and rows compare with each other as they should.
	"""
	parsed = parse_salesforce_datetime(salesforce_datetime)
	if parsed is None:
		return None
	return convert_utc_to_system_timezone(parsed).replace(tzinfo=None)


def last_applied_modstamp(salesforce_object: str, salesforce_id: str, *, excluding: str | None = None):
	"""The newest version of this record that a successful row applied, if any."""
	filters = {
		"salesforce_object": salesforce_object,
		"salesforce_id": salesforce_id,
		"status": ["in", [SUCCESS, DUPLICATE]],
		"salesforce_modstamp": ["is", "set"],
	}
	if excluding:
		filters["name"] = ["!=", excluding]
	rows = frappe.get_all(
		SYNC_LOG,
		filters=filters,
		fields=["salesforce_modstamp"],
		order_by="salesforce_modstamp desc",
		limit=1,
	)
	return rows[0].salesforce_modstamp if rows else None


def last_success_with_fields(salesforce_object: str, salesforce_id: str, fields: dict, *, excluding: str):
	"""The newest successful row for this record whose message carried exactly these fields."""
	rows = frappe.get_all(
		SYNC_LOG,
		filters={
			"salesforce_object": salesforce_object,
			"salesforce_id": salesforce_id,
			"status": SUCCESS,
			"name": ["!=", excluding],
		},
		fields=["name", "payload", "reference_doctype", "reference_name"],
		order_by="creation desc",
		limit=5,
	)
	for row in rows:
		if row.payload and json.loads(row.payload).get("fields") == fields:
			return row
	return None


def fit_text(text: str | None, limit: int = MAX_TEXT) -> str | None:
	"""Cut a reason to what the row keeps, so that it still says what went wrong.

	Frappe's messages quote the offending value and name the field around it ("Customer <name>:
	'Customer Name' (<value>) will get truncated..."); a 70,000-character value is shortened where
	it stands, then what is still too long keeps its start and its end.
	"""
	if text is None or len(text) <= limit:
		return text

	text = LONG_RUN.sub(lambda run: f"{run.group()[:100]}… ({len(run.group())} characters)", text)
	if len(text) <= limit:
		return text
	keep = (limit - 60) // 2
	return f"{text[:keep]} … ({len(text) - 2 * keep} characters left out) … {text[-keep:]}"


def mark_failed(log, message: str, *, traceback: str | None = None, retry_at=None) -> None:
	log.db_set(
		{
			"status": FAILED,
			"error": fit_text(message),
			"traceback": traceback,
			"next_retry_at": retry_at,
			"processed_at": now_datetime(),
		},
		update_modified=True,
	)
