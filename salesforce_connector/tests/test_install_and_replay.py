"""Install steps are safe to repeat, and saved messages replay through the endpoint's path."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils.background_jobs import get_job

from salesforce_connector.constants import FIELD_MAPPING, SKIPPED, SYNC_LOG
from salesforce_connector.install import CUSTOM_FIELDS, create_default_mappings, create_salesforce_fields
from salesforce_connector.services.replay import replay_files
from salesforce_connector.tests.utils import (
	FIXTURES,
	SiteServer,
	configure_connector,
	delete_logs_of_notifications,
)

CONTACT_NOTIFICATIONS = ["04l1I000000fztEQAQ", "04l1I000000fzt9QAA"]
LEAD_NOTIFICATIONS = ["04l37000000L0E5AAK", "14l37000123L0E5AAK", "24l37123450L0E5AAK"]


class TestInstall(FrappeTestCase):
	def test_custom_fields_exist_once_after_repeated_installs(self):
		create_salesforce_fields()
		create_salesforce_fields()

		for doctype, fields in CUSTOM_FIELDS.items():
			for field in fields:
				self.assertEqual(
					frappe.db.count("Custom Field", {"dt": doctype, "fieldname": field["fieldname"]}), 1
				)
		self.assertTrue(frappe.get_meta("Quotation").has_field("custom_salesforce_opp_id"))

	def test_default_mappings_never_overwrite_an_admin_edit(self):
		mapping = frappe.get_doc(FIELD_MAPPING, "Lead to Customer")
		original = mapping.rows[0].salesforce_field
		mapping.rows[0].salesforce_field = "Name"
		mapping.save()
		try:
			create_default_mappings()

			self.assertEqual(
				frappe.db.count(FIELD_MAPPING, {"salesforce_object": "Lead", "erpnext_doctype": "Customer"}),
				1,
			)
			self.assertEqual(
				frappe.get_doc(FIELD_MAPPING, "Lead to Customer").rows[0].salesforce_field, "Name"
			)
		finally:
			mapping.reload()
			mapping.rows[0].salesforce_field = original
			mapping.save()

	def test_mapping_row_naming_a_missing_erpnext_field_cannot_be_saved(self):
		mapping = frappe.get_doc(FIELD_MAPPING, "Lead to Customer")
		mapping.append("rows", {"salesforce_field": "Industry", "erpnext_field": "no_such_field"})

		with self.assertRaises(frappe.ValidationError) as raised:
			mapping.save()
		self.assertIn("no_such_field", str(raised.exception))


class TestReplayAndQueue(FrappeTestCase):
	def setUp(self):
		configure_connector(["0123456789ABCDE", "012345678901234"])
		delete_logs_of_notifications(LEAD_NOTIFICATIONS + CONTACT_NOTIFICATIONS)

	def test_replaying_the_fixture_folder_prints_what_each_notification_became(self):
		lines = list(replay_files(sorted(FIXTURES.glob("*.xml")), token=None, process=True))

		table = [line.split("\t") for line in lines]
		self.assertEqual(
			table[0], ["file", "notification", "object", "record", "status", "document", "detail"]
		)
		by_file = {}
		for row in table[1:]:
			by_file.setdefault(row[0], []).append(row)
		self.assertEqual([row[4] for row in by_file["ack-response-bom.xml"]], ["Fault"])
		self.assertEqual([row[4] for row in by_file["empty-notifications-bom.xml"]], ["Fault"])
		self.assertEqual([row[4] for row in by_file["lead-three-notifications-bom.xml"]], [SKIPPED] * 3)
		self.assertEqual([row[4] for row in by_file["contact-two-notifications.xml"]], [SKIPPED] * 2)
		self.assertIn("Parked", by_file["contact-two-notifications.xml"][0][6])

	def test_replaying_twice_counts_redeliveries(self):
		files = [FIXTURES / "contact-two-notifications.xml"]
		list(replay_files(files, token=None, process=True))

		lines = list(replay_files(files, token=None, process=True))

		self.assertTrue(all("delivered 2 times, processed once" in line for line in lines[1:]), lines)

	def test_accepted_message_queues_one_job_per_notification_after_commit(self):
		server = SiteServer().start()
		try:
			response = server.post((FIXTURES / "contact-two-notifications.xml").read_bytes())
		finally:
			server.stop()

		self.assertEqual(response.status_code, 200)
		for notification_id in CONTACT_NOTIFICATIONS:
			log_name = frappe.db.get_value(SYNC_LOG, {"notification_id": notification_id})
			job = get_job(f"salesforce-sync-log-{log_name}")
			self.assertIsNotNone(job, f"no job queued for {notification_id}")
			self.assertEqual(job.kwargs["kwargs"], {"log_name": log_name})
