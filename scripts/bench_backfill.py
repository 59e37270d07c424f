"""Backfill speed and memory, against inserting the same documents with ERPNext's own API.

Run it from the bench's sites folder, with the bench's Python, on a site of its own (it writes
thousands of documents and points Salesforce Settings at a local org):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/salesforce_connector/scripts/bench_backfill.py --site bench.localhost --count 1000

The local Salesforce org runs in a child process, seeded with --count Opportunities of --lines lines
(every second one won), so that its memory and CPU are not counted as the backfill's. Then, in this
process, in alternating rounds so that a busy machine slows both alike:

1. directly: for a twin set of deals, Customer, Address, Quotation and, for a won deal, the
   submitted Quotation and Sales Order are inserted with ERPNext's API, committed per deal;
2. the backfill of the seeded Opportunities through `salesforce-backfill`'s own code.

It prints both times, their ratio (goal: at most 1.2) and the peak growth of this process's
resident memory during each (goal: under 150 MB for the backfill).
"""

import argparse
import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

RATIO_GOAL = 1.2
MEMORY_GOAL_MB = 150


def main() -> None:
	options = _arguments()
	if options.serve_org:
		_serve_org(options)
		return

	token = secrets.token_hex(3).upper()
	print(
		f"Seeding {options.count:,} Opportunities of {options.lines} lines in the local org ...", flush=True
	)
	org_process, org = _start_org(options, token)
	try:
		_measure(options, token, org)
	finally:
		org_process.stdin.close()
		org_process.wait(timeout=30)


# the local org, in a child process


def _serve_org(options) -> None:
	from salesforce_connector.emulator import EmulatorServer, Org
	from salesforce_connector.emulator.ids import IdFactory
	from salesforce_connector.tests.seed import seed_deals

	org = Org(daily_api_limit=10**9)
	# serial Ids from a random start: records of an earlier run on the same site are never these
	org.ids = IdFactory(start=secrets.randbelow(10**10))
	deals = seed_deals(org, options.token, options.count, lines=options.lines)
	server = EmulatorServer(org).start()
	print(
		json.dumps(
			{
				"url": server.url,
				"org_id": org.org_id,
				"consumer_key": org.connected_app.consumer_key,
				"consumer_secret": org.connected_app.consumer_secret,
				"deals": [[deal.account_index, deal.won, deal.lines] for deal in deals],
			}
		),
		flush=True,
	)
	sys.stdin.read()  # serve until the parent closes the pipe
	server.stop()


def _start_org(options, token: str):
	process = subprocess.Popen(
		[
			sys.executable,
			__file__,
			"--serve-org",
			"--token",
			token,
			"--count",
			str(options.count),
			"--lines",
			str(options.lines),
		],
		stdin=subprocess.PIPE,
		stdout=subprocess.PIPE,
		text=True,
	)
	return process, json.loads(process.stdout.readline())


# the measurement


def _measure(options, token: str, org: dict) -> None:
	"""Alternate rounds of the two, so that a busy machine slows both alike."""
	import frappe

	from salesforce_connector.core.backfill import Counts

	frappe.init(site=options.site, sites_path=os.getcwd())
	frappe.connect()
	memory = _MemorySampler()
	seconds = {"direct": 0.0, "backfill": 0.0}
	counts = Counts()
	try:
		_configure(org, token)
		memory.start()
		rounds = _rounds(len(org["deals"]), options.rounds)
		for number, (start, end) in enumerate(rounds, 1):
			with memory.phase("direct"), _stopwatch(seconds, "direct"):
				_insert_directly(org["deals"][start:end], token, start)
			with memory.phase("backfill"), _stopwatch(seconds, "backfill"):
				_add(counts, _backfill(token, start, end))
			print(
				f"round {number}/{len(rounds)}: {end:,} of each done; so far direct {seconds['direct']:.0f} s, "
				f"backfill {seconds['backfill']:.0f} s ({seconds['backfill'] / seconds['direct']:.2f}x)",
				flush=True,
			)
	finally:
		memory.stop()
		frappe.destroy()

	_report(options, seconds, memory, counts)


def _rounds(count: int, rounds: int) -> list[tuple[int, int]]:
	size = -(-count // max(rounds, 1))
	return [(start, min(start + size, count)) for start in range(0, count, size)]


@contextlib.contextmanager
def _stopwatch(seconds: dict, name: str):
	started = time.perf_counter()
	try:
		yield
	finally:
		seconds[name] += time.perf_counter() - started


def _add(total, counts) -> None:
	for name, value in counts.as_dict().items():
		setattr(total, name, getattr(total, name) + value)


def _configure(org: dict, token: str) -> None:
	from salesforce_connector.tests.seed import product_codes
	from salesforce_connector.tests.utils import configure_connector, make_item

	configure_connector(
		[org["org_id"]],
		auth_flow="Client Credentials",
		login_url=org["url"],
		consumer_key=org["consumer_key"],
		consumer_secret=org["consumer_secret"],
	)
	for code in product_codes(token, 3):
		make_item(code, f"Seeded product {code}")
	import frappe

	frappe.db.commit()


def _backfill(token: str, start: int, end: int):
	from salesforce_connector.services.backfill import BackfillRequest, start_backfill

	# seeded names are "Deal TOKEN 00042": one round reads its own slice of them
	conditions = (f"Name >= 'Deal {token} {start:05d}'", f"Name < 'Deal {token} {end:05d}'")
	return start_backfill(BackfillRequest("Opportunity", conditions=conditions)).counts


def _insert_directly(deals: list, token: str, first_index: int) -> None:
	"""The same documents the backfill makes, for a twin set of deals, with ERPNext's API alone."""
	import frappe
	from frappe.utils import add_days, nowdate

	from erpnext.selling.doctype.quotation.quotation import make_sales_order

	from salesforce_connector.services.settings import connector_defaults

	defaults = connector_defaults()
	customers: dict[int, str] = {}
	for index, (account_index, won, lines) in enumerate(deals, first_index):
		if account_index not in customers:
			customers[account_index] = _customer_with_address(f"Direct {token} {account_index:04d}", defaults)
		quotation = frappe.new_doc("Quotation")
		quotation.update(
			{
				"quotation_to": "Customer",
				"party_name": customers[account_index],
				"company": defaults.company,
				"transaction_date": nowdate(),
				"order_type": "Sales",
				"selling_price_list": defaults.selling_price_list,
				"currency": frappe.get_cached_value("Company", defaults.company, "default_currency"),
				"title": f"Direct deal {token} {index:05d}",
			}
		)
		for code, quantity, price in lines:
			quotation.append("items", {"item_code": code, "qty": quantity, "rate": price})
		quotation.insert()
		if won:
			quotation.submit()
			order = make_sales_order(quotation.name)
			order.delivery_date = add_days(nowdate(), defaults.delivery_lead_days)
			for item in order.items:
				item.delivery_date = order.delivery_date
			order.insert()
			order.submit()
		frappe.db.commit()


def _customer_with_address(name: str, defaults) -> str:
	import frappe

	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": name,
			"customer_type": "Company",
			"customer_group": defaults.customer_group,
			"territory": defaults.territory,
		}
	).insert()
	frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": name,
			"address_type": "Billing",
			"address_line1": "1 Station Road",
			"city": "Pune",
			"state": "Maharashtra",
			"pincode": "411001",
			"country": "India",
			"links": [{"link_doctype": "Customer", "link_name": customer.name}],
		}
	).insert()
	return customer.name


class _MemorySampler(threading.Thread):
	"""Reads this process's resident set size every 20 ms (Linux /proc), by phase.

	A phase's growth is its peak over the size the process had when that phase first began; the
	backfill's figure thus also holds whatever the direct rounds between its own rounds kept.
	"""

	def __init__(self):
		super().__init__(daemon=True)
		self.page = os.sysconf("SC_PAGE_SIZE")
		self.current: str | None = None
		self.first: dict[str, int] = {}
		self.peak: dict[str, int] = {}
		self.running = threading.Event()
		self.running.set()

	def _rss(self) -> int:
		return int(Path("/proc/self/statm").read_text().split()[1]) * self.page

	@contextlib.contextmanager
	def phase(self, name: str):
		rss = self._rss()
		self.first.setdefault(name, rss)
		self.peak[name] = max(self.peak.get(name, rss), rss)
		self.current = name
		try:
			yield
		finally:
			self._sample()
			self.current = None

	def _sample(self) -> None:
		if self.current:
			self.peak[self.current] = max(self.peak[self.current], self._rss())

	def run(self) -> None:
		while self.running.is_set():
			self._sample()
			time.sleep(0.02)

	def stop(self) -> None:
		self.running.clear()
		if self.is_alive():
			self.join()

	def growth_mb(self, name: str) -> float:
		return (self.peak.get(name, 0) - self.first.get(name, 0)) / 2**20


def _report(options, seconds: dict, memory: "_MemorySampler", counts) -> None:
	ratio = seconds["backfill"] / seconds["direct"]
	backfill_mb, direct_mb = memory.growth_mb("backfill"), memory.growth_mb("direct")
	print()
	print(
		f"Opportunities: {options.count:,} of {options.lines} lines, every second one won; {options.rounds} rounds"
	)
	print(f"Backfill outcomes: {counts.as_dict()}")
	print(
		f"Inserting directly with ERPNext's API: {seconds['direct']:8.1f} s  peak memory growth {direct_mb:6.1f} MB"
	)
	print(
		f"Backfill from the local org:          {seconds['backfill']:8.1f} s  peak memory growth {backfill_mb:6.1f} MB"
	)
	print(
		f"Time ratio backfill / direct: {ratio:.2f}x (goal <= {RATIO_GOAL}x: {'met' if ratio <= RATIO_GOAL else 'NOT met'})"
	)
	print(
		f"Backfill peak memory growth: {backfill_mb:.1f} MB "
		f"(goal < {MEMORY_GOAL_MB} MB: {'met' if backfill_mb < MEMORY_GOAL_MB else 'NOT met'})"
	)


def _arguments():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--site", help="A site of its own: the run writes thousands of documents.")
	parser.add_argument(
		"--count", type=int, default=10_000, help="Opportunities to backfill (default 10,000)."
	)
	parser.add_argument("--lines", type=int, default=3, help="Line items per Opportunity (default 3).")
	parser.add_argument("--rounds", type=int, default=5, help="Alternating rounds of each (default 5).")
	parser.add_argument("--serve-org", action="store_true", help=argparse.SUPPRESS)
	parser.add_argument("--token", help=argparse.SUPPRESS)
	options = parser.parse_args()
	if not options.serve_org and not options.site:
		parser.error("--site is required")
	return options


if __name__ == "__main__":
	main()
