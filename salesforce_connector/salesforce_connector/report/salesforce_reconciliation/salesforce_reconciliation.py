"""Won Opportunities of a period against their Sales Orders, with a Resync button on every gap."""

import frappe
from frappe import _

from salesforce_connector.core.errors import ConnectorError
from salesforce_connector.services.reconciliation import Period, find_gaps, resync


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if not filters.from_date or not filters.to_date:
		frappe.throw(_("Choose the period: From Date and To Date."))

	try:
		gaps = list(find_gaps(Period(filters.from_date, filters.to_date, filters.customer or None)))
	except ConnectorError as error:
		frappe.throw(_("Salesforce could not be read: {0}").format(error.message))
	return columns(), [gap.as_row() for gap in gaps]


def columns() -> list[dict]:
	return [
		{"fieldname": "issue", "label": _("Issue"), "fieldtype": "Data", "width": 200},
		{"fieldname": "opportunity_id", "label": _("Opportunity Id"), "fieldtype": "Data", "width": 170},
		{"fieldname": "opportunity_name", "label": _("Opportunity"), "fieldtype": "Data", "width": 180},
		{"fieldname": "close_date", "label": _("Close Date"), "fieldtype": "Date", "width": 100},
		{
			"fieldname": "salesforce_amount",
			"label": _("Salesforce Amount"),
			"fieldtype": "Float",
			"width": 120,
		},
		{
			"fieldname": "salesforce_currency",
			"label": _("Salesforce Currency"),
			"fieldtype": "Data",
			"width": 90,
		},
		{
			"fieldname": "salesforce_status",
			"label": _("Salesforce Status"),
			"fieldtype": "Data",
			"width": 130,
		},
		{
			"fieldname": "document_type",
			"label": _("Document Type"),
			"fieldtype": "Link",
			"options": "DocType",
			"width": 110,
		},
		{
			"fieldname": "document",
			"label": _("Document"),
			"fieldtype": "Dynamic Link",
			"options": "document_type",
			"width": 150,
		},
		{"fieldname": "erpnext_amount", "label": _("ERPNext Amount"), "fieldtype": "Float", "width": 120},
		{"fieldname": "erpnext_currency", "label": _("ERPNext Currency"), "fieldtype": "Data", "width": 90},
		{"fieldname": "erpnext_status", "label": _("ERPNext Status"), "fieldtype": "Data", "width": 130},
		{"fieldname": "detail", "label": _("Detail"), "fieldtype": "Data", "width": 320},
		{"fieldname": "action", "label": _("Action"), "fieldtype": "Data", "width": 90},
	]


@frappe.whitelist()
def resync_gap(
	issue: str, opportunity_id: str, document_type: str | None = None, document: str | None = None
):
	"""The row's Resync button; the gap is checked again before anything is changed."""
	frappe.only_for("System Manager")
	try:
		return resync(issue, opportunity_id, document_type or None, document or None)
	except ConnectorError as error:
		frappe.throw(_("Salesforce could not be reached: {0}").format(error.message))
