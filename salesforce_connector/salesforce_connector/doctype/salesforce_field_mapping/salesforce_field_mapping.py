import json

import frappe
from frappe import _
from frappe.model.document import Document

from salesforce_connector.constants import ERPNEXT_TO_SALESFORCE


class SalesforceFieldMapping(Document):
	def autoname(self):
		if self.direction == ERPNEXT_TO_SALESFORCE:
			self.name = f"{self.erpnext_doctype} to {self.salesforce_object}"
		else:
			self.name = f"{self.salesforce_object} to {self.erpnext_doctype}"

	def validate(self):
		self.validate_rows()

	def validate_rows(self):
		meta = frappe.get_meta(self.erpnext_doctype)
		for row in self.rows:
			if not meta.has_field(row.erpnext_field) and row.erpnext_field not in ("name",):
				frappe.throw(
					_("Row {0}: {1} has no field {2}.").format(
						row.idx, _(self.erpnext_doctype), frappe.bold(row.erpnext_field)
					)
				)
			if row.transform_options:
				try:
					options = json.loads(row.transform_options)
				except ValueError:
					frappe.throw(_("Row {0}: Transform Options must be valid JSON.").format(row.idx))
				if not isinstance(options, dict):
					frappe.throw(_("Row {0}: Transform Options must be a JSON object.").format(row.idx))
