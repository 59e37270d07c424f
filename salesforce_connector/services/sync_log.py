"""Writing Salesforce Sync Log rows: one per notification received, one per action taken."""

import json

import frappe
from frappe.utils import now_datetime

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


def record_notifications(message: OutboundMessage) -> None:
	"""One row per new notification, queued for processing after commit; a redelivery is counted."""
	for notification in message.notifications:
		existing = frappe.db.get_value(SYNC_LOG, {"notification_id": notification.notification_id})
		if existing:
			count_redelivery(existing)
			continue

		log = _insert_inbound_log(message, notification)
		if log is None:
			continue
		if log.status == QUEUED:
			enqueue_processing(log.name)


def count_redelivery(log_name: str) -> None:
	# An increment in SQL, so that two deliveries arriving together are both counted.
	table = frappe.qb.DocType(SYNC_LOG)
	frappe.qb.update(table).set(table.delivery_count, table.delivery_count + 1).where(
		table.name == log_name
	).run()


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
			"salesforce_modstamp": utc_naive(notification.fields.get("SystemModstamp")),
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
	except frappe.UniqueValidationError:
		frappe.db.rollback(save_point=savepoint)
		count_redelivery(frappe.db.get_value(SYNC_LOG, {"notification_id": notification.notification_id}))
		return None
	return log


def _skip_reason(notification: Notification) -> str | None:
	if notification.object_type not in SUPPORTED_OBJECTS:
		supported = ", ".join(SUPPORTED_OBJECTS)
		return f"{notification.object_type} is not an object the connector handles ({supported})."
	return None


def utc_naive(salesforce_datetime: str | None):
	"""Frappe stores datetimes without a zone; Sync Log modstamps are kept in UTC."""
	parsed = parse_salesforce_datetime(salesforce_datetime)
	return parsed.replace(tzinfo=None) if parsed else None


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


def mark_failed(log, message: str, *, traceback: str | None = None, retry_at=None) -> None:
	log.db_set(
		{
			"status": FAILED,
			"error": message,
			"traceback": traceback,
			"next_retry_at": retry_at,
			"processed_at": now_datetime(),
		},
		update_modified=True,
	)
