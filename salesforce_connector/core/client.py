"""The connector's Salesforce client: simple-salesforce behind typed errors, retries and a budget.

Frappe-free. Every HTTP call, logins included, goes through one `requests.Session` with a default
timeout, so tests (and an admin's local org) can be reached the same way as Salesforce itself.
"""

import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import jwt
import requests
import tenacity
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError as SimpleSalesforceError
from simple_salesforce.format import format_soql

from salesforce_connector.core.errors import (
	AuthenticationError,
	MalformedQueryError,
	NotFoundError,
	PermanentSalesforceError,
	RequestLimitError,
	RetryableSalesforceError,
	SalesforceError,
	SessionExpiredError,
	ValidationRuleError,
)
from salesforce_connector.core.salesforce_ids import is_salesforce_id

logger = logging.getLogger(__name__)

FLOWS = ("client_credentials", "jwt_bearer", "password")
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
COLLECTION_SIZE = 200
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")

# a lock timeout arrives as HTTP 400 yet is worth retrying
# (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm)
RETRYABLE_CODES = {
	"UNABLE_TO_LOCK_ROW",
	"SERVER_UNAVAILABLE",
	"UNKNOWN_EXCEPTION",
	"REQUEST_RUNNING_TOO_LONG",
}
NOT_FOUND_CODES = {"NOT_FOUND", "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"}
QUERY_CODES = {
	"MALFORMED_QUERY",
	"INVALID_FIELD",
	"INVALID_TYPE",
	"INVALID_QUERY_FILTER_OPERATOR",
	"INVALID_QUERY_LOCATOR",
}
ACCESS_CODES = {"API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED", "INSUFFICIENT_ACCESS"}

OPPORTUNITY_FIELDS = [
	"Id",
	"Name",
	"StageName",
	"IsWon",
	"IsClosed",
	"Amount",
	"CloseDate",
	"SystemModstamp",
	"AccountId",
]
ACCOUNT_FIELDS = [
	"Id", "Name", "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "Phone",
]  # fmt: skip
LINE_ITEM_FIELDS = [
	"Id", "Quantity", "UnitPrice", "TotalPrice", "Description", "Product2Id", "Product2.ProductCode", "Product2.Name",
]  # fmt: skip


@dataclass
class ClientSettings:
	"""How to reach and log in to one org; the Frappe layer fills it from Salesforce Settings."""

	auth_flow: str = "client_credentials"
	consumer_key: str = ""
	consumer_secret: str = ""
	username: str = ""
	password: str = ""
	security_token: str = ""
	private_key_pem: str = ""
	# "login", "test", or a My Domain such as "acme.my" or "acme.my.salesforce.com"
	domain: str = "login"
	# a full base URL that replaces the domain, e.g. http://127.0.0.1:8443 for the local emulator
	login_url: str | None = None
	api_version: str = "59.0"
	timeout: float = 30.0
	# non-urgent work stops once this share of the org's daily API calls is used
	max_daily_share: float = 0.5
	retry_attempts: int = 4
	retry_initial_wait: float = 1.0
	retry_max_wait: float = 30.0

	def __post_init__(self):
		if self.auth_flow not in FLOWS:
			raise ValueError(f"auth_flow must be one of {FLOWS}, not {self.auth_flow!r}")
		if self.login_url:
			check_login_url(self.login_url)

	@property
	def login_host(self) -> str:
		domain = self.domain.strip().lower().removeprefix("https://").rstrip("/")
		if domain in ("login", "test"):
			return f"{domain}.salesforce.com"
		return domain if domain.endswith(".salesforce.com") else f"{domain}.salesforce.com"

	@property
	def login_base(self) -> str:
		return self.login_url.rstrip("/") if self.login_url else f"https://{self.login_host}"

	@property
	def token_url(self) -> str:
		return f"{self.login_base}/services/oauth2/token"

	@property
	def audience(self) -> str:
		# a JWT's aud names the login server, test.salesforce.com for every sandbox
		# (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm)
		sandbox = self.domain == "test" or ".sandbox." in self.login_host
		return "https://test.salesforce.com" if sandbox else "https://login.salesforce.com"


@dataclass
class RecordError:
	code: str
	message: str
	fields: list[str] = field(default_factory=list)

	@property
	def retryable(self) -> bool:
		return self.code in RETRYABLE_CODES


@dataclass
class RecordResult:
	"""One record's outcome in an sObject Collections call; `id` is kept even when it failed."""

	id: str | None
	success: bool
	errors: list[RecordError] = field(default_factory=list)

	@property
	def retryable(self) -> bool:
		return not self.success and all(error.retryable for error in self.errors)


@dataclass
class ConnectionReport:
	ok: bool
	message: str
	problem: str | None = None
	instance_url: str | None = None
	org_id: str | None = None
	user_id: str | None = None
	api_usage: tuple[int, int] | None = None


class SalesforceClient:
	"""Logs in with the configured flow and wraps simple-salesforce with typed errors and retries."""

	def __init__(self, settings: ClientSettings, session: requests.Session | None = None):
		self.settings = settings
		self.session = session or requests.Session()
		self.api_usage: tuple[int, int] | None = None
		self.instance_url: str | None = None
		self.identity_url: str | None = None
		self._sf: Salesforce | None = None
		self._describes: dict[str, dict] = {}
		_mount_default_timeout(self.session, settings.timeout)
		self.session.hooks.setdefault("response", []).append(self._read_limit_info)

	# logging in

	@property
	def salesforce(self) -> Salesforce:
		"""The logged-in simple-salesforce object (for calls this class does not wrap)."""
		if self._sf is None:
			self.login()
		return self._sf

	def login(self) -> None:
		"""Get an access token and hand it to simple-salesforce.

		NOTE: we do the OAuth exchange ourselves and give simple-salesforce `instance_url`,
		`session_id` and our session. Its own login always builds `https://{domain}.salesforce.com`
		URLs, so it could not reach an admin's `login_url`, and it would send the login outside our
		timeouts and error translation. The price is that simple-salesforce cannot renew a session
		itself: `_once()` does that, once per call.
		"""
		response = self._post_token(self._token_form())
		body = _json_or_none(response)
		if response.status_code != 200 or not body or "access_token" not in body:
			raise _authentication_error(response.status_code, body, response.text)

		self.instance_url = body["instance_url"].rstrip("/")
		self.identity_url = body.get("id")
		_route_plain_http_instance(self.session, self.instance_url, self.settings.timeout)
		self._sf = Salesforce(
			instance_url=self.instance_url,
			session_id=body["access_token"],
			session=self.session,
			version=self.settings.api_version,
			object_pairs_hook=dict,
		)
		logger.info("logged in to %s with the %s flow", self.instance_url, self.settings.auth_flow)

	def _token_form(self) -> dict:
		settings = self.settings
		if settings.auth_flow == "client_credentials":
			if not settings.login_url and settings.domain.strip().lower() in ("login", "test"):
				raise AuthenticationError(
					"The client credentials flow only works on your My Domain (e.g. acme.my.salesforce.com), "
					"not on login.salesforce.com or test.salesforce.com.",
					code="wrong_domain",
				)
			return {
				"grant_type": "client_credentials",
				"client_id": settings.consumer_key,
				"client_secret": settings.consumer_secret,
			}
		if settings.auth_flow == "jwt_bearer":
			return {"grant_type": JWT_BEARER_GRANT, "assertion": self._jwt_assertion()}

		logger.warning(
			"Logging in with the OAuth username-password flow, which Salesforce is retiring; "
			"switch to the JWT bearer or client credentials flow."
		)
		return {
			"grant_type": "password",
			"client_id": settings.consumer_key,
			"client_secret": settings.consumer_secret,
			"username": settings.username,
			"password": settings.password + settings.security_token,
		}

	def _jwt_assertion(self) -> str:
		settings = self.settings
		claims = {
			"iss": settings.consumer_key,
			"sub": settings.username,
			"aud": settings.audience,
			# Salesforce wants exp within three minutes from now
			"exp": int(time.time()) + 180,
		}
		try:
			return jwt.encode(claims, settings.private_key_pem, algorithm="RS256")
		except (ValueError, TypeError, jwt.PyJWTError) as error:
			raise AuthenticationError(
				f"The private key for the JWT bearer flow cannot be used: {error}", code="bad_private_key"
			) from None

	def _post_token(self, form: dict) -> requests.Response:
		try:
			return self.session.post(self.settings.token_url, data=form, timeout=self.settings.timeout)
		except requests.ConnectionError as error:
			# a wrong domain and a network outage look alike from here; retrying costs little and
			# lets an outage heal, and the message still points at the setting to check
			raise RetryableSalesforceError(
				f"Cannot reach {self.settings.login_base}: check the domain or login URL ({error}).",
				code="unreachable",
			) from None
		except requests.Timeout:
			raise RetryableSalesforceError(
				f"Login to {self.settings.login_base} timed out.", code="TIMEOUT"
			) from None

	# calling Salesforce

	def _call(self, operation: Callable[[Salesforce], object]):
		"""Run `operation(sf)` with translated errors; retry what a retry can help, a few times."""
		retrying = tenacity.Retrying(
			stop=tenacity.stop_after_attempt(max(1, self.settings.retry_attempts)) | _TimedOutAgain(),
			# full jitter: a random wait up to initial * 2**attempt, capped
			wait=tenacity.wait_random_exponential(
				multiplier=self.settings.retry_initial_wait, max=self.settings.retry_max_wait
			),
			retry=tenacity.retry_if_exception(_worth_retrying_now),
			before_sleep=self._log_retry,
			reraise=True,
		)
		return retrying(self._once, operation)

	def _once(self, operation: Callable[[Salesforce], object]):
		sf = self.salesforce
		try:
			return _translated(operation, sf)
		except SessionExpiredError:
			logger.info("Salesforce session expired; logging in again")

		self.login()
		return _translated(operation, self._sf)

	@staticmethod
	def _log_retry(state: tenacity.RetryCallState) -> None:
		logger.warning(
			"Salesforce call failed (%s); attempt %s, retrying",
			state.outcome.exception(),
			state.attempt_number,
		)

	def _read_limit_info(self, response: requests.Response, *args, **kwargs) -> None:
		# Sforce-Limit-Info: api-usage=18/5000 comes with every REST answer
		match = LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
		if match:
			self.api_usage = (int(match.group(1)), int(match.group(2)))

	def ensure_budget(self, urgent: bool = False) -> None:
		"""Refuse non-urgent work once the configured share of the daily API limit is used."""
		if urgent or self.api_usage is None:
			return

		used, limit = self.api_usage
		if limit and used / limit >= self.settings.max_daily_share:
			raise RequestLimitError(
				f"{used} of {limit} daily API calls are used; non-urgent work waits below "
				f"{self.settings.max_daily_share:.0%} of the limit.",
				code="BUDGET_RESERVED",
			)

	# the calls the app makes

	def get_record(self, sobject: str, record_id: str, fields: list[str] | None = None) -> dict:
		_require_api_name(sobject)
		if not is_salesforce_id(record_id):
			# it goes into the URL path, where "../Opportunity/006..." would read another object
			raise PermanentSalesforceError(
				f"{record_id!r} is not a Salesforce record Id.", code="MALFORMED_ID"
			)
		params = {"fields": ",".join(_require_api_name(name) for name in fields)} if fields else None
		return self._call(lambda sf: getattr(sf, sobject).get(record_id, params=params))

	def query(self, soql_template: str, **params) -> list[dict]:
		"""Every record of a SOQL query, all pages read; use `iter_query` for large results."""
		return list(self.iter_query(soql_template, **params))

	def iter_query(self, soql_template: str, **params) -> Iterator[dict]:
		"""Records one page at a time, following nextRecordsUrl only when the previous page is used up."""
		soql = format_soql(soql_template, **params)
		page = self._call(lambda sf: sf.query(soql))
		while True:
			yield from page["records"]
			if page.get("done", True) or not page.get("nextRecordsUrl"):
				return
			next_url = page["nextRecordsUrl"]
			page = None  # let the finished page go before the next one arrives
			page = self._call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True))

	def count(self, soql_template: str, **params) -> int:
		soql = format_soql(soql_template, **params)
		return self._call(lambda sf: sf.query(soql))["totalSize"]

	def describe(self, sobject: str) -> dict:
		_require_api_name(sobject)
		if sobject not in self._describes:
			self._describes[sobject] = self._call(lambda sf: getattr(sf, sobject).describe())
		return self._describes[sobject]

	def fetch_opportunity(
		self, opportunity_id: str, *, account_fields: list[str] = (), opportunity_fields: list[str] = ()
	) -> dict:
		"""The Opportunity with its Account and line items, as one SOQL query."""
		opportunity = self._opportunity_field_list(opportunity_fields)
		account = [
			f"Account.{name}"
			for name in _unique(ACCOUNT_FIELDS + [_require_api_name(n) for n in account_fields])
		]
		lines = ", ".join(LINE_ITEM_FIELDS)
		template = (
			"SELECT {opportunity:literal}, {account:literal}, "
			"(SELECT {lines:literal} FROM OpportunityLineItems ORDER BY SortOrder, Id) "
			"FROM Opportunity WHERE Id = {opportunity_id}"
		)
		records = self.query(
			template,
			opportunity=", ".join(opportunity),
			account=", ".join(account),
			lines=lines,
			opportunity_id=opportunity_id,
		)
		if not records:
			raise NotFoundError(
				f"Opportunity {opportunity_id} does not exist or was deleted.", code="NOT_FOUND"
			)
		return self._with_all_lines(records[0])

	def _opportunity_field_list(self, extra: list[str]) -> list[str]:
		names = OPPORTUNITY_FIELDS + [_require_api_name(name) for name in extra]
		describe = self.describe("Opportunity")
		# CurrencyIsoCode exists only in multi-currency orgs; asking for it elsewhere is INVALID_FIELD
		if any(each["name"] == "CurrencyIsoCode" for each in describe.get("fields", [])):
			names.append("CurrencyIsoCode")
		return _unique(names)

	def _with_all_lines(self, opportunity: dict) -> dict:
		# an Opportunity with no products has OpportunityLineItems = null, not an empty list
		lines = opportunity.get("OpportunityLineItems") or {"totalSize": 0, "done": True, "records": []}
		records = list(lines["records"])
		next_url = lines.get("nextRecordsUrl")
		while not lines.get("done", True) and next_url:
			lines = self._call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True))
			records.extend(lines["records"])
			next_url = lines.get("nextRecordsUrl")
		opportunity["OpportunityLineItems"] = {"totalSize": len(records), "done": True, "records": records}
		return opportunity

	def update_records(self, sobject: str, records: list[dict]) -> list[RecordResult]:
		"""Update by Id through sObject Collections, 200 a call, allOrNone false: one bad record
		does not stop the others, and each failure keeps its record's Id."""
		_require_api_name(sobject)
		missing = [index for index, record in enumerate(records) if not record.get("Id")]
		if missing:
			raise ValueError(f"records at positions {missing} have no Id")

		results = []
		for start in range(0, len(records), COLLECTION_SIZE):
			chunk = records[start : start + COLLECTION_SIZE]
			results.extend(self._update_chunk(sobject, chunk))
		return results

	def _update_chunk(self, sobject: str, chunk: list[dict]) -> list[RecordResult]:
		body = {
			"allOrNone": False,
			"records": [{"attributes": {"type": sobject}, **record} for record in chunk],
		}
		answers = self._call(
			lambda sf: sf.restful("composite/sobjects", method="PATCH", data=json.dumps(body))
		)
		return [
			RecordResult(
				id=answer.get("id") or record["Id"],
				success=bool(answer.get("success")),
				errors=[
					RecordError(
						error.get("statusCode", ""), error.get("message", ""), error.get("fields") or []
					)
					for error in answer.get("errors") or []
				],
			)
			for record, answer in zip(chunk, answers, strict=True)
		]

	def test_connection(self) -> ConnectionReport:
		"""Log in and make one API call; say in plain words what is wrong instead of raising."""
		try:
			self.login()
			self._call(lambda sf: sf.limits())
		except SalesforceError as error:
			return ConnectionReport(False, error.message, problem=error.code)

		org_id, user_id = _ids_from_identity(self.identity_url)
		return ConnectionReport(
			True,
			f"Connected to {self.instance_url} as user {user_id}.",
			instance_url=self.instance_url,
			org_id=org_id,
			user_id=user_id,
			api_usage=self.api_usage,
		)


# transport helpers


class _DefaultTimeoutAdapter(HTTPAdapter):
	"""Gives every request a timeout: simple-salesforce sends most of its calls without one."""

	def __init__(self, timeout: float, **kwargs):
		self.default_timeout = timeout
		super().__init__(**kwargs)

	def send(self, request, timeout=None, **kwargs):
		return super().send(request, timeout=timeout or self.default_timeout, **kwargs)


class _PlainHttpLoopbackAdapter(_DefaultTimeoutAdapter):
	"""Sends https://127.0.0.1:PORT/... as http:// — simple-salesforce writes every instance URL
	with https, and a local emulator may run without TLS. Only ever mounted for a loopback host."""

	def send(self, request, **kwargs):
		request.url = "http://" + request.url.removeprefix("https://")
		return super().send(request, **kwargs)


def _mount_default_timeout(session: requests.Session, timeout: float) -> None:
	for prefix in ("https://", "http://"):
		if type(session.get_adapter(prefix)) is HTTPAdapter:
			session.mount(prefix, _DefaultTimeoutAdapter(timeout))


def _route_plain_http_instance(session: requests.Session, instance_url: str, timeout: float) -> None:
	parts = urlsplit(instance_url)
	if parts.scheme == "https":
		return
	if parts.scheme != "http" or not _is_loopback(parts.hostname):
		raise AuthenticationError(
			f"Salesforce answered with instance URL {instance_url}; only https is accepted.",
			code="insecure_instance",
		)
	session.mount(f"https://{parts.netloc}/", _PlainHttpLoopbackAdapter(timeout))


def check_login_url(url: str) -> None:
	"""Refuse a login URL the client would not send credentials to: https, or http on loopback only."""
	parts = urlsplit(url)
	if parts.scheme == "https" and parts.hostname:
		return
	if parts.scheme == "http" and _is_loopback(parts.hostname):
		return
	raise ValueError(f"login_url must be https, or http on this machine (127.0.0.1 / localhost): {url!r}")


def _is_loopback(host: str | None) -> bool:
	if not host:
		return False
	if host == "localhost":
		return True
	try:
		return ipaddress.ip_address(host).is_loopback
	except ValueError:
		return False


# error translation


def _translated(operation: Callable[[Salesforce], object], sf: Salesforce):
	try:
		return operation(sf)
	except SimpleSalesforceError as error:
		raise _typed_error(error.status, error.content) from None
	except requests.Timeout:
		raise RetryableSalesforceError("Salesforce did not answer in time.", code="TIMEOUT") from None
	except requests.ConnectionError as error:
		raise RetryableSalesforceError(f"Cannot reach Salesforce: {error}", code="CONNECTION_ERROR") from None


def _typed_error(status: int, content) -> SalesforceError:
	first = content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}
	code = first.get("errorCode")
	message = first.get("message") or (
		content if isinstance(content, str) else f"Salesforce answered {status}"
	)
	details = {"status": status, "code": code, "fields": first.get("fields") or [], "body": content}

	if status == 401:
		return SessionExpiredError(message, **details)
	if code == "REQUEST_LIMIT_EXCEEDED":
		return RequestLimitError(message, **details)
	if code in RETRYABLE_CODES or status >= 500:
		return RetryableSalesforceError(message, **details)
	if code in ACCESS_CODES:
		return AuthenticationError(_plain_access_message(code, message), **details)
	if code in NOT_FOUND_CODES or status == 404:
		return NotFoundError(message, **details)
	if code in QUERY_CODES:
		return MalformedQueryError(message, **details)
	if status == 400:
		return ValidationRuleError(message, **details)
	return PermanentSalesforceError(message, **details)


def _worth_retrying_now(error: BaseException) -> bool:
	# a spent daily limit needs hours, an expired session was already renewed once
	return isinstance(error, RetryableSalesforceError) and not isinstance(
		error, RequestLimitError | SessionExpiredError
	)


class _TimedOutAgain:
	"""Stop at a call's second timeout, whatever failed in the attempts between.

	Each timeout has already cost the whole timeout: a hanging org retried four times held a
	worker for minutes. One more try covers a single slow answer; after that the row's own retry
	schedule tries again later, without a worker waiting.
	"""

	def __init__(self):
		self.timeouts = 0

	def __call__(self, state: tenacity.RetryCallState) -> bool:
		error = state.outcome.exception() if state.outcome else None
		if isinstance(error, RetryableSalesforceError) and error.code == "TIMEOUT":
			self.timeouts += 1
		return self.timeouts >= 2


AUTH_PROBLEMS = {
	("invalid_client_id", None): (
		"wrong_consumer_key",
		"Salesforce does not know this consumer key: copy it again from the Connected App, and check that "
		"you are logging in to the org that owns the app.",
	),
	("invalid_client", None): (
		"wrong_consumer_secret",
		"The consumer secret does not belong to this consumer key: copy it again from the Connected App.",
	),
	("invalid_grant", "user hasn't approved this consumer"): (
		"user_not_pre_authorized",
		"The user is not pre-authorised for the Connected App: set Permitted Users to 'Admin approved users "
		"are pre-authorized' and add the user's profile or permission set to the app.",
	),
	("invalid_grant", "audience is invalid"): (
		"wrong_domain",
		"Salesforce refused the login domain: use 'test' for a sandbox, 'login' for production, or your "
		"My Domain.",
	),
	("invalid_grant", "request not supported on this domain"): (
		"wrong_domain",
		"This login flow must use your My Domain (e.g. acme.my.salesforce.com), not login or test.",
	),
	("invalid_grant", "expired authorization code"): (
		"clock_skew",
		"Salesforce found the login token already expired: this server's clock is probably wrong; "
		"synchronise it (NTP) and try again.",
	),
	("invalid_grant", "invalid assertion"): (
		"bad_certificate",
		"Salesforce could not verify the signed login token: the certificate uploaded to the Connected App "
		"does not match this private key, or the username is wrong.",
	),
	("invalid_grant", "authentication failure"): (
		"bad_credentials",
		"Wrong username, password or security token, or the org blocks the username-password flow.",
	),
	("invalid_grant", "no client credentials user enabled"): (
		"no_run_as_user",
		"The Connected App has no 'Run As' user for the client credentials flow: set one in its policies.",
	),
	("invalid_grant", "inactive user"): ("inactive_user", "The Salesforce user is inactive."),
	("unsupported_grant_type", None): (
		"flow_not_enabled",
		"This login flow is not enabled for the Connected App.",
	),
}


def _authentication_error(status: int, body: dict | None, text: str) -> SalesforceError:
	if status >= 500:
		return RetryableSalesforceError(f"Salesforce login failed with HTTP {status}.", status=status)
	error = (body or {}).get("error")
	description = (body or {}).get("error_description")
	known = AUTH_PROBLEMS.get((error, description)) or AUTH_PROBLEMS.get((error, None))
	if known:
		problem, message = known
	else:
		problem, message = (
			error or "login_failed",
			f"Salesforce refused the login: {error}: {description or text[:200]}",
		)
	return AuthenticationError(message, code=problem, status=status, body=body)


def _plain_access_message(code: str, message: str) -> str:
	if code == "API_DISABLED_FOR_ORG":
		return "This org has no API access (its edition does not include the API): " + message
	if code == "API_CURRENTLY_DISABLED":
		return "The user has no API access: give their profile or permission set 'API Enabled'. " + message
	return message


# small helpers


def _require_api_name(name: str) -> str:
	# field and object names cannot be quoted in SOQL, so only plain API names get through
	if not isinstance(name, str) or not API_NAME.match(name):
		raise ValueError(f"not a Salesforce API name: {name!r}")
	return name


def _unique(names: list[str]) -> list[str]:
	seen = set()
	return [name for name in names if not (name.lower() in seen or seen.add(name.lower()))]


def _json_or_none(response: requests.Response):
	try:
		return response.json()
	except ValueError:
		return None


def _ids_from_identity(identity_url: str | None) -> tuple[str | None, str | None]:
	# the identity URL ends in /id/<org id>/<user id>
	parts = (identity_url or "").rstrip("/").split("/")
	if len(parts) >= 3 and parts[-3] == "id":
		return parts[-2], parts[-1]
	return None, None
