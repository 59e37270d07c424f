from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Outcome:
	"""What processing one notification came to, as the Sync Log row will show it."""

	status: str
	reason: str | None = None
	reference_doctype: str | None = None
	reference_name: str | None = None
	notes: list[str] = field(default_factory=list)
	applied_modstamp: datetime | None = None
