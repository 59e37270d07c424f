"""Auditing party data: findings, safe fixes and likely duplicates, on values shaped as ERPNext keeps them."""

import pytest

from salesforce_connector.core.audit import (
	EMAIL,
	GSTIN,
	PHONE,
	STATE,
	Fix,
	Value,
	check_values,
	group_duplicates,
	safe_fixes,
)
from salesforce_connector.core.transforms import build_gstin

PAN = "AAAPL1234C"
GSTIN_KA = build_gstin("29", PAN)  # Karnataka
GSTIN_KA_2 = build_gstin("29", PAN, entity="2")
GSTIN_MH = build_gstin("27", PAN)


def customer(name: str) -> tuple[str, str]:
	return ("Customer", name)


FIRST_CUSTOMER = ("Customer", "CUST-1")


def value(
	kind, text, *, parties=(FIRST_CUSTOMER,), doctype="Customer", name="CUST-1", field=None, country=None
):
	return Value(
		doctype=doctype,
		name=name,
		field=field or kind,
		kind=kind,
		value=text,
		document=(doctype, name),
		parties=tuple(parties),
		country=country,
	)


@pytest.mark.parametrize("text", ["MH", "mah", "27", "maharashtra", "Maharastra"])
def test_state_written_another_way_gets_the_canonical_name_as_a_safe_fix(text):
	[finding] = check_values([value(STATE, text, doctype="Address", name="ADDR-1")])

	assert finding.problem == "State not canonical"
	assert finding.fix == Fix("Address", "ADDR-1", "state", text, "Maharashtra")


def test_canonical_state_is_fine():
	assert check_values([value(STATE, "Tamil Nadu", doctype="Address")]) == []


def test_unknown_state_has_a_proposal_but_no_fix():
	[finding] = check_values([value(STATE, "Bombay Presidency", doctype="Address")])

	assert finding.problem == "Unknown state"
	assert finding.fix is None


def test_state_outside_india_is_left_alone():
	assert check_values([value(STATE, "WA", doctype="Address", country="United States")]) == []


@pytest.mark.parametrize("text", ["098200 12345", "+91-98200-12345", "9820012345", "+91 98200 12345"])
def test_indian_phone_gets_e164_as_a_safe_fix(text):
	[finding] = check_values([value(PHONE, text, field="mobile_no")])

	assert finding.fix.new == "+919820012345"
	assert finding.fix.field == "mobile_no"


def test_phone_of_a_foreign_address_is_read_in_its_country():
	[finding] = check_values([value(PHONE, "(202) 555-0143", doctype="Address", country="United States")])

	assert finding.fix.new == "+12025550143"


def test_phone_in_e164_is_fine():
	assert check_values([value(PHONE, "+919820012345")]) == []


def test_impossible_phone_has_no_fix():
	[finding] = check_values([value(PHONE, "12")])

	assert finding.problem == "Invalid phone"
	assert finding.fix is None


def test_lower_case_gstin_with_spaces_is_upper_cased_as_a_safe_fix():
	text = f" {GSTIN_KA[:5].lower()} {GSTIN_KA[5:].lower()}"

	[finding] = check_values([value(GSTIN, text, field="tax_id")])

	assert finding.fix == Fix("Customer", "CUST-1", "tax_id", text, GSTIN_KA)


def test_gstin_with_a_wrong_check_character_proposes_the_right_one_but_fixes_nothing():
	wrong = GSTIN_KA[:14] + ("A" if GSTIN_KA[14] != "A" else "B")

	[finding] = check_values([value(GSTIN, wrong, field="tax_id")])

	assert finding.problem == "Invalid GSTIN"
	assert GSTIN_KA in finding.proposal
	assert finding.fix is None


@pytest.mark.parametrize("state", ["29-", "\uff12\uff19"])
def test_gstin_written_with_a_hyphen_or_wide_digits_gets_the_check_character_proposal(state):
	wrong = state + GSTIN_KA[2:14] + ("A" if GSTIN_KA[14] != "A" else "B")

	[finding] = check_values([value(GSTIN, wrong, field="tax_id")])

	assert finding.proposal.startswith(f"The check character looks mistyped: {GSTIN_KA}?")


def test_gstin_that_cannot_be_repaired_asks_for_it_again():
	[finding] = check_values([value(GSTIN, "NOT A GSTIN", field="tax_id")])

	assert finding.proposal.startswith("Ask the customer for the GSTIN")


def test_valid_values_give_no_findings_so_a_second_fix_run_changes_nothing():
	findings = check_values([value(GSTIN, "29 aaapl1234c1z5".upper()), value(PHONE, "09820012345")])
	fixed = [value(fix.field, fix.new) for fix in safe_fixes(findings)]

	assert check_values(fixed) == []


def test_customers_sharing_a_gstin_form_a_group_with_the_preferred_one_kept():
	values = [
		value(GSTIN, GSTIN_KA, parties=[customer("B")]),
		value(GSTIN, GSTIN_KA.lower(), parties=[customer("A")]),
		value(GSTIN, GSTIN_MH, parties=[customer("C")]),
	]

	[group] = group_duplicates(values, preference=[customer("B")])

	assert group.key == f"GSTIN {GSTIN_KA}"
	assert group.parties == (customer("B"), customer("A"))
	assert "merge Customer A into Customer B" in group.proposal


def test_same_pan_in_one_state_under_two_gstins_is_a_group():
	values = [
		value(GSTIN, GSTIN_KA, parties=[customer("A")]),
		value(GSTIN, GSTIN_KA_2, parties=[customer("B")]),
		value(GSTIN, GSTIN_MH, parties=[customer("C")]),
	]

	[group] = group_duplicates(values)

	assert group.key == f"PAN {PAN} in Karnataka"
	assert group.parties == (customer("A"), customer("B"))


def test_one_shared_gstin_is_not_reported_again_as_a_shared_pan():
	values = [
		value(GSTIN, GSTIN_KA, parties=[customer("A")]),
		value(GSTIN, GSTIN_KA, parties=[customer("B")]),
	]

	assert [group.key for group in group_duplicates(values)] == [f"GSTIN {GSTIN_KA}"]


def test_phones_written_differently_are_one_key():
	values = [
		value(PHONE, "098200 12345", doctype="Contact Phone", name="row1", parties=[customer("A")]),
		value(PHONE, "+91 98200-12345", doctype="Address", name="ADDR-9", parties=[customer("B")]),
	]

	[group] = group_duplicates(values)

	assert group.key == "phone +919820012345"


def test_emails_differing_in_case_are_one_key():
	values = [
		value(EMAIL, "Asha@Sharma.example", parties=[customer("A")]),
		value(EMAIL, "asha@sharma.EXAMPLE", parties=[("Contact", "Asha Sharma")]),
	]

	[group] = group_duplicates(values)

	assert group.parties == (("Contact", "Asha Sharma"), customer("A"))


def test_one_party_with_the_key_twice_is_no_group():
	values = [value(EMAIL, "a@b.example"), value(EMAIL, "A@B.example", doctype="Contact Email", name="r")]

	assert group_duplicates(values) == []


def test_a_value_shared_by_two_linked_customers_groups_them():
	values = [value(PHONE, "+919820012345", doctype="Address", parties=[customer("A"), customer("B")])]

	[group] = group_duplicates(values)

	assert group.parties == (customer("A"), customer("B"))
