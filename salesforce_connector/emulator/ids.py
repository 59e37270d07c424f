"""Salesforce record Ids: key prefixes, the case-safe checksum, 15 to 18 character conversion.

An Id is 15 case-sensitive characters; the 18-character form appends three characters that encode
which of the 15 are upper case, so that case-insensitive systems can still tell Ids apart
(https://help.salesforce.com/s/articleView?id=000385008, "What are Salesforce IDs composed of?").
"""

import itertools
import re
import string
import threading

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CHECKSUM_ALPHABET = string.ascii_uppercase + "012345"
ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")

# the pod part of a real Id; any two characters do, these make emulated Ids easy to spot
POD = "8e"


def checksum_suffix(id15: str) -> str:
	suffix = ""
	for start in (0, 5, 10):
		chunk = id15[start : start + 5]
		bits = sum(1 << position for position, char in enumerate(chunk) if char.isupper())
		suffix += CHECKSUM_ALPHABET[bits]
	return suffix


def to_18(record_id: str) -> str:
	"""Return the 18-character form of a 15- or 18-character Id; raise ValueError for anything else."""
	if not isinstance(record_id, str) or not ID_PATTERN.match(record_id):
		raise ValueError(f"not a Salesforce Id: {record_id!r}")

	id15 = record_id[:15]
	return id15 + checksum_suffix(id15)


def is_valid_id(record_id: str) -> bool:
	"""True for a 15-character Id, or an 18-character one whose suffix matches its case."""
	if not isinstance(record_id, str) or not ID_PATTERN.match(record_id):
		return False

	return len(record_id) == 15 or record_id[15:] == checksum_suffix(record_id[:15])


def base62(number: int, width: int) -> str:
	digits = ""
	while number:
		number, remainder = divmod(number, 62)
		digits = BASE62[remainder] + digits
	return digits.rjust(width, "0")


class IdFactory:
	"""Hands out fresh 18-character Ids for a key prefix; thread-safe."""

	def __init__(self, start: int = 0x1F2E3D):
		# a non-trivial start makes Ids mix upper and lower case, so checksums are exercised
		self._counter = itertools.count(start)
		self._lock = threading.Lock()

	def new_id(self, key_prefix: str) -> str:
		if len(key_prefix) != 3:
			raise ValueError(f"a key prefix has three characters, not {key_prefix!r}")

		with self._lock:
			serial = next(self._counter)
		return to_18(key_prefix + POD + "0" + base62(serial * 7919, 9))
