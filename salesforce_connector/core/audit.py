"""Auditing Indian party data: what is wrong with stored values, what to do, and which parties are
likely one firm. Frappe-free; the Frappe layer reads Customers, Addresses and Contacts into `Value`s
and applies the fixes.

Only three fixes are safe to make without a person looking: a state written another way ("MH") made
canonical ("Maharashtra"), a phone written another way made E.164, and a valid GSTIN upper-cased
without spaces. Each keeps the meaning and changes the spelling. Everything else (an invalid GSTIN,
an unknown state, two customers that look the same) is reported with a proposal for a person.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pycountry

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import (
	DEFAULT_REGION,
	canonical_indian_state,
	corrected_gstin,
	normalise_gstin,
	to_e164,
)

GSTIN = "gstin"
STATE = "state"
PHONE = "phone"
EMAIL = "email"

INDIA = "India"

# A party is the ERPNext document a value belongs to: ("Customer", name), or ("Contact", name) and
# ("Address", name) for those linked to no customer.
Party = tuple[str, str]


@dataclass(frozen=True)
class Value:
	"""One stored value: where it lives, what it is, and whose it is."""

	doctype: str  # the doctype holding the value; a child table's for a Contact's phone rows
	name: str
	field: str
	kind: str
	value: str
	document: Party  # the document a person opens to see it (a child row's parent)
	parties: tuple[Party, ...]
	country: str | None = None  # of an address; None is read as India


@dataclass(frozen=True)
class Fix:
	doctype: str
	name: str
	field: str
	old: str
	new: str


@dataclass(frozen=True)
class Finding:
	problem: str
	value: Value
	proposal: str
	fix: Fix | None = None


@dataclass(frozen=True)
class DuplicateGroup:
	key: str
	parties: tuple[Party, ...]
	proposal: str


def check_values(values: Iterable[Value]) -> list[Finding]:
	"""Every value that is invalid or not written the canonical way, with a proposal."""
	checks = {GSTIN: _check_gstin, STATE: _check_state, PHONE: _check_phone}
	findings = []
	for value in values:
		check = checks.get(value.kind)
		finding = check(value) if check and value.value.strip() else None
		if finding:
			findings.append(finding)
	return findings


def safe_fixes(findings: Iterable[Finding]) -> list[Fix]:
	return [finding.fix for finding in findings if finding.fix]


def group_duplicates(values: Iterable[Value], preference: Sequence[Party] = ()) -> list[DuplicateGroup]:
	"""Groups of two or more parties sharing a GSTIN, a PAN in one state, a phone or an e-mail.

	`preference` orders parties by which to keep (say, linked to Salesforce first, then oldest); the
	first of a group in that order is proposed as the one the others merge into.
	"""
	parties_by_key: dict[str, set[Party]] = defaultdict(set)
	gstins_by_key: dict[str, set[str]] = defaultdict(set)
	for value in values:
		for key in _duplicate_keys(value):
			parties_by_key[key].update(value.parties)
			gstins_by_key[key].add("".join(value.value.split()).upper())

	groups = []
	for key, parties in parties_by_key.items():
		# parties sharing one GSTIN are reported under it; their PAN adds news only with two GSTINs
		if len(parties) < 2 or (key.startswith("PAN ") and len(gstins_by_key[key]) < 2):
			continue
		ordered = _ordered(parties, preference)
		groups.append(DuplicateGroup(key, ordered, _merge_proposal(ordered)))
	return sorted(groups, key=lambda group: (group.key, group.parties))


# the three checks


def _check_gstin(value: Value) -> Finding | None:
	try:
		normalised = normalise_gstin(value.value)
	except MappingError as error:
		return Finding("Invalid GSTIN", value, _gstin_proposal(value.value, error))

	if normalised == value.value:
		return None
	fix = Fix(value.doctype, value.name, value.field, value.value, normalised)
	return Finding("GSTIN not upper case", value, f"Write it as {normalised}", fix)


def _gstin_proposal(text: str, error: MappingError) -> str:
	corrected = corrected_gstin(text)
	if corrected:
		return f"The check character looks mistyped: {corrected}? Confirm with the customer"
	return f"Ask the customer for the GSTIN ({error.message})"


def _check_state(value: Value) -> Finding | None:
	if not _is_indian(value.country):
		return None
	try:
		canonical = canonical_indian_state(value.value)
	except MappingError:
		return Finding(
			"Unknown state", value, "Pick the state from the list of Indian states and union territories"
		)

	if canonical == value.value:
		return None
	fix = Fix(value.doctype, value.name, value.field, value.value, canonical)
	return Finding("State not canonical", value, f"Write it as {canonical}", fix)


def _check_phone(value: Value) -> Finding | None:
	region = _phone_region(value.country)
	try:
		e164 = to_e164(value.value, region)
	except MappingError as error:
		return Finding("Invalid phone", value, f"Ask for the number again ({error.message})")

	if e164 == value.value:
		return None
	fix = Fix(value.doctype, value.name, value.field, value.value, e164)
	return Finding("Phone not in E.164", value, f"Write it as {e164}", fix)


def _is_indian(country: str | None) -> bool:
	return not country or country.strip().casefold() in {"india", "in", "ind", "bharat"}


def _phone_region(country: str | None) -> str:
	if _is_indian(country):
		return DEFAULT_REGION
	try:
		return pycountry.countries.lookup(country).alpha_2
	except LookupError:
		return DEFAULT_REGION


# duplicates


def _duplicate_keys(value: Value) -> list[str]:
	text = value.value.strip()
	if not text:
		return []
	if value.kind == GSTIN:
		return _gstin_keys(text)
	if value.kind == PHONE:
		try:
			return [f"phone {to_e164(text, _phone_region(value.country))}"]
		except MappingError:
			return []
	if value.kind == EMAIL:
		return [f"e-mail {text.casefold()}"]
	return []


def _gstin_keys(text: str) -> list[str]:
	compact = "".join(text.split()).upper()
	keys = [f"GSTIN {compact}"]
	try:
		valid = normalise_gstin(compact)
	except MappingError:
		return keys
	# one PAN holds one registration per state and business vertical; two in a state are worth a look
	state = canonical_indian_state(valid[:2])
	return [*keys, f"PAN {valid[2:12]} in {state}"]


def _ordered(parties: set[Party], preference: Sequence[Party]) -> tuple[Party, ...]:
	rank = {party: index for index, party in enumerate(preference)}
	return tuple(sorted(parties, key=lambda party: (rank.get(party, len(rank)), party)))


def _merge_proposal(parties: tuple[Party, ...]) -> str:
	keep, *others = parties
	others_text = ", ".join(f"{doctype} {name}" for doctype, name in others)
	return (
		f"Likely the same: check, then merge {others_text} into {keep[0]} {keep[1]} "
		f"(Rename with 'Merge with existing')"
	)
