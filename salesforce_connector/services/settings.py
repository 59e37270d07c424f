"""Settings as the rest of the Frappe layer needs them, with ERPNext's own defaults behind blanks."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import frappe

from salesforce_connector.constants import SETTINGS

AUTH_FLOWS = {
	"Client Credentials": "client_credentials",
	"JWT Bearer": "jwt_bearer",
	"Username-Password (legacy)": "password",
}


@dataclass(frozen=True)
class ConnectorDefaults:
	company: str
	customer_group: str
	territory: str
	selling_price_list: str
	warehouse: str | None
	country: str
	delivery_lead_days: int
	unknown_product_action: str
	new_item_group: str | None


def connector_defaults() -> ConnectorDefaults:
	"""What new documents get when Settings leave a field blank: Selling Settings and the company's."""
	settings = frappe.get_cached_doc(SETTINGS)
	selling = frappe.get_cached_doc("Selling Settings")
	company = settings.company or frappe.defaults.get_global_default("company") or _first_company()

	return ConnectorDefaults(
		company=company,
		customer_group=settings.customer_group or selling.customer_group or _first_leaf("Customer Group"),
		territory=settings.territory or selling.territory or _first_leaf("Territory"),
		selling_price_list=settings.selling_price_list or selling.selling_price_list or "Standard Selling",
		warehouse=settings.warehouse or None,
		country=frappe.get_cached_value("Company", company, "country") or "India",
		delivery_lead_days=settings.delivery_lead_days if settings.delivery_lead_days is not None else 7,
		unknown_product_action=settings.unknown_product_action or "Fail",
		new_item_group=settings.new_item_group or None,
	)


def get_salesforce_client():
	"""The one Salesforce client of the app, built from Settings (or the one a long run shares)."""
	from salesforce_connector.core.client import ClientSettings, SalesforceClient

	if shared_run() is not None:
		return shared_run().client

	settings = frappe.get_cached_doc(SETTINGS)
	return SalesforceClient(
		ClientSettings(
			auth_flow=AUTH_FLOWS.get(settings.auth_flow, "client_credentials"),
			consumer_key=settings.consumer_key or "",
			consumer_secret=settings.get_password("consumer_secret", raise_exception=False) or "",
			username=settings.username or "",
			password=settings.get_password("password", raise_exception=False) or "",
			security_token=settings.get_password("security_token", raise_exception=False) or "",
			private_key_pem=settings.get_password("jwt_private_key", raise_exception=False) or "",
			domain=settings.domain or "login",
			login_url=settings.login_url or None,
			api_version=settings.api_version or "62.0",
			timeout=settings.request_timeout or 30,
			max_daily_share=(settings.max_daily_api_share or 80) / 100,
		)
	)


@dataclass
class SharedRun:
	"""What a long run reads once and shares with every record it hands to the job."""

	client: object
	mappings: dict = field(default_factory=dict)


def shared_run() -> SharedRun | None:
	return getattr(frappe.local, "salesforce_shared_run", None)


@contextmanager
def shared_salesforce_client() -> Iterator:
	"""Within the block, the app shares one logged-in client and reads each field mapping once.

	A backfill hands each record to the same job a notification gets, and the job builds its own
	client and reads the mappings afresh (so that an edit in Desk applies to the next message); over
	thousands of records that is a login, the same describes and the same mappings again for every
	one. An expired token is renewed by the client itself, once per call, so a long run keeps
	working; a mapping edited during the run applies from the next run on.
	"""
	if shared_run() is not None:
		yield shared_run().client
		return

	frappe.local.salesforce_shared_run = SharedRun(get_salesforce_client())
	try:
		yield frappe.local.salesforce_shared_run.client
	finally:
		frappe.local.salesforce_shared_run = None


def _first_company() -> str | None:
	companies = frappe.get_all("Company", pluck="name", limit=1, order_by="creation asc")
	return companies[0] if companies else None


def _first_leaf(doctype: str) -> str | None:
	"""The tree's first leaf (a group node is for reports, not for parties), else its root."""
	leaves = frappe.get_all(doctype, filters={"is_group": 0}, pluck="name", order_by="lft asc", limit=1)
	if leaves:
		return leaves[0]
	roots = frappe.get_all(doctype, filters={"is_group": 1}, pluck="name", order_by="lft asc", limit=1)
	return roots[0] if roots else None
