"""What the site tests share: a real HTTP server for this site, an Indian company, the local org.

Tests talk to the endpoint over real HTTP on loopback, and the connector talks to the local
Salesforce org over real HTTP too. Records are committed, because the web server's thread has its
own database connection and only sees committed rows; names carry a run token so that runs on the
same test site do not collide.
"""

import secrets
import threading
from contextlib import contextmanager
from pathlib import Path

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

import frappe
import frappe.app
from frappe.utils import nowdate

from salesforce_connector.constants import QUEUED, SETTINGS, SYNC_LOG
from salesforce_connector.tasks.inbound import process_sync_log

ENDPOINT_PATH = "/api/method/salesforce_connector.api.outbound_message.receive"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "outbound-messages"
TEST_COMPANY = "Salesforce Test India"
TEST_COMPANY_ABBR = "SFTI"
TEST_PRICE_LIST = "Salesforce Test INR"


def run_token() -> str:
	return secrets.token_hex(3).upper()


class QuietRequestHandler(WSGIRequestHandler):
	def log_request(self, *args, **kwargs):
		pass


class SiteServer:
	"""This site served by Frappe's own WSGI application on 127.0.0.1, in a background thread."""

	def __init__(self):
		# Frappe resolves the site from the Host header unless the serving process names one, as
		# `bench serve --site` does; a loopback address names no site, so name it here.
		frappe.app._site = frappe.local.site
		frappe.app._sites_path = frappe.local.sites_path
		self._server = make_server(
			"127.0.0.1", 0, frappe.app.application, threaded=True, request_handler=QuietRequestHandler
		)
		self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self._server.server_port}"

	@property
	def endpoint(self) -> str:
		return self.url + ENDPOINT_PATH

	def start(self) -> "SiteServer":
		self._thread.start()
		return self

	def stop(self) -> None:
		self._server.shutdown()
		self._server.server_close()

	def post(self, body: bytes, **params) -> requests.Response:
		"""POST as Salesforce does: SOAP 1.1 with a SOAPAction header."""
		frappe.db.commit()  # nosemgrep: the server's connection sees committed rows only
		response = requests.post(
			self.endpoint,
			data=body,
			params=params,
			headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
			timeout=30,
		)
		frappe.db.commit()  # nosemgrep: start a fresh snapshot that sees what the request wrote
		return response


def ensure_indian_company() -> str:
	"""An Indian company with its own INR price list, made once per test site."""
	if not frappe.db.exists("Company", TEST_COMPANY):
		company = frappe.new_doc("Company")
		company.update(
			{
				"company_name": TEST_COMPANY,
				"abbr": TEST_COMPANY_ABBR,
				"default_currency": "INR",
				"country": "India",
				"chart_of_accounts": "Standard",
				"create_chart_of_accounts_based_on": "Standard Template",
			}
		)
		company.insert(ignore_permissions=True)

	if not frappe.db.exists("Price List", TEST_PRICE_LIST):
		frappe.get_doc(
			{
				"doctype": "Price List",
				"price_list_name": TEST_PRICE_LIST,
				"currency": "INR",
				"selling": 1,
				"enabled": 1,
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()  # nosemgrep: shared by the web server's connection
	return TEST_COMPANY


def configure_connector(organization_ids: list[str], **values) -> None:
	settings = frappe.get_doc(SETTINGS)
	settings.update(
		{
			"enabled": 1,
			"allowed_organization_ids": "\n".join(organization_ids),
			"endpoint_token": None,
			"company": ensure_indian_company(),
			"selling_price_list": TEST_PRICE_LIST,
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 1}, "name"),
			"territory": frappe.db.get_value("Territory", {"is_group": 1}, "name"),
			"delivery_lead_days": 7,
			"unknown_product_action": "Fail",
			"integration_user": None,
			**values,
		}
	)
	settings.save(ignore_permissions=True)
	frappe.db.commit()  # nosemgrep: the web server's connection reads Settings
	frappe.clear_document_cache(SETTINGS, SETTINGS)


def make_item(item_code: str, item_name: str | None = None, rate: float = 100) -> str:
	if not frappe.db.exists("Item", item_code):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item_code,
				"item_name": item_name or item_code,
				"item_group": frappe.db.get_value("Item Group", {"is_group": 0}, "name")
				or frappe.db.get_value("Item Group", {"is_group": 1}, "name"),
				"stock_uom": "Nos",
				"is_stock_item": 0,
				"gst_hsn_code": "998313",
			}
		).insert(ignore_permissions=True)
	return item_code


def logs_for(salesforce_id: str) -> list[dict]:
	return frappe.get_all(
		SYNC_LOG,
		filters={"salesforce_id": salesforce_id},
		fields=["name", "status", "error", "notes", "reference_doctype", "reference_name", "delivery_count"],
		order_by="creation asc",
	)


def process_queued(salesforce_ids: list[str] | None = None) -> None:
	"""Do what a background worker does with the queued rows (all, or those of some records)."""
	filters = {"status": QUEUED}
	if salesforce_ids:
		filters["salesforce_id"] = ["in", salesforce_ids]
	for name in frappe.get_all(SYNC_LOG, filters=filters, pluck="name", order_by="creation asc"):
		process_sync_log(name)
	frappe.set_user("Administrator")


def delete_logs_of_notifications(notification_ids: list[str]) -> None:
	"""Fixture files carry fixed notification Ids; a previous run's rows would make them redeliveries."""
	frappe.db.delete(SYNC_LOG, {"notification_id": ["in", notification_ids]})
	frappe.db.commit()  # nosemgrep: the web server's connection must not see the old rows


def count(doctype: str, filters: dict | None = None) -> int:
	return frappe.db.count(doctype, filters or {})


@contextmanager
def site_server():
	server = SiteServer().start()
	try:
		yield server
	finally:
		server.stop()


def today() -> str:
	return nowdate()
