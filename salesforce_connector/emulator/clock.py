"""A clock tests can stop, move and set, so that timestamps, token expiry and retries are predictable."""

import threading
from datetime import datetime, timedelta, timezone


def utc_now_seconds() -> datetime:
	return datetime.now(timezone.utc).replace(microsecond=0)


class VirtualClock:
	"""Frozen by default at the moment it is made; `running=True` makes it follow real time.

	Salesforce keeps timestamps to the second, so the clock never hands out microseconds.
	"""

	def __init__(self, start: datetime | None = None, *, running: bool = False):
		self._lock = threading.Lock()
		self._base = (start or utc_now_seconds()).astimezone(timezone.utc).replace(microsecond=0)
		self._running = running
		self._real_base = datetime.now(timezone.utc)

	def now(self) -> datetime:
		with self._lock:
			if not self._running:
				return self._base
			elapsed = datetime.now(timezone.utc) - self._real_base
			return (self._base + elapsed).replace(microsecond=0)

	def advance(self, delta: timedelta | None = None, **kwargs) -> datetime:
		"""Move forward by a timedelta or by timedelta keyword arguments (seconds=, hours=...)."""
		step = delta if delta is not None else timedelta(**kwargs)
		if step < timedelta(0):
			raise ValueError("a clock only moves forward")

		with self._lock:
			self._base += step
		return self.now()

	def set(self, moment: datetime) -> None:
		with self._lock:
			self._base = moment.astimezone(timezone.utc).replace(microsecond=0)
			self._real_base = datetime.now(timezone.utc)
