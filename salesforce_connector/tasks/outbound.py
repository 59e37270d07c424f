"""The job that empties the outbox: ERPNext facts written back to Salesforce.

It runs after a transaction that marked a record commits, and every minute from the scheduler, so a
lost job or a retry whose wait is over is picked up within a minute. One flush runs at a time.
Jobs never throw at a user: every outcome ends on the record's Sync Log row.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from salesforce_connector.constants import SETTINGS
from salesforce_connector.core.writeback import COLLECTION_SIZE, rows_ready, seconds_until_ready
from salesforce_connector.services.settings import get_salesforce_client
from salesforce_connector.services.writeback.flush import (
	BatchWriter,
	FlushReport,
	claim,
	pending_groups,
	recover_interrupted,
)

# A partial batch waits until no record changed for SETTLE (a burst of submits becomes one call),
# but no longer than MAX_WAIT after its oldest change, so Salesforce hears within a minute.
SETTLE = timedelta(seconds=3)
MAX_WAIT = timedelta(seconds=45)
# the scheduler starts another flush every minute; one job does not hold a worker for longer
JOB_BUDGET = timedelta(minutes=4)
POLL_SECONDS = 1.0


def flush_outbox(wait_to_settle: bool = True, client_factory: Callable | None = None) -> FlushReport | None:
	"""Write every due outbox row; with `wait_to_settle` off, take everything due at once."""
	if not frappe.db.get_single_value(SETTINGS, "enabled"):
		return None

	with flush_lock() as acquired:
		if not acquired:
			return None
		recover_interrupted()
		return _flush(wait_to_settle, client_factory or get_salesforce_client)


def _flush(wait_to_settle: bool, client_factory: Callable) -> FlushReport:
	report = FlushReport()
	writer = None
	deadline = now_datetime() + JOB_BUDGET
	while now_datetime() < deadline:
		frappe.db.commit()  # nosemgrep: a fresh snapshot, to see rows marked since the last look
		now = now_datetime()
		groups = pending_groups(now)
		if not groups:
			break

		plan = {sobject: _ready(group, now, wait_to_settle) for sobject, group in groups.items()}
		if not any(plan.values()):
			time.sleep(min([POLL_SECONDS, *(_wait(group, now) for group in groups.values())]))
			continue

		writer = writer or BatchWriter(client_factory, report)
		for sobject, count in plan.items():
			_write(writer, sobject, count)
	return report


def _ready(group, now, wait_to_settle: bool) -> int:
	if not wait_to_settle:
		return group.count
	return rows_ready(group, now, settle=SETTLE, max_wait=MAX_WAIT)


def _wait(group, now) -> float:
	return max(seconds_until_ready(group, now, settle=SETTLE, max_wait=MAX_WAIT), 0.05)


def _write(writer: BatchWriter, sobject: str, count: int) -> None:
	while count > 0:
		rows = claim(sobject, min(count, COLLECTION_SIZE), now_datetime())
		if not rows:
			return
		writer.write(sobject, rows)
		count -= len(rows)


@contextmanager
def flush_lock() -> Iterator[bool]:
	"""A MariaDB named lock: it lives with the connection, so a dead worker cannot leave it held."""
	name = f"salesforce-outbox:{frappe.local.site}"
	acquired = bool(frappe.db.sql("SELECT GET_LOCK(%s, 0)", (name,))[0][0])
	try:
		yield acquired
	finally:
		if acquired:
			frappe.db.sql("SELECT RELEASE_LOCK(%s)", (name,))
