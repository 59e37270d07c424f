from frappe.model.document import Document


class SalesforceBackfillRun(Document):
	"""Written by the salesforce-backfill command; read-only in Desk."""
