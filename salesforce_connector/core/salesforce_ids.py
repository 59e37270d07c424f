"""Comparing Salesforce record Ids, which come in two forms.

The 15-character Id is case-sensitive. The 18-character Id appends three characters that encode
the case of the first fifteen, so that 18-character Ids can be compared ignoring case.
Reference: Salesforce Help, "What Is a Record ID?".
"""

import re

CASE_SENSITIVE_LENGTH = 15
CASE_SAFE_LENGTH = 18
SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
# The first three characters name the object. Reference: Salesforce Help, "Standard Field Record
# ID Prefix Decoder".
ACCOUNT_KEY_PREFIX = "001"
OPPORTUNITY_KEY_PREFIX = "006"


def is_salesforce_id(value, key_prefix: str | None = None) -> bool:
	"""Whether a value has the shape of a record Id (and, if given, the object's key prefix)."""
	if not isinstance(value, str) or not SALESFORCE_ID.fullmatch(value):
		return False
	return key_prefix is None or value.startswith(key_prefix)


def comparable_forms(first: str, second: str) -> tuple[str, str]:
	"""The forms in which two Ids are equal exactly when they name the same record.

	Two 18-character Ids compare whole and without case, so one pasted in lower case still matches.
	Otherwise the first fifteen characters compare with case, the only safe reading of a
	15-character Id. The suffix is not used to repair case, because Ids copied by hand or made up
	in test data often carry a suffix that does not match.
	"""
	first, second = first.strip(), second.strip()
	if len(first) == len(second) == CASE_SAFE_LENGTH:
		return first.lower(), second.lower()
	return first[:CASE_SENSITIVE_LENGTH], second[:CASE_SENSITIVE_LENGTH]


def same_salesforce_id(first: str, second: str) -> bool:
	one, other = comparable_forms(first, second)
	return len(one) >= CASE_SENSITIVE_LENGTH and one == other
