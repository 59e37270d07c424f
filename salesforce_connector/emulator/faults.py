"""Injected failures: a route, the calls to let through first, how many times to fail, and how.

Routes are `"METHOD pattern"`: the pattern is matched (fnmatch) against the path after
`/services/data/vNN.N/`, e.g. `"PATCH composite/sobjects"`, `"GET query*"`, `"* sobjects/Opportunity/*"`;
a pattern starting with `/` is matched against the whole path, e.g. `"POST /services/oauth2/token"`.
"""

import fnmatch
import threading
from dataclasses import dataclass, field


@dataclass
class Fault:
	status: int | None
	body: list | dict | None = None
	delay: float = 0.0
	record_id: str | None = None
	headers: dict = field(default_factory=dict)


def session_expired() -> Fault:
	return Fault(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


def request_limit_exceeded() -> Fault:
	return Fault(403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])


def unable_to_lock_row(record_id: str | None = None) -> Fault:
	# a lock timeout is a 400, not a 5xx, yet trying again later usually works
	# (https://developer.salesforce.com/docs/atlas.en-us.salesforce_large_data_volumes_bp.meta/salesforce_large_data_volumes_bp/ldv_deployments_best_practices_locking.htm)
	message = f"unable to obtain exclusive access to this record or 1 records: {record_id or ''}".strip()
	return Fault(
		400, [{"message": message, "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}], record_id=record_id
	)


def validation_error(message: str, fields: list[str] | None = None, record_id: str | None = None) -> Fault:
	error = {
		"message": message,
		"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
		"fields": list(fields or []),
	}
	return Fault(400, [error], record_id=record_id)


def entity_is_deleted() -> Fault:
	return Fault(404, [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}])


def server_error() -> Fault:
	message = "An unexpected error occurred. Please include this ErrorId if you contact support: 1946851234-52301 (-1212461345)"
	return Fault(500, [{"message": message, "errorCode": "UNKNOWN_EXCEPTION"}])


def service_unavailable() -> Fault:
	message = "Server temporarily unavailable; please try again later."
	return Fault(503, [{"message": message, "errorCode": "SERVER_UNAVAILABLE"}])


def slow(seconds: float) -> Fault:
	"""Answer normally, but only after `seconds` of real time, so a client's timeout can fire."""
	return Fault(None, delay=seconds)


@dataclass
class FaultRule:
	method: str
	pattern: str
	fault: Fault
	skip: int = 0
	times: int = 1
	seen: int = 0
	fired: int = 0

	def matches(self, method: str, path: str, data_path: str | None) -> bool:
		if self.method not in ("*", method):
			return False
		if self.pattern.startswith("/"):
			return fnmatch.fnmatchcase(path, self.pattern)
		return data_path is not None and fnmatch.fnmatchcase(data_path.strip("/"), self.pattern)

	@property
	def exhausted(self) -> bool:
		return self.fired >= self.times


class FaultInjector:
	def __init__(self):
		self._rules: list[FaultRule] = []
		self._lock = threading.Lock()

	def add(self, route: str, fault: Fault, *, times: int = 1, skip: int = 0) -> FaultRule:
		"""Fail the matching calls number skip+1 .. skip+times with `fault`."""
		method, _, pattern = route.strip().partition(" ")
		if not pattern:
			raise ValueError(f"a route is 'METHOD pattern', not {route!r}")

		rule = FaultRule(method.upper(), pattern.strip(), fault, skip=skip, times=times)
		with self._lock:
			self._rules.append(rule)
		return rule

	def clear(self) -> None:
		with self._lock:
			self._rules.clear()

	def take(self, method: str, path: str, data_path: str | None) -> Fault | None:
		"""The fault for this call, if a rule wants this one; counts the call against every match."""
		chosen = None
		with self._lock:
			for rule in self._rules:
				if rule.exhausted or not rule.matches(method, path, data_path):
					continue
				rule.seen += 1
				if chosen is None and rule.seen > rule.skip:
					rule.fired += 1
					chosen = rule.fault
		return chosen
