"""The mapping sheet: exported with Frappe's Data Export, imported back with its Data Import."""

import json
from io import BytesIO

from openpyxl import load_workbook

import frappe
from frappe.tests.utils import FrappeTestCase

from salesforce_connector.constants import FIELD_MAPPING
from salesforce_connector.services.mappings import import_mapping_sheet, save_mapping_sheet
from salesforce_connector.tests.utils import configure_connector

ROW_FIELDS = ("salesforce_field", "erpnext_field", "transform", "source_of_truth", "is_match_key")


def snapshot() -> dict:
	"""Every mapping as an admin reads it: header, then rows in order (row names mean nothing)."""
	mappings = {}
	for name in frappe.get_all(FIELD_MAPPING, pluck="name"):
		doc = frappe.get_doc(FIELD_MAPPING, name)
		rows = [
			(*(row.get(column) or "" for column in ROW_FIELDS), _options(row.transform_options))
			for row in doc.rows
		]
		mappings[name] = ((doc.salesforce_object, doc.erpnext_doctype, doc.direction, doc.enabled), rows)
	return mappings


def _options(text: str | None):
	return json.loads(text) if text else None


def sheet(file_url: str):
	content = frappe.get_doc("File", {"file_url": file_url}).get_content()
	return load_workbook(BytesIO(content)).active


def save_sheet(workbook_sheet) -> str:
	buffer = BytesIO()
	workbook_sheet.parent.save(buffer)
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": "edited-mappings.xlsx",
			"content": buffer.getvalue(),
			"is_private": 1,
		}
	).insert(ignore_permissions=True)
	return file.file_url


def column(workbook_sheet, label: str) -> int:
	header = [cell.value for cell in workbook_sheet[1]]
	return header.index(label) + 1


class TestMappingSheet(FrappeTestCase):
	def setUp(self):
		# no connection, so that saving checks ERPNext fields only; the Salesforce side of the check
		# has its own tests against the local org
		configure_connector(["00D000000000001"], consumer_key=None)
		self.original = snapshot()
		self.original_sheet = save_mapping_sheet()

	def tearDown(self):
		# Data Import commits as it goes; put back what a test changed with the sheet taken first
		if snapshot() != self.original:
			import_mapping_sheet(self.original_sheet)
		self.assertEqual(snapshot(), self.original)

	def test_export_then_import_gives_the_same_mappings(self):
		file_url = save_mapping_sheet()
		lead = frappe.get_doc(FIELD_MAPPING, "Lead to Customer")
		lead.rows[0].source_of_truth = "ERPNext"
		lead.rows[1].transform = "upper"
		lead.append("rows", {"salesforce_field": "Industry", "erpnext_field": "industry"})
		lead.save()
		address = frappe.get_doc(FIELD_MAPPING, "Account to Address")
		address.enabled = 0
		address.rows.pop(0)
		address.save()
		self.assertNotEqual(snapshot(), self.original)

		data_import = import_mapping_sheet(file_url)

		self.assertIn(
			frappe.db.get_value("Data Import", data_import, "status"), ("Success", "Partial Success")
		)
		self.assertEqual(snapshot(), self.original)

	def test_sheet_is_a_spreadsheet_with_one_line_per_row(self):
		workbook_sheet = sheet(save_mapping_sheet())

		header = [cell.value for cell in workbook_sheet[1]]
		self.assertEqual(header[:5], ["ID", "Salesforce Object", "ERPNext DocType", "Direction", "Enabled"])
		self.assertIn("Source of Truth (Field Rows)", header)
		lines = workbook_sheet.max_row - 1
		self.assertEqual(lines, sum(len(rows) for _, rows in self.original.values()))

	def test_an_edited_sheet_changes_the_mapping(self):
		workbook_sheet = sheet(save_mapping_sheet())
		owners = column(workbook_sheet, "Source of Truth (Field Rows)")
		fields = column(workbook_sheet, "ERPNext Field (Field Rows)")
		ids = column(workbook_sheet, "ID")
		line = next(
			index
			for index in range(2, workbook_sheet.max_row + 1)
			if workbook_sheet.cell(index, ids).value == "Account to Customer"
		)
		edited_field = workbook_sheet.cell(line, fields).value
		workbook_sheet.cell(line, owners).value = "Newest wins"

		import_mapping_sheet(save_sheet(workbook_sheet))

		rows = frappe.get_doc(FIELD_MAPPING, "Account to Customer").rows
		self.assertEqual(
			next(row for row in rows if row.erpnext_field == edited_field).source_of_truth, "Newest wins"
		)

	def test_a_sheet_naming_a_missing_erpnext_field_is_refused_and_changes_nothing(self):
		workbook_sheet = sheet(save_mapping_sheet())
		fields = column(workbook_sheet, "ERPNext Field (Field Rows)")
		ids = column(workbook_sheet, "ID")
		line = next(
			index
			for index in range(2, workbook_sheet.max_row + 1)
			if workbook_sheet.cell(index, ids).value == "Lead to Customer"
		)
		workbook_sheet.cell(line, fields).value = "no_such_field"

		data_import = import_mapping_sheet(save_sheet(workbook_sheet))

		messages = frappe.get_all(
			"Data Import Log", filters={"data_import": data_import, "success": 0}, pluck="messages"
		)
		self.assertTrue(any("no_such_field" in (message or "") for message in messages), messages)
		self.assertEqual(snapshot()["Lead to Customer"], self.original["Lead to Customer"])
