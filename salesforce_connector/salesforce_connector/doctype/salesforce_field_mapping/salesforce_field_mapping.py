import json

import frappe
from frappe import _
from frappe.model.document import Document

from salesforce_connector.constants import ERPNEXT_TO_SALESFORCE
from salesforce_connector.core.default_mappings import default_source_of_truth
from salesforce_connector.core.errors import ConnectorError


class SalesforceFieldMapping(Document):
	def autoname(self):
		if self.direction == ERPNEXT_TO_SALESFORCE:
			self.name = f"{self.erpnext_doctype} to {self.salesforce_object}"
		else:
			self.name = f"{self.salesforce_object} to {self.erpnext_doctype}"

	def validate(self):
		self.validate_rows()
		self.fill_sources_of_truth()
		self.validate_salesforce_fields()

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

	def fill_sources_of_truth(self):
		for row in self.rows:
			if not row.source_of_truth:
				row.source_of_truth = default_source_of_truth(self.erpnext_doctype, row.erpnext_field)

	def validate_salesforce_fields(self):
		"""Refuse a Salesforce field the integration user cannot see, when a connection is configured."""
		from salesforce_connector.services.mappings import connection_configured, invisible_fields_of

		# installing and migrating make the default sheet, which may name fields (GSTIN__c) an org
		# has not created yet; that must not stop a migration
		if frappe.flags.in_install or frappe.flags.in_migrate:
			return
		if not self.rows or not connection_configured():
			return

		try:
			invisible = invisible_fields_of(
				self.salesforce_object, [row.salesforce_field for row in self.rows]
			)
		except ConnectorError as error:
			# an admin's edit is not held hostage by an org that is down; the check runs on next save
			frappe.msgprint(
				_("Salesforce fields were not checked: {0}").format(error.message),
				indicator="orange",
				alert=True,
			)
			return

		# a row saved before is only warned about: the default sheet names fields an org may lack
		# (CurrencyIsoCode outside multi-currency orgs, custom fields not created yet), and an admin
		# who edits another row must not have to delete those first
		saved_fields = self._saved_salesforce_fields()
		refused = [
			row
			for row in self.rows
			if row.salesforce_field in invisible and row.salesforce_field not in saved_fields
		]
		tolerated = [
			row
			for row in self.rows
			if row.salesforce_field in invisible and row.salesforce_field in saved_fields
		]
		if tolerated:
			frappe.msgprint(
				self._tolerated_note() + "<br>" + "<br>".join(self._describe_rows(tolerated, invisible)),
				title=_("Salesforce Fields Not Found"),
				indicator="orange",
			)
		if refused:
			frappe.throw(
				_("The Salesforce integration user cannot see these fields:")
				+ "<br>"
				+ "<br>".join(self._describe_rows(refused, invisible)),
				title=_("Unknown Salesforce Fields"),
			)

	def _tolerated_note(self) -> str:
		if self.direction == ERPNEXT_TO_SALESFORCE:
			return _(
				"Saved, but the integration user cannot see these Salesforce fields, so Salesforce will "
				"refuse the records written with them until the fields exist and are editable:"
			)
		return _(
			"Saved, but the integration user cannot see these Salesforce fields, so their rows map "
			"nothing until the fields exist and are visible:"
		)

	def _saved_salesforce_fields(self) -> set[str]:
		before = self.get_doc_before_save()
		return {row.salesforce_field for row in before.rows} if before else set()

	@staticmethod
	def _describe_rows(rows, invisible: dict[str, str]) -> list[str]:
		return [
			_("Row {0}: {1} ({2})").format(
				row.idx, frappe.bold(row.salesforce_field), invisible[row.salesforce_field]
			)
			for row in rows
		]

	@frappe.whitelist()
	def salesforce_check_note(self):
		from salesforce_connector.services.mappings import connection_configured

		if connection_configured():
			return _(
				"Salesforce fields are checked on save against what the integration user can see in {0}."
			).format(self.salesforce_object or _("the Salesforce object"))
		return _(
			"No Salesforce API connection is configured in Salesforce Settings, so Salesforce field names "
			"are not checked against your org when you save."
		)
