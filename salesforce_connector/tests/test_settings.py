"""Salesforce Settings: what an admin may save, Test Connection against a real org, the job's user."""

import frappe
from frappe.tests.utils import FrappeTestCase

from salesforce_connector.constants import FAILED, SETTINGS, SYNC_LOG
from salesforce_connector.emulator.org import Org
from salesforce_connector.emulator.server import EmulatorServer
from salesforce_connector.tests.utils import configure_connector, run_token


class TestSettings(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.org = Org()
		cls.emulator = EmulatorServer(cls.org).start()

	@classmethod
	def tearDownClass(cls):
		cls.emulator.stop()
		super().tearDownClass()

	def connect(self, **values):
		connection = {
			"auth_flow": "Client Credentials",
			"login_url": self.emulator.url,
			"consumer_key": self.org.connected_app.consumer_key,
			"consumer_secret": self.org.connected_app.consumer_secret,
		}
		configure_connector([self.org.org_id], **{**connection, **values})
		return frappe.get_doc(SETTINGS)

	def test_connection_to_a_working_org_reports_success(self):
		report = self.connect().test_connection()

		self.assertTrue(report["ok"], report)
		self.assertIn(self.emulator.url, report["message"])

	def test_connection_says_the_org_it_reached_is_allowed(self):
		report = self.connect().test_connection()

		self.assertIn(f"Organization Id {self.org.org_id} is allowed", report["message"])

	def test_connection_to_an_org_whose_id_is_not_allowed_is_not_ok_and_says_so(self):
		settings = self.connect()
		settings.allowed_organization_ids = "00D000000000001"
		settings.save(ignore_permissions=True)

		report = settings.test_connection()

		self.assertFalse(report["ok"], report)
		self.assertIn(f"{self.org.org_id} is not in Allowed Organization Ids", report["message"])

	def test_a_login_url_the_client_would_not_use_is_refused_on_save(self):
		for login_url in ("127.0.0.1:8443", "http://login.example.com"):
			settings = self.connect()
			settings.login_url = login_url

			with self.assertRaises(frappe.ValidationError) as caught:
				settings.save(ignore_permissions=True)

			self.assertIn("must start with https://", str(caught.exception))

	def test_connection_with_a_wrong_secret_says_what_is_wrong_in_words(self):
		report = self.connect(consumer_secret="not-the-secret").test_connection()

		self.assertFalse(report["ok"])
		self.assertIn("secret", report["message"].lower(), report["message"])

	def test_organization_id_of_wrong_shape_cannot_be_saved(self):
		settings = frappe.get_doc(SETTINGS)
		settings.allowed_organization_ids = "00D12345"

		with self.assertRaises(frappe.ValidationError) as raised:
			settings.save()
		self.assertIn("00D12345", str(raised.exception))

	def test_enabling_without_an_organization_id_cannot_be_saved(self):
		settings = frappe.get_doc(SETTINGS)
		settings.enabled = 1
		settings.allowed_organization_ids = ""

		with self.assertRaises(frappe.ValidationError):
			settings.save()

	def test_job_runs_as_the_integration_user_and_says_when_it_may_not_act(self):
		email = f"no-roles-{run_token().lower()}@example.com"
		frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": "No Roles", "send_welcome_email": 0}
		).insert()
		self.connect(integration_user=email)
		record_id = f"001{run_token()}000000AAA"
		log = frappe.get_doc(
			{
				"doctype": SYNC_LOG,
				"status": "Queued",
				"salesforce_object": "Account",
				"salesforce_id": record_id,
				"notification_id": f"04l{run_token()}000000AAA",
				"payload": frappe.as_json(
					{"object_type": "Account", "fields": {"Id": record_id, "Name": f"Guarded {run_token()}"}}
				),
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()  # nosemgrep: the job commits its own outcome

		from salesforce_connector.tasks.inbound import process_sync_log

		try:
			process_sync_log(log.name)
		finally:
			frappe.set_user("Administrator")

		log.reload()
		self.assertEqual(log.status, FAILED)
		self.assertIn(email, log.error)
		self.assertIn("not permitted", log.error)
