import pytest

from salesforce_connector.core.matching import (
	CREATE,
	LINK,
	REVIEW,
	MatchCandidate,
	decide_customer_match,
	same_salesforce_id,
)


def found(*names, account=None):
	return lambda: [MatchCandidate(name, account) for name in names]


def never_called():
	raise AssertionError("a later key was consulted after an earlier one decided")


def test_no_candidates_means_create():
	decision = decide_customer_match([("salesforce id", found()), ("gstin", found())], "001A")

	assert decision.action == CREATE


def test_single_candidate_is_linked_and_later_keys_are_not_consulted():
	decision = decide_customer_match([("salesforce id", found("CUST-1")), ("gstin", never_called)], "001A")

	assert decision.action == LINK
	assert decision.customer == "CUST-1"
	assert decision.matched_on == "salesforce id"


def test_first_key_with_candidates_decides():
	lookups = [("salesforce id", found()), ("gstin", found("CUST-2")), ("phone", never_called)]

	decision = decide_customer_match(lookups, "001A")

	assert (decision.action, decision.customer, decision.matched_on) == (LINK, "CUST-2", "gstin")


def test_a_link_by_id_needs_review_when_another_customer_holds_the_gstin():
	gstin = ("GSTIN 27AAPFU0939F1ZV", found("CUST-2"))

	decision = decide_customer_match([("Salesforce Id 001A", found("CUST-1")), gstin], "001A", gstin)

	assert (decision.action, decision.candidates) == (REVIEW, ("CUST-1", "CUST-2"))
	assert "CUST-2" in decision.reason and "27AAPFU0939F1ZV" in decision.reason


def test_a_link_by_id_stands_when_the_gstin_is_its_own_or_nobody_s():
	for holders in (found("CUST-1"), found()):
		gstin = ("GSTIN 27AAPFU0939F1ZV", holders)

		decision = decide_customer_match([("Salesforce Id 001A", found("CUST-1")), gstin], "001A", gstin)

		assert (decision.action, decision.customer) == (LINK, "CUST-1")


def test_a_link_made_on_the_gstin_itself_is_not_checked_again():
	gstin = ("GSTIN 27AAPFU0939F1ZV", found("CUST-2"))

	decision = decide_customer_match([("Salesforce Id 001A", found()), gstin], "001A", gstin)

	assert (decision.action, decision.customer) == (LINK, "CUST-2")


def test_two_candidates_need_review_and_are_named():
	decision = decide_customer_match([("phone", found("CUST-1", "CUST-2"))], None)

	assert decision.action == REVIEW
	assert decision.candidates == ("CUST-1", "CUST-2")
	assert "CUST-1, CUST-2" in decision.reason


def test_same_candidate_found_twice_counts_once():
	decision = decide_customer_match([("email", found("CUST-1", "CUST-1"))], None)

	assert decision.action == LINK


def test_candidate_linked_to_another_account_needs_review():
	decision = decide_customer_match([("gstin", found("CUST-1", account="001OTHER000000000A"))], "001MINE")

	assert decision.action == REVIEW
	assert "001OTHER000000000A" in decision.reason


def test_candidate_linked_to_same_account_in_other_id_form_is_linked():
	decision = decide_customer_match(
		[("gstin", found("CUST-1", account="001000000000001AAA"))], "001000000000001"
	)

	assert decision.action == LINK


@pytest.mark.parametrize(
	"first, second, expected",
	[
		("001000000000001AAA", "001000000000001", True),
		("001000000000001AAA", "001000000000001AAA", True),
		("001000000000001AAA", "001000000000002AAA", False),
		("001000000000001aaa", "001000000000001AAA", True),
		("00100000000000a", "00100000000000A", False),
	],
)
def test_salesforce_ids_compare_on_their_case_sensitive_form(first, second, expected):
	assert same_salesforce_id(first, second) is expected
