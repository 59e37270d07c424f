"""The Frappe layer: turns core results into ERPNext documents."""

from contextlib import contextmanager

import frappe

LOCK_WAIT_SECONDS = 60


@contextmanager
def record_lock(salesforce_id: str | None):
	"""Serialise work on one Salesforce record across workers.

	Two messages about one Opportunity may be processed by two workers at once; without a lock both
	would find no Quotation and both would create one. A MariaDB named lock lives as long as the
	connection, so commits inside the block keep it.
	"""
	if not salesforce_id:
		yield
		return

	name = f"salesforce:{frappe.local.site}:{salesforce_id[:15]}"
	acquired = frappe.db.sql("SELECT GET_LOCK(%s, %s)", (name, LOCK_WAIT_SECONDS))[0][0]
	if not acquired:
		raise frappe.QueryTimeoutError(f"Another job is still working on Salesforce record {salesforce_id}.")
	try:
		yield
	finally:
		frappe.db.sql("SELECT RELEASE_LOCK(%s)", (name,))
