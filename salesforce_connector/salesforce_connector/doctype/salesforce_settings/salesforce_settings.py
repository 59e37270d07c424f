import re

import frappe
from frappe import _
from frappe.model.document import Document

# Salesforce record and organization Ids: 15 case-sensitive or 18 case-safe characters.
SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


class SalesforceSettings(Document):
	def validate(self):
		self.validate_organization_ids()
		self.validate_defaults()

	def validate_organization_ids(self):
		for organization_id in self.allowed_organization_id_list():
			if not SALESFORCE_ID.match(organization_id):
				frappe.throw(
					_("{0} is not a Salesforce Organization Id (15 or 18 letters and digits).").format(
						frappe.bold(organization_id)
					)
				)
		if self.enabled and not self.allowed_organization_id_list():
			frappe.throw(_("Add the Organization Id of your Salesforce org before enabling the integration."))

	def validate_defaults(self):
		if self.login_url:
			self.validate_login_url()
		if self.delivery_lead_days is not None and self.delivery_lead_days < 0:
			frappe.throw(_("Delivery Lead Time cannot be negative."))
		if self.max_daily_api_share is not None and not 0 < self.max_daily_api_share <= 100:
			frappe.throw(_("The share of the daily API limit must be between 1 and 100 per cent."))

	def validate_login_url(self):
		from salesforce_connector.core.client import check_login_url

		try:
			check_login_url(self.login_url.strip())
		except ValueError:
			frappe.throw(
				_(
					"Login URL Override must start with https:// (or http:// for an org on this machine): {0}"
				).format(frappe.bold(self.login_url))
			)

	def allowed_organization_id_list(self) -> list[str]:
		return [line.strip() for line in (self.allowed_organization_ids or "").splitlines() if line.strip()]

	@frappe.whitelist()
	def test_connection(self):
		frappe.only_for("System Manager")
		from salesforce_connector.services.settings import get_salesforce_client

		report = get_salesforce_client().test_connection()
		if not (report.ok and report.org_id):
			return {"ok": report.ok, "message": report.message}

		allowed = self.organization_allowed(report.org_id)
		if allowed:
			note = _("Its Organization Id {0} is allowed to send messages.")
		else:
			note = _(
				"But its Organization Id {0} is not in Allowed Organization Ids: its Outbound Messages"
				" are refused until you add it."
			)
		return {"ok": allowed, "message": f"{report.message} {note.format(report.org_id)}"}

	def organization_allowed(self, organization_id: str) -> bool:
		# Salesforce gives the org's Id in 15 or 18 characters; the first 15 name it
		return any(each[:15] == organization_id[:15] for each in self.allowed_organization_id_list())

	@frappe.whitelist()
	def gst_fields_note(self):
		if "india_compliance" in frappe.get_installed_apps():
			return _("India Compliance is installed: GSTIN and GST category are kept in its own fields.")
		return _("India Compliance is not installed: a customer's GSTIN is kept in Tax Id (tax_id).")
