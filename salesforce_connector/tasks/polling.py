"""The scheduled side of polling: every minute, poll when the interval in Settings has passed.

A job never throws at a user: a Salesforce error or an unexpected one goes to the Error Log, the
watermarks stay where they were, and the next due tick tries again from there.
"""

import frappe
from frappe.utils import now_datetime

from salesforce_connector.core.backfill import is_due
from salesforce_connector.core.errors import ConnectorError
from salesforce_connector.services.polling import poll_changes, polling_settings

LOCK_NAME = "salesforce-polling"


def poll_if_due() -> None:
	settings = polling_settings()
	if not settings.enabled or not is_due(settings.last_polled_at, settings.interval, now_datetime()):
		return

	# a poll slower than a tick must not be joined by a second one
	lock = f"{LOCK_NAME}:{frappe.local.site}"
	if not frappe.db.sql("SELECT GET_LOCK(%s, 0)", (lock,))[0][0]:
		return
	try:
		poll_changes()
	except ConnectorError as error:
		frappe.db.rollback()
		frappe.log_error(title="Salesforce polling stopped", message=error.message)
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title="Salesforce polling failed")
	finally:
		frappe.db.sql("SELECT RELEASE_LOCK(%s)", (lock,))
