"""Which processing a notification gets, by the object it carries."""

import frappe

from salesforce_connector.constants import SKIPPED, SUCCESS
from salesforce_connector.core.errors import ConnectorError
from salesforce_connector.core.salesforce_ids import ACCOUNT_KEY_PREFIX, is_salesforce_id
from salesforce_connector.services.customers import sync_customer, upsert_contact
from salesforce_connector.services.mappings import customer_for_account, map_to
from salesforce_connector.services.opportunities import sync_opportunity
from salesforce_connector.services.outcome import Outcome
from salesforce_connector.services.settings import get_salesforce_client


def process_notification(object_type: str, fields: dict, log) -> Outcome:
	handler = HANDLERS.get(object_type)
	if handler is None:
		return Outcome(SKIPPED, reason=f"{object_type} is not an object the connector handles.")
	return handler(fields)


def process_lead(fields: dict) -> Outcome:
	# Only a converted Lead is a customer; an open one is still a prospect that sales may disqualify.
	if fields.get("IsConverted") not in ("true", True):
		return Outcome(
			SKIPPED, reason="The Lead is not converted yet; only converted Leads become customers."
		)
	return sync_customer("Lead", fields)


def process_account(fields: dict) -> Outcome:
	return sync_customer("Account", fields)


def process_contact(fields: dict) -> Outcome:
	"""A Contact joins the Customer of its Account; without an Account it waits."""
	account_id = fields.get("AccountId")
	if not account_id:
		return Outcome(
			SKIPPED,
			reason="Parked: the Contact belongs to no Account, so there is no Customer to add it to. "
			"It is processed when Salesforce sends it again with an Account.",
		)

	if not is_salesforce_id(account_id, ACCOUNT_KEY_PREFIX):
		raise ConnectorError(f"The Contact's AccountId {account_id!r} is not the Id of an Account.")

	customer = customer_for_account(account_id)
	if customer is None:
		account_outcome = sync_customer("Account", get_salesforce_client().get_record("Account", account_id))
		if account_outcome.reference_name is None:
			return account_outcome
		customer = account_outcome.reference_name

	contact = upsert_contact(frappe.get_doc("Customer", customer), map_to("Contact", "Contact", fields))
	return Outcome(
		SUCCESS,
		reason=f"Contact {contact} on customer {customer}",
		reference_doctype="Contact",
		reference_name=contact,
	)


def process_opportunity(fields: dict) -> Outcome:
	return sync_opportunity(fields["Id"])


HANDLERS = {
	"Lead": process_lead,
	"Account": process_account,
	"Contact": process_contact,
	"Opportunity": process_opportunity,
}
