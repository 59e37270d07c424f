"""GSTIN and PAN, checked by python-stdnum the way India Compliance checks them on save."""

import re
import string

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.in_ import gstin as stdnum_gstin
from stdnum.in_ import pan as stdnum_pan

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms.indian_states import GST_STATE_CODES, canonical_indian_state
from salesforce_connector.core.transforms.text import require_text

# A GSTIN's last character is a Luhn mod 36 check over these characters.
GSTIN_CHECK_ALPHABET = string.digits + string.ascii_uppercase

# python-stdnum's table of state codes stops at 37, yet Ladakh (38) and Other Territory (97) issue
# GSTINs. For those, stdnum checks the same GSTIN filed under a code it knows, then the real check
# character is checked on its own.
_CODES_STDNUM_LACKS = ("38", "97")
_STAND_IN_CODE = "27"
_GSTIN_CHARACTERS = re.compile(r"[0-9A-Z]{15}")


def normalise_gstin(value: str) -> str:
	"""The GSTIN without spaces, upper-cased, once its length, format, PAN and check character pass."""
	number = stdnum_gstin.compact(require_text(value, "a GSTIN"))

	try:
		stdnum_gstin.validate(_as_stdnum_knows_it(number))
		luhn.validate(number, GSTIN_CHECK_ALPHABET)
	except ValidationError as error:
		corrected = corrected_gstin(number)
		hint = f" If only its check character is mistyped, it is {corrected}." if corrected else ""
		raise MappingError(f"{value!r} is not a valid GSTIN: {error.message}{hint}", value=value) from error

	# stdnum still accepts 25 (Daman and Diu before the 2020 merger) and 28 (Andhra Pradesh before
	# 2014), which India Compliance refuses to match with any state
	if number[:2] not in GST_STATE_CODES.values():
		raise MappingError(f"{value!r} is not a valid GSTIN: no state has code {number[:2]}", value=value)
	return number


def build_gstin(state_code: str, pan: str, entity: str = "1") -> str:
	"""The GSTIN a PAN holder gets for its `entity`-th registration in a state, check character included.

	Useful to propose the corrected GSTIN when only the check character was mistyped.
	"""
	body = f"{state_code}{normalise_pan(pan)}{entity}Z"
	return body + luhn.calc_check_digit(body, GSTIN_CHECK_ALPHABET)


def corrected_gstin(text: str) -> str | None:
	"""The valid GSTIN that differs from `text` in its check character alone, if there is one.

	Only a proposal to confirm with the customer: a mistyped character elsewhere can also make
	the check fail, and then this GSTIN belongs to someone else. `text` is read as `normalise_gstin`
	reads it: spaces and dashes dropped, wide digits read as digits, letters upper-cased.
	"""
	compact = stdnum_gstin.compact(text)
	if len(compact) != 15:
		return None
	body = compact[:14]
	corrected = body + luhn.calc_check_digit(body, GSTIN_CHECK_ALPHABET) if _is_luhn_text(body) else None
	if corrected is None or corrected == compact:
		return None
	try:
		return normalise_gstin(corrected)
	except MappingError:
		return None


def _is_luhn_text(body: str) -> bool:
	return all(character in GSTIN_CHECK_ALPHABET for character in body)


def _as_stdnum_knows_it(number: str) -> str:
	# anything not shaped like a GSTIN stdnum rejects on its own, and rightly
	if number[:2] not in _CODES_STDNUM_LACKS or not _GSTIN_CHARACTERS.fullmatch(number):
		return number

	body = _STAND_IN_CODE + number[2:14]
	return body + luhn.calc_check_digit(body, GSTIN_CHECK_ALPHABET)


def pan_from_gstin(value: str) -> str:
	"""The holder's PAN: characters 3 to 12 of a valid GSTIN."""
	return stdnum_gstin.to_pan(normalise_gstin(value))


def state_from_gstin(value: str) -> str:
	"""The state a GSTIN is registered in, named as India Compliance names it."""
	return canonical_indian_state(normalise_gstin(value)[:2])


def normalise_pan(value: str) -> str:
	"""The PAN without spaces, upper-cased, once its length, format and holder type pass."""
	text = require_text(value, "a PAN")

	try:
		return stdnum_pan.validate(text)
	except ValidationError as error:
		raise MappingError(f"{value!r} is not a valid PAN: {error.message}", value=value) from error
