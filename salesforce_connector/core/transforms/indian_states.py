"""Indian states and union territories, named the way ERPNext with India Compliance names them.

An Indian Address is only saved with a state from the site's list, spelled exactly, and a GSTIN's
first two digits must be that state's GST code. The names and codes below are India Compliance's
(`STATE_NUMBERS` in india_compliance/gst_india/constants, branch version-15), less "Other
Countries" (96), which is no place in India.
"""

import re

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms.text import require_text

GST_STATE_CODES: dict[str, str] = {
	"Andaman and Nicobar Islands": "35",
	"Andhra Pradesh": "37",
	"Arunachal Pradesh": "12",
	"Assam": "18",
	"Bihar": "10",
	"Chandigarh": "04",
	"Chhattisgarh": "22",
	"Dadra and Nagar Haveli and Daman and Diu": "26",
	"Delhi": "07",
	"Goa": "30",
	"Gujarat": "24",
	"Haryana": "06",
	"Himachal Pradesh": "02",
	"Jammu and Kashmir": "01",
	"Jharkhand": "20",
	"Karnataka": "29",
	"Kerala": "32",
	"Ladakh": "38",
	"Lakshadweep Islands": "31",
	"Madhya Pradesh": "23",
	"Maharashtra": "27",
	"Manipur": "14",
	"Meghalaya": "17",
	"Mizoram": "15",
	"Nagaland": "13",
	"Odisha": "21",
	"Other Territory": "97",
	"Puducherry": "34",
	"Punjab": "03",
	"Rajasthan": "08",
	"Sikkim": "11",
	"Tamil Nadu": "33",
	"Telangana": "36",
	"Tripura": "16",
	"Uttar Pradesh": "09",
	"Uttarakhand": "05",
	"West Bengal": "19",
}

# What people type instead: the two-letter codes of vehicle plates and of ISO 3166-2:IN (Salesforce's
# State picklist uses the ISO ones, including the pre-2023 CT, OR, UT and TS), old names still in use
# (Orissa, Pondicherry, Uttaranchal, the two UTs merged in 2020) and the usual misspellings. Spacing,
# case, dots and "&" against "and" never matter (see _lookup_key), so "Tamilnadu" and "J & K" need
# no entry of their own. Cities are left out on purpose: "Bombay" names no state.
_ALIASES: dict[str, tuple[str, ...]] = {
	"Andaman and Nicobar Islands": ("AN", "A&N", "A&N Islands", "Andaman and Nicobar"),
	"Andhra Pradesh": ("AP",),
	"Arunachal Pradesh": ("AR",),
	"Assam": ("AS",),
	"Bihar": ("BR",),
	"Chandigarh": ("CH",),
	"Chhattisgarh": ("CG", "CT", "Chattisgarh", "Chhatisgarh", "Chattisgadh"),
	"Dadra and Nagar Haveli and Daman and Diu": (
		"DH",
		"DN",
		"DD",
		"DNHDD",
		"Dadra and Nagar Haveli",
		"Daman and Diu",
	),
	"Delhi": ("DL", "NCT of Delhi", "National Capital Territory of Delhi", "Delhi NCT"),
	"Goa": ("GA",),
	"Gujarat": ("GJ", "Guj", "Gujrat"),
	"Haryana": ("HR", "Hariyana"),
	"Himachal Pradesh": ("HP",),
	"Jammu and Kashmir": ("JK",),
	"Jharkhand": ("JH",),
	"Karnataka": ("KA", "Karnatka"),
	"Kerala": ("KL", "Kerela"),
	"Ladakh": ("LA",),
	"Lakshadweep Islands": ("LD", "Lakshadweep"),
	"Madhya Pradesh": ("MP",),
	"Maharashtra": ("MH", "Mah", "Maha", "Maharastra"),
	"Manipur": ("MN",),
	"Meghalaya": ("ML",),
	"Mizoram": ("MZ",),
	"Nagaland": ("NL",),
	"Odisha": ("OD", "OR", "Orissa"),
	"Puducherry": ("PY", "Pondicherry", "Pondy"),
	"Punjab": ("PB",),
	"Rajasthan": ("RJ", "Raj"),
	"Sikkim": ("SK",),
	"Tamil Nadu": ("TN",),
	"Telangana": ("TG", "TS", "Telengana"),
	"Tripura": ("TR",),
	"Uttar Pradesh": ("UP",),
	"Uttarakhand": ("UK", "UT", "UA", "Uttaranchal", "Uttrakhand"),
	"West Bengal": ("WB",),
}

_ISO_PREFIX = re.compile(r"^\s*IN-(?=[A-Z]{2}\s*$)", re.IGNORECASE)


def _lookup_key(text: str) -> str:
	text = _ISO_PREFIX.sub("", text).casefold().replace("&", " and ")
	words = re.findall(r"[a-z0-9]+", text)
	key = "".join(word for word in words if word != "and")

	# a GST code kept in a number field loses its leading zero ("7" for Delhi's "07")
	return key.zfill(2) if key.isdigit() else key


def _build_state_lookup() -> dict[str, str]:
	lookup: dict[str, str] = {}

	for state, code in GST_STATE_CODES.items():
		for name in (state, code, *_ALIASES.get(state, ())):
			key = _lookup_key(name)
			if lookup.setdefault(key, state) != state:
				raise ValueError(f"{name!r} would stand for both {lookup[key]} and {state}")

	return lookup


_STATE_BY_KEY = _build_state_lookup()


def canonical_indian_state(value: str) -> str:
	"""The state's name as India Compliance spells it, from a name, abbreviation or GST code."""
	text = require_text(value, "an Indian state")
	state = _STATE_BY_KEY.get(_lookup_key(text))

	if state is None:
		raise MappingError(f"{value!r} is not an Indian state or union territory", value=value)
	return state


def gst_state_code(state_name: str) -> str:
	"""The two-digit GST code of a state, given any spelling canonical_indian_state understands."""
	return GST_STATE_CODES[canonical_indian_state(state_name)]
