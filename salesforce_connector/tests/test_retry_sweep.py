"""The scheduled sweep queues rows whose job was lost, whose retry is due, or whose worker died."""

from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_job

from salesforce_connector.constants import FAILED, PROCESSING, QUEUED, SYNC_LOG
from salesforce_connector.tasks.inbound import process_due_logs
from salesforce_connector.tests.utils import run_token


def make_row(status: str, modified_ago: timedelta, **values) -> str:
	token = run_token()
	log = frappe.get_doc(
		{
			"doctype": SYNC_LOG,
			"status": status,
			"direction": "Inbound",
			"salesforce_object": "Account",
			"salesforce_id": f"001{token}000000AAA",
			"notification_id": f"04l{token}000000AAA",
			"payload": '{"object_type": "Account", "fields": {"Id": "001"}}',
			**values,
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value(SYNC_LOG, log.name, "modified", now_datetime() - modified_ago, update_modified=False)
	return log.name


def queued_job(log_name: str):
	return get_job(f"salesforce-sync-log-{log_name}")


class TestRetrySweep(FrappeTestCase):
	def sweep(self):
		process_due_logs()
		frappe.db.commit()  # nosemgrep: jobs are queued after commit

	def test_queued_row_whose_job_was_lost_is_queued_again(self):
		lost = make_row(QUEUED, timedelta(minutes=10))
		fresh = make_row(QUEUED, timedelta(seconds=5))

		self.sweep()

		self.assertIsNotNone(queued_job(lost))
		self.assertIsNone(queued_job(fresh))

	def test_failed_row_is_retried_only_when_its_wait_is_over(self):
		due = make_row(FAILED, timedelta(minutes=10), next_retry_at=now_datetime() - timedelta(minutes=1))
		waiting = make_row(FAILED, timedelta(minutes=10), next_retry_at=now_datetime() + timedelta(hours=1))
		permanent = make_row(FAILED, timedelta(minutes=10))

		self.sweep()

		self.assertIsNotNone(queued_job(due))
		self.assertIsNone(queued_job(waiting))
		self.assertIsNone(queued_job(permanent))

	def test_row_stuck_in_processing_is_queued_again(self):
		stuck = make_row(PROCESSING, timedelta(hours=1))
		busy = make_row(PROCESSING, timedelta(minutes=1))

		self.sweep()

		self.assertEqual(frappe.db.get_value(SYNC_LOG, stuck, "status"), QUEUED)
		self.assertIsNotNone(queued_job(stuck))
		self.assertEqual(frappe.db.get_value(SYNC_LOG, busy, "status"), PROCESSING)
