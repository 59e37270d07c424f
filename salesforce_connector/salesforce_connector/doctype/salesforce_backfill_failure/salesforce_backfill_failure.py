from frappe.model.document import Document


class SalesforceBackfillFailure(Document):
	pass
