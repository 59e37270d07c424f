import frappe
from frappe import _
from frappe.model.document import Document

from salesforce_connector.constants import FAILED, NEEDS_REVIEW, QUEUED, SKIPPED

RETRYABLE_STATUSES = (FAILED, NEEDS_REVIEW, SKIPPED)


class SalesforceSyncLog(Document):
	@frappe.whitelist()
	def retry(self):
		"""Queue this row again; the job reads the mapping and Salesforce afresh."""
		frappe.only_for("System Manager")
		if self.status not in RETRYABLE_STATUSES:
			frappe.throw(
				_("Only a Failed, Skipped or Needs Review row can be retried; this one is {0}.").format(
					self.status
				)
			)
		queue_again(self)
		frappe.msgprint(_("Queued for another attempt."), alert=True)


@frappe.whitelist()
def retry_logs(names: str | list[str]):
	"""Bulk retry from the list view."""
	frappe.only_for("System Manager")
	if isinstance(names, str):
		names = frappe.parse_json(names)

	queued = 0
	for name in names:
		log = frappe.get_doc("Salesforce Sync Log", name)
		if log.status in RETRYABLE_STATUSES:
			queue_again(log)
			queued += 1
	return queued


def queue_again(log) -> None:
	from salesforce_connector.services.sync_log import enqueue_processing

	log.db_set({"status": QUEUED, "next_retry_at": None})
	enqueue_processing(log.name)
