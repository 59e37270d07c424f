"""Comparing Salesforce record Ids, which come in two forms.

The 15-character Id is case-sensitive. The 18-character Id appends three characters that encode
the case of the first fifteen, so that 18-character Ids can be compared ignoring case.
Reference: Salesforce Help, "What Is a Record ID?".
"""

CASE_SENSITIVE_LENGTH = 15
CASE_SAFE_LENGTH = 18


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
