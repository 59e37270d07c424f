"""What writing ERPNext facts back to Salesforce costs: API calls, and time in the submit path.

Run it from the bench's sites folder, with the bench's Python, on a site of its own (it submits
thousands of documents and points Salesforce Settings at a local org):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/salesforce_connector/scripts/bench_writeback.py --site bench.localhost

A local Salesforce org serves on 127.0.0.1. In one run it measures:

1. Status changes. --count submitted Sales Orders, each for its own Opportunity, are closed one
   transaction each, with the app's document hooks on; a twin set is closed with them off (taken
   out of Frappe's hook table, as if the app were not installed). The two sets alternate in chunks
   so that both meet the same database. Then the flush job runs as a worker would. It prints the
   Salesforce API calls the changes cost (goal: at most 6, against one call per change) and the
   time per change with the hooks against without them.
2. The same with a worker flushing while the changes arrive, in a thread with its own connection.
3. Salesforce unreachable. For --documents orders of each twin set, a Delivery Note and a Sales
   Invoice are submitted, hooks on against hooks off, while Salesforce Settings point at a closed
   port. It prints the time per document both ways (goal: a ratio near 1), then brings Salesforce
   back and shows the backlog drain.
"""

import argparse
import os
import secrets
import socket
import statistics
import threading
import time
from contextlib import contextmanager, nullcontext

CALLS_GOAL = 6
# orders of each set whose operation only loads metadata and warms caches, measured by nobody
WARM_UP = 3


def main() -> None:
	options = _arguments()

	import frappe

	frappe.init(site=options.site, sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		_run(options)
	finally:
		frappe.destroy()


def _arguments():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--count", type=int, default=1000, help="Sales Order status changes per set")
	parser.add_argument("--documents", type=int, default=100, help="orders delivered and invoiced per set")
	parser.add_argument("--accounts", type=int, default=20, help="Salesforce Accounts the orders belong to")
	return parser.parse_args()


def _run(options) -> None:
	from salesforce_connector.emulator import EmulatorServer

	org = _org()
	server = EmulatorServer(org).start()
	try:
		bench = Bench(options, org, server)
		bench.prepare()
		bench.status_changes()
		bench.status_changes_with_a_worker()
		bench.unreachable_salesforce()
	finally:
		server.stop()


def _org():
	from salesforce_connector.emulator import Org
	from salesforce_connector.emulator.ids import IdFactory
	from salesforce_connector.emulator.schema import Field

	org = Org(daily_api_limit=10**9)
	# Ids are serial within an org; a random start keeps this run's records apart from earlier runs'
	org.ids = IdFactory(start=secrets.randbelow(10**10))
	# what an admin creates in Setup: the custom fields the default mapping writes
	for sobject, fields in {
		"Opportunity": [
			("Percent_Delivered__c", "percent"),
			("Percent_Billed__c", "percent"),
			("Invoiced_Amount__c", "currency"),
			("Outstanding_Amount__c", "currency"),
			("Last_Payment_Date__c", "date"),
		],
		"Account": [("Total_Outstanding__c", "currency"), ("Last_Order_Date__c", "date")],
	}.items():
		for name, kind in fields:
			org.schema.get(sobject).add(Field(name, kind, custom=True))
	return org


class Bench:
	def __init__(self, options, org, server):
		self.options = options
		self.org = org
		self.server = server
		self.token = secrets.token_hex(3).upper()
		self.logins = 0

	# setting up

	def prepare(self) -> None:
		import frappe

		from salesforce_connector.tests.utils import TEST_PRICE_LIST, ensure_indian_company, make_item

		self.company = ensure_indian_company()
		self.configure()
		self.item = make_item(f"BENCH-{self.token}", f"Bench item {self.token}")
		self.price_list = TEST_PRICE_LIST
		self.customers = [self._customer(index) for index in range(self.options.accounts)]
		frappe.db.commit()

		count, documents = self.options.count + WARM_UP, self.options.documents + WARM_UP
		print(f"Preparing {2 * (2 * count + documents):,} submitted Sales Orders ...", flush=True)
		self.on_orders = self._orders(count)
		self.worker_orders = self._orders(count)
		self.delivery_orders = self._orders(documents)
		with app_hooks_off():
			self.off_orders = self._orders(count)
			self.off_worker_orders = self._orders(count)
			self.off_delivery_orders = self._orders(documents)

		report = self.flush(wait_to_settle=False)
		print(
			f"  first write of every record: {report.written:,} records in {report.calls} calls\n", flush=True
		)

	def configure(self, login_url: str | None = None) -> None:
		from salesforce_connector.tests.utils import configure_connector

		configure_connector(
			[self.org.org_id],
			auth_flow="Client Credentials",
			login_url=login_url or self.server.url,
			consumer_key=self.org.connected_app.consumer_key,
			consumer_secret=self.org.connected_app.consumer_secret,
			request_timeout=30,
		)

	def _customer(self, index: int) -> str:
		import frappe

		name = f"Bench Customer {self.token} {index}"
		account = self.org.create("Account", {"Name": name})
		customer = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": name,
				"default_currency": "INR",
				"customer_group": frappe.db.get_value("Customer Group", {"is_group": 1}),
				"territory": frappe.db.get_value("Territory", {"is_group": 1}),
				"salesforce_account_id": account,
			}
		).insert(ignore_permissions=True)
		return customer.name

	def _orders(self, count: int) -> list[str]:
		import frappe
		from frappe.utils import add_days, nowdate

		names = []
		for index in range(count):
			customer = self.customers[index % len(self.customers)]
			account = frappe.db.get_value("Customer", customer, "salesforce_account_id")
			opportunity = self.org.create(
				"Opportunity",
				{
					"Name": f"Bench {self.token} {index}",
					"AccountId": account,
					"StageName": "Closed Won",
					"CloseDate": nowdate(),
				},
			)
			order = frappe.get_doc(
				{
					"doctype": "Sales Order",
					"company": self.company,
					"customer": customer,
					"transaction_date": nowdate(),
					"delivery_date": add_days(nowdate(), 7),
					"currency": "INR",
					"conversion_rate": 1,
					"selling_price_list": self.price_list,
					"salesforce_opportunity_id": opportunity,
					"items": [{"item_code": self.item, "qty": 2, "rate": 500}],
				}
			)
			order.insert(ignore_permissions=True)
			order.submit()
			frappe.db.commit()
			names.append(order.name)
		return names

	def flush(self, wait_to_settle: bool = True):
		from salesforce_connector.tasks.outbound import flush_outbox

		return flush_outbox(wait_to_settle=wait_to_settle, client_factory=self._client)

	def _client(self):
		from salesforce_connector.services.settings import get_salesforce_client

		client = get_salesforce_client()
		login = client.login

		def counted_login():
			self.logins += 1
			login()

		client.login = counted_login
		return client

	# 1. status changes, the flush after them

	def status_changes(self) -> None:
		from salesforce_connector.tasks.outbound import SETTLE

		count = self.options.count
		print(f"1. {count:,} Sales Order status changes (Close), one transaction each", flush=True)
		alternate(self.on_orders[:WARM_UP], self.off_orders[:WARM_UP], close_order)
		self.flush(wait_to_settle=False)
		calls_before, logins_before = self.org.usage.used, self.logins

		on_seconds, off_seconds = alternate(self.on_orders[WARM_UP:], self.off_orders[WARM_UP:], close_order)
		started = time.perf_counter()
		report = self.flush()
		flush_seconds = time.perf_counter() - started

		calls = self.org.usage.used - calls_before
		print(
			f"   Salesforce API calls for {count:,} changes: {calls} (goal: at most {CALLS_GOAL}; one call per change: {count:,})"
		)
		print(
			f"   records written: {report.written:,}; unchanged, not sent: {report.unchanged:,}; logins: {self.logins - logins_before} (OAuth, not counted by Salesforce as API calls)"
		)
		print(
			f"   the flush job took {flush_seconds:.1f} s, of which {SETTLE.seconds} s waiting for the changes to settle"
		)
		_print_times("change", on_seconds, off_seconds)

	# 2. the same while a worker flushes

	def status_changes_with_a_worker(self) -> None:
		count = self.options.count
		print(f"\n2. {count:,} more status changes while a worker flushes as they arrive", flush=True)
		calls_before = self.org.usage.used

		with Worker(self) as worker:
			on_seconds, off_seconds = alternate(
				self.worker_orders[WARM_UP:], self.off_worker_orders[WARM_UP:], close_order
			)
		report = self.flush()

		calls = self.org.usage.used - calls_before
		written = worker.report.written + report.written
		print(
			f"   Salesforce API calls for {count:,} changes: {calls} (goal: at most {CALLS_GOAL}); records written: {written:,}"
		)
		_print_times("change", on_seconds, off_seconds)

	# 3. deliveries and invoices with Salesforce unreachable

	def unreachable_salesforce(self) -> None:
		import frappe

		documents = self.options.documents
		print(
			f"\n3. Salesforce unreachable: a Delivery Note and a Sales Invoice for {documents:,} orders",
			flush=True,
		)
		self.flush(wait_to_settle=False)
		self.configure(login_url=f"http://127.0.0.1:{_closed_port()}")

		alternate(self.delivery_orders[:WARM_UP], self.off_delivery_orders[:WARM_UP], deliver_and_invoice)
		on_seconds, off_seconds = alternate(
			self.delivery_orders[WARM_UP:], self.off_delivery_orders[WARM_UP:], deliver_and_invoice
		)
		_print_times("order, its Delivery Note and Invoice", on_seconds, off_seconds)

		report = self.flush(wait_to_settle=False)
		pending = _pending_rows()
		reason = frappe.db.get_value(
			"Salesforce Sync Log", {"direction": "Outbound", "status": "Pending"}, "error"
		)
		print(
			f"   a flush while unreachable: {report.retrying:,} records kept pending ({pending:,} in the outbox): {reason}"
		)

		self.configure()
		frappe.db.sql(
			"update `tabSalesforce Sync Log` set next_retry_at = null where direction = 'Outbound' and status = 'Pending'"
		)
		frappe.db.commit()
		calls_before = self.org.usage.used
		report = self.flush(wait_to_settle=False)
		print(
			f"   Salesforce back: {report.written:,} records written and {report.unchanged:,} already up to date, "
			f"in {self.org.usage.used - calls_before} calls; {report.failed:,} failed, {_pending_rows():,} left pending"
		)


class Worker:
	"""A background worker in a thread: its own site connection, flushing until told to stop."""

	def __init__(self, bench: Bench):
		import frappe

		from salesforce_connector.services.writeback.flush import FlushReport

		self.bench = bench
		self.site = frappe.local.site
		self.sites_path = frappe.local.sites_path
		self.report = FlushReport()
		self._stop = threading.Event()
		self._thread = threading.Thread(target=self._run, daemon=True)

	def __enter__(self):
		self._thread.start()
		return self

	def __exit__(self, *exc):
		self._stop.set()
		self._thread.join()

	def _run(self) -> None:
		import frappe

		from salesforce_connector.tasks.outbound import flush_outbox

		frappe.init(site=self.site, sites_path=self.sites_path)
		frappe.connect()
		frappe.set_user("Administrator")
		try:
			while not self._stop.is_set():
				report = flush_outbox(client_factory=self.bench._client)
				if report:
					for name in ("written", "unchanged", "retrying", "failed", "calls"):
						setattr(self.report, name, getattr(self.report, name) + getattr(report, name))
				self._stop.wait(0.2)
		finally:
			frappe.destroy()


# what is measured


def close_order(name: str) -> None:
	import frappe

	frappe.get_doc("Sales Order", name).update_status("Closed")
	frappe.db.commit()


def deliver_and_invoice(name: str) -> None:
	import frappe

	from erpnext.selling.doctype.sales_order.sales_order import make_delivery_note, make_sales_invoice

	note = make_delivery_note(name)
	note.insert(ignore_permissions=True)
	note.submit()
	frappe.db.commit()
	invoice = make_sales_invoice(name)
	invoice.insert(ignore_permissions=True)
	invoice.submit()
	frappe.db.commit()


def alternate(on_names: list[str], off_names: list[str], operation) -> tuple[list[float], list[float]]:
	"""Seconds per operation for each set, hooks on for the first and off for the second.

	The sets take turns one operation at a time, and which goes first flips every turn, so that both
	meet the same caches, the same database size and the same neighbours on the machine.
	"""
	on_times, off_times = [], []
	for turn, (on_name, off_name) in enumerate(zip(on_names, off_names, strict=True)):
		pair = [(on_times, on_name, False), (off_times, off_name, True)]
		for times, name, hooks_off in pair if turn % 2 == 0 else reversed(pair):
			times.append(_timed(name, operation, hooks_off))
	return on_times, off_times


def _timed(name: str, operation, hooks_off: bool) -> float:
	with app_hooks_off() if hooks_off else nullcontext():
		started = time.perf_counter()
		operation(name)
		return time.perf_counter() - started


@contextmanager
def app_hooks_off():
	"""This app's document hooks out of Frappe's table, as if the app were not installed."""
	import frappe

	hooks = frappe.get_doc_hooks()
	kept = {
		doctype: {
			event: [handler for handler in handlers if not handler.startswith("salesforce_connector.")]
			for event, handlers in events.items()
		}
		for doctype, events in hooks.items()
	}
	frappe.local.doc_events_hooks = kept
	try:
		yield
	finally:
		frappe.local.doc_events_hooks = hooks


def _print_times(what: str, on_times: list[float], off_times: list[float]) -> None:
	on_mean, off_mean = 1000 * statistics.fmean(on_times), 1000 * statistics.fmean(off_times)
	on_median, off_median = 1000 * statistics.median(on_times), 1000 * statistics.median(off_times)
	print(
		f"   time per {what} ({len(on_times):,} each way): {on_mean:.1f} ms with the app's hooks, "
		f"{off_mean:.1f} ms without; ratio {on_mean / off_mean:.3f} "
		f"(medians {on_median:.1f} / {off_median:.1f} ms, ratio {on_median / off_median:.3f})"
	)


def _pending_rows() -> int:
	import frappe

	return frappe.db.count(
		"Salesforce Sync Log", {"direction": "Outbound", "status": ["in", ["Pending", "Processing"]]}
	)


def _closed_port() -> int:
	with socket.socket() as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


if __name__ == "__main__":
	main()
