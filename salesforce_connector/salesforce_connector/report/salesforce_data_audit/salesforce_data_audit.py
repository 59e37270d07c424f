"""Invalid GSTINs, states and phones not written canonically, and likely duplicate customers.

The report only reads; `bench --site SITE salesforce-audit --fix` applies the safe fixes it lists.
"""

import frappe
from frappe import _

from salesforce_connector.core.errors import ConnectorError
from salesforce_connector.services.audit import report_rows, run_audit


def execute(filters=None):
	filters = filters or {}
	try:
		result = run_audit(salesforce=bool(filters.get("include_salesforce")))
	except ConnectorError as error:
		frappe.throw(_("Could not read Salesforce's Accounts and Leads: {0}").format(error.message))
	rows = report_rows(result)
	if filters.get("problem"):
		rows = [row for row in rows if row["problem"] == filters["problem"]]
	return columns(), rows


def columns() -> list[dict]:
	return [
		{"fieldname": "problem", "label": _("Problem"), "fieldtype": "Data", "width": 160},
		{
			"fieldname": "reference_doctype",
			"label": _("Document Type"),
			"fieldtype": "Link",
			"options": "DocType",
			"width": 120,
		},
		{
			"fieldname": "reference_name",
			"label": _("Document"),
			"fieldtype": "Dynamic Link",
			"options": "reference_doctype",
			"width": 180,
		},
		{
			"fieldname": "salesforce_record",
			"label": _("Salesforce Record"),
			"fieldtype": "Data",
			"width": 200,
		},
		{"fieldname": "field", "label": _("Field"), "fieldtype": "Data", "width": 100},
		{"fieldname": "value", "label": _("Value"), "fieldtype": "Data", "width": 160},
		{"fieldname": "safe_fix", "label": _("Safe Fix"), "fieldtype": "Data", "width": 160},
		{"fieldname": "group", "label": _("Duplicate Group"), "fieldtype": "Data", "width": 220},
		{"fieldname": "proposal", "label": _("Proposed Fix"), "fieldtype": "Data", "width": 420},
	]
