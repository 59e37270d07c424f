"""Many deals in the local org at once, for the long backfill test and the benchmark (Frappe-free).

Every Opportunity gets its lines from a few products; every other one is won. Accounts carry a
billing address in India, so that each becomes a Customer with its Address as a real one would.
"""

from dataclasses import dataclass

STATES = ("Maharashtra", "Karnataka", "Tamil Nadu", "Gujarat", "Kerala")


@dataclass(frozen=True)
class Deal:
	"""One seeded Opportunity as the ERPNext side must end up with it."""

	opportunity_id: str
	account_index: int
	won: bool
	lines: tuple[tuple[str, float, float], ...]  # (product code, quantity, unit price)


def product_codes(token: str, count: int) -> list[str]:
	return [f"SEED-{token}-{index}" for index in range(count)]


def seed_deals(
	org, token: str, count: int, *, lines: int = 3, per_account: int = 10, products: int = 3
) -> list[Deal]:
	"""`count` Opportunities named "... {token} ..." with `lines` lines each, every second one won."""
	codes = product_codes(token, products)
	entries = [_product(org, code, 100 + 25 * index) for index, code in enumerate(codes)]
	accounts: list[str] = []
	deals = []
	for index in range(count):
		if index % per_account == 0:
			accounts.append(_account(org, token, len(accounts)))
		won = index % 2 == 0
		deal_lines = tuple(
			(codes[line % products], float(1 + (index + line) % 7), float(100 + 25 * (line % products)))
			for line in range(lines)
		)
		opportunity = org.create(
			"Opportunity",
			{
				"Name": f"Deal {token} {index:05d}",
				"AccountId": accounts[-1],
				"StageName": "Closed Won" if won else "Proposal/Price Quote",
				"CloseDate": "2026-03-31",
			},
		)
		for line, (_code, quantity, price) in enumerate(deal_lines):
			org.create(
				"OpportunityLineItem",
				{
					"OpportunityId": opportunity,
					"PricebookEntryId": entries[line % products],
					"Quantity": quantity,
					"UnitPrice": price,
				},
			)
		deals.append(Deal(opportunity, len(accounts) - 1, won, deal_lines))
	return deals


def account_name(token: str, index: int) -> str:
	return f"Seeded Traders {token} {index:04d}"


def _account(org, token: str, index: int) -> str:
	return org.create(
		"Account",
		{
			"Name": account_name(token, index),
			"BillingStreet": f"{index + 1} Station Road",
			"BillingCity": "Pune",
			"BillingState": STATES[index % len(STATES)],
			"BillingPostalCode": "411001",
			"BillingCountry": "India",
		},
	)


def _product(org, code: str, price: float) -> str:
	product = org.create(
		"Product2", {"Name": f"Seeded product {code}", "ProductCode": code, "IsActive": True}
	)
	return org.create(
		"PricebookEntry",
		{
			"Pricebook2Id": org.standard_pricebook_id,
			"Product2Id": product,
			"UnitPrice": price,
			"IsActive": True,
		},
	)
