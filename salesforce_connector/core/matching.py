"""Deciding whether a Salesforce customer is already in ERPNext.

Keys are tried in a fixed order of trust: the Salesforce Id we stored, the GSTIN, the phone number
in E.164, the e-mail address. The first key that finds anything decides; a name is never a key,
because two firms called "Sharma Traders" are two customers. One check follows a decision: a
GSTIN is one registered business, so a customer found by its Salesforce Id is not linked while
another customer holds the GSTIN the record now carries.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from salesforce_connector.core.salesforce_ids import same_salesforce_id

CREATE = "create"
LINK = "link"
REVIEW = "review"


@dataclass(frozen=True)
class MatchCandidate:
	name: str
	salesforce_account_id: str | None = None


@dataclass(frozen=True)
class MatchDecision:
	action: str
	customer: str | None = None
	matched_on: str | None = None
	candidates: tuple[str, ...] = ()
	reason: str = ""


Lookup = tuple[str, Callable[[], list[MatchCandidate]]]


def decide_customer_match(
	lookups: Iterable[Lookup], salesforce_account_id: str | None, identity: Lookup | None = None
) -> MatchDecision:
	"""Run the lookups in order, lazily, and decide from the first one that finds candidates.

	`identity` is a key no two customers may share (the GSTIN); it is asked again after a link made
	on another key, and a different customer holding it turns the link into a review.
	"""
	for key, lookup in lookups:
		candidates = _unique_by_name(lookup())
		if not candidates:
			continue

		if len(candidates) > 1:
			names = tuple(candidate.name for candidate in candidates)
			return MatchDecision(
				REVIEW,
				matched_on=key,
				candidates=names,
				reason=f"{len(names)} customers share this {key}: {', '.join(names)}",
			)

		decision = _decide_single(candidates[0], key, salesforce_account_id)
		if decision.action == LINK and identity and identity[0] != key:
			return _check_identity(decision, identity)
		return decision

	return MatchDecision(CREATE, reason="no existing customer matches")


def _check_identity(decision: MatchDecision, identity: Lookup) -> MatchDecision:
	key, lookup = identity
	holders = tuple(
		candidate.name for candidate in _unique_by_name(lookup()) if candidate.name != decision.customer
	)
	if not holders:
		return decision
	return MatchDecision(
		REVIEW,
		matched_on=decision.matched_on,
		candidates=(decision.customer, *holders),
		reason=(
			f"customer {decision.customer} matches on {decision.matched_on}, but the record's {key} "
			f"belongs to customer {', '.join(holders)}"
		),
	)


def _decide_single(candidate: MatchCandidate, key: str, salesforce_account_id: str | None) -> MatchDecision:
	linked_elsewhere = (
		salesforce_account_id
		and candidate.salesforce_account_id
		and not same_salesforce_id(candidate.salesforce_account_id, salesforce_account_id)
	)
	if linked_elsewhere:
		return MatchDecision(
			REVIEW,
			matched_on=key,
			candidates=(candidate.name,),
			reason=(
				f"customer {candidate.name} matches on {key} but is linked to Salesforce Account "
				f"{candidate.salesforce_account_id}, not {salesforce_account_id}"
			),
		)
	return MatchDecision(LINK, customer=candidate.name, matched_on=key, reason=f"matched on {key}")


def _unique_by_name(candidates: list[MatchCandidate]) -> list[MatchCandidate]:
	seen: dict[str, MatchCandidate] = {}
	for candidate in candidates:
		seen.setdefault(candidate.name, candidate)
	return list(seen.values())
