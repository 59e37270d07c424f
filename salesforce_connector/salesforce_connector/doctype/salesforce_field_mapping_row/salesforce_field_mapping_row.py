from frappe.model.document import Document


class SalesforceFieldMappingRow(Document):
	pass
