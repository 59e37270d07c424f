"""The outbox: document events mark Salesforce records for refreshing; nothing else happens in them.

Each Salesforce record has one outbound Sync Log row, found by its `outbox_key`. An event sets it
Pending (or makes it), counts the change and, once the transaction commits, asks for a flush. Ten
events on one order before the flush make one write, and a flush reads ERPNext afresh, so it never
writes a value older than the last event it saw.
"""

import time

import frappe
from frappe import _
from frappe.utils import now_datetime

from salesforce_connector.constants import (
	FAILED,
	OUTBOUND,
	PENDING,
	PROCESSING,
	QUEUED,
	SKIPPED,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.writeback import outbox_key
from salesforce_connector.services.writeback.facts import records_touched_by

FLUSH_METHOD = "salesforce_connector.tasks.outbound.flush_outbox"
FLUSH_JOB_ID = "salesforce-outbox-flush"
# the flush may wait a few seconds for a burst of changes to settle; the short queue is for quick jobs
FLUSH_QUEUE = "long"
# A process asks Redis for a flush at most this often. It is shorter than the flush's settle time
# (tasks.outbound.SETTLE), so a flush this process queued is still waiting, and sees the new rows.
ENQUEUE_EVERY = 2.0
_last_enqueued: dict[str, float] = {}

# NOTE: one statement, by primary key, so that the row lock taken here is the only lock an event
# holds on the outbox; a flush skips locked rows instead of waiting for the submit to commit.
# MariaDB assigns left to right and later expressions see earlier assignments, so status goes last.
_TOUCH = f"""
	update `tab{SYNC_LOG}` set
		attempts = if(status in ('Pending', 'Processing'), attempts, 0),
		pending_since = if(status in ('Pending', 'Processing'), pending_since, %(now)s),
		next_retry_at = if(status = 'Pending', next_retry_at, null),
		change_count = change_count + 1,
		last_written = if(%(rewrite)s, null, last_written),
		reference_doctype = %(doctype)s,
		reference_name = %(docname)s,
		modified = %(now)s,
		modified_by = %(user)s,
		status = 'Pending'
	where name = %(name)s
"""


def on_document_event(doc, method=None) -> None:
	"""doc_events handler: mark the Opportunity and Account this document feeds."""
	if doc.docstatus == 0 or _seen_in_this_transaction(doc):
		return

	try:
		records = records_touched_by(doc)
	except Exception:
		# reading links must never stop a submit; the next event of the record marks it again
		frappe.log_error(
			title="Salesforce write-back could not find its records",
			reference_doctype=doc.doctype,
			reference_name=doc.name,
		)
		return

	for salesforce_object, salesforce_id in records:
		mark_record(salesforce_object, salesforce_id, doc.doctype, doc.name, rewrite=False)


def _seen_in_this_transaction(doc) -> bool:
	"""A document's records are marked once per transaction; closing an order fires on_change twice.

	Marks are kept per document, not per record: a bulk action that rolls one document back to a
	savepoint still marks the records of the next document it submits.
	"""
	seen = frappe.flags.salesforce_marked_documents
	if seen is None:
		seen = frappe.flags.salesforce_marked_documents = set()
		frappe.db.after_commit.add(_forget_marked_documents)
		frappe.db.after_rollback.add(_forget_marked_documents)

	key = (doc.doctype, doc.name)
	if key in seen:
		return True
	seen.add(key)
	return False


def _forget_marked_documents() -> None:
	frappe.flags.salesforce_marked_documents = None


def mark_record(
	salesforce_object: str,
	salesforce_id: str,
	doctype: str | None = None,
	docname: str | None = None,
	*,
	rewrite: bool = True,
) -> None:
	"""Record that one Salesforce record needs refreshing, and ask for a flush after commit.

	With `rewrite`, every mapped field is sent again, not only those changed since the last write:
	a person (or a reconciliation) who asks for a record to be written again has seen Salesforce
	hold something else. Document events pass False.
	"""
	key = outbox_key(salesforce_object, salesforce_id)
	# a plain read, which locks nothing: an update of a key that is not there yet would lock the
	# index gap, and two submits inserting into one gap deadlock
	existing = frappe.db.sql(f"select name from `tab{SYNC_LOG}` where outbox_key = %s", key)
	if existing:
		_touch(existing[0][0], doctype, docname, rewrite)
	else:
		_insert_or_touch(key, salesforce_object, salesforce_id, doctype, docname, rewrite)
	request_flush()


def _touch(name: str, doctype: str | None, docname: str | None, rewrite: bool) -> None:
	frappe.db.sql(
		_TOUCH,
		{
			"rewrite": int(rewrite),
			"name": name,
			"now": now_datetime(),
			"user": frappe.session.user,
			"doctype": doctype,
			"docname": docname,
		},
	)


def _insert_or_touch(
	key: str, salesforce_object: str, salesforce_id: str, doctype, docname, rewrite: bool
) -> None:
	log = frappe.get_doc(
		{
			"doctype": SYNC_LOG,
			"direction": OUTBOUND,
			"status": PENDING,
			"salesforce_object": salesforce_object,
			"salesforce_id": salesforce_id,
			"outbox_key": key,
			"pending_since": now_datetime(),
			"change_count": 1,
			"reference_doctype": doctype,
			"reference_name": docname,
		}
	)

	# two submits may mark a new record together; the unique key makes the second one a touch
	savepoint = "salesforce_outbox_insert"
	frappe.db.savepoint(savepoint)
	try:
		log.insert(ignore_permissions=True)
	except frappe.UniqueValidationError:
		frappe.db.rollback(save_point=savepoint)
		_touch(frappe.db.get_value(SYNC_LOG, {"outbox_key": key}), doctype, docname, rewrite)


def request_flush() -> None:
	"""Queue one flush when this transaction commits; a lost job is found by the scheduler."""
	if frappe.flags.salesforce_flush_requested:
		return

	frappe.flags.salesforce_flush_requested = True
	frappe.db.after_commit.add(_enqueue_flush)
	frappe.db.after_rollback.add(_forget_flush_request)


def _enqueue_flush() -> None:
	_forget_flush_request()
	site = frappe.local.site
	if time.monotonic() - _last_enqueued.get(site, -ENQUEUE_EVERY) < ENQUEUE_EVERY:
		return

	try:
		frappe.enqueue(FLUSH_METHOD, queue=FLUSH_QUEUE, job_id=FLUSH_JOB_ID, deduplicate=True)
	except Exception:
		frappe.log_error(title="Salesforce write-back flush could not be queued", reference_doctype=SYNC_LOG)
	else:
		_last_enqueued[site] = time.monotonic()


def _forget_flush_request() -> None:
	frappe.flags.salesforce_flush_requested = False


def on_sync_log_change(doc, method=None) -> None:
	"""Retry, single or bulk, sets a row Queued; an outbound row goes back to the outbox instead.

	NOTE: the Sync Log's Retry queues the inbound job for the row; that job leaves a row alone once
	it is no longer Queued, so setting it Pending here is all an outbound retry needs.
	"""
	if doc.direction != OUTBOUND or doc.status != QUEUED:
		return

	# a person asked for this record again: send every field, whatever was written last
	doc.db_set(
		{
			"status": PENDING,
			"pending_since": now_datetime(),
			"next_retry_at": None,
			"attempts": 0,
			"last_written": None,
		},
		update_modified=True,
	)
	request_flush()


# the Sales Order form

STATE_LABELS = {
	PENDING: ("Pending", "orange"),
	PROCESSING: ("Pending", "orange"),
	SUCCESS: ("Synced", "green"),
	SKIPPED: ("Synced", "green"),
	FAILED: ("Failed", "red"),
}


@frappe.whitelist()
def sales_order_sync_state(sales_order: str) -> dict | None:
	"""What the Sales Order form shows: the state of its Opportunity's and Account's outbound rows."""
	order = frappe.get_doc("Sales Order", sales_order)
	order.check_permission("read")
	if order.docstatus == 0:
		return None

	ids = [record_id for _sobject, record_id in records_touched_by(order)]
	if not ids:
		return {"label": _("Not linked"), "colour": "gray", "salesforce_ids": [], "rows": []}

	rows = frappe.get_all(
		SYNC_LOG,
		filters={"direction": OUTBOUND, "salesforce_id": ["in", ids]},
		fields=["status", "salesforce_object", "salesforce_id", "processed_at", "error"],
	)
	label, colour = _worst_state(rows)
	can_read_logs = frappe.has_permission(SYNC_LOG, "read")
	return {
		"label": _(label),
		"colour": colour,
		"salesforce_ids": ids,
		"rows": [
			{
				"salesforce_object": row.salesforce_object,
				"salesforce_id": row.salesforce_id,
				"status": row.status,
				"processed_at": row.processed_at,
				"error": row.error if can_read_logs else None,
			}
			for row in rows
		],
	}


def _worst_state(rows) -> tuple[str, str]:
	if not rows:
		return "Not written yet", "gray"
	states = [STATE_LABELS.get(row.status, ("Pending", "orange")) for row in rows]
	for wanted in ("Failed", "Pending"):
		found = next((state for state in states if state[0] == wanted), None)
		if found:
			return found
	return states[0]
