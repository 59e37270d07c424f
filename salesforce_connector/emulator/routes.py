"""From an HTTP request to a handler: logins, then the data API behind a bearer token.

The order for a data API call mirrors what Salesforce does: check the session (401), the org's
and user's API access (403), any injected fault, the daily limit (403), then count the call and
answer; every answer carries `Sforce-Limit-Info`
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm).
"""

import re
import threading

from salesforce_connector.emulator.auth import AuthEndpoints
from salesforce_connector.emulator.errors import ApiError, not_found
from salesforce_connector.emulator.faults import Fault
from salesforce_connector.emulator.rest import Call, DataApi
from salesforce_connector.emulator.wire import Request, Response

DATA_PATH = re.compile(r"^/services/data/v(\d+\.\d+)(?:/(.*))?$")
SOAP_LOGIN_PATH = re.compile(r"^/services/Soap/u/(\d+\.\d+)/?$")
SUPPORTED_VERSIONS = ["55.0", "56.0", "57.0", "58.0", "59.0", "60.0", "61.0", "62.0"]

INVALID_SESSION = ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
LIMIT_EXCEEDED = ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
ORG_API_DISABLED = ApiError(
	403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner"
)
USER_API_DISABLED = ApiError(403, "API_CURRENTLY_DISABLED", "API is disabled for this User")


class Router:
	def __init__(self, org):
		self.org = org
		self.auth = AuthEndpoints(org)
		self.data = DataApi(org)

	def dispatch(self, request: Request, stopping: threading.Event) -> Response:
		path = request.path
		data_match = DATA_PATH.match(path)
		if data_match:
			return self.data_call(request, data_match.group(1), data_match.group(2) or "", stopping)

		fault = self.take_fault(request, None, stopping)
		if fault and fault.status:
			return Response.of_json(fault.status, fault.body)
		return self.login_call(request, path)

	def take_fault(self, request: Request, data_path: str | None, stopping: threading.Event) -> Fault | None:
		fault = self.org.faults.take(request.method, request.path, data_path)
		if fault and fault.delay:
			# an Event wait, so that stopping the server cuts a slow answer short
			stopping.wait(fault.delay)
		return fault

	def login_call(self, request: Request, path: str) -> Response:
		if path == "/services/oauth2/token" and request.method == "POST":
			return self.auth.token(request)
		if path == "/services/oauth2/revoke" and request.method == "POST":
			return self.auth.revoke(request)
		soap = SOAP_LOGIN_PATH.match(path)
		if soap and request.method == "POST":
			return self.auth.soap_login(request, soap.group(1))
		if path.rstrip("/") == "/services/data" and request.method == "GET":
			return Response.of_json(200, self.versions())
		return Response.of_error(not_found())

	def versions(self) -> list[dict]:
		return [
			{"label": f"v{version}", "url": f"/services/data/v{version}", "version": version}
			for version in SUPPORTED_VERSIONS
		]

	def data_call(
		self, request: Request, version: str, data_path: str, stopping: threading.Event
	) -> Response:
		response = self.answer_data_call(request, version, data_path, stopping)
		response.headers["Sforce-Limit-Info"] = self.org.usage.header()
		return response

	def answer_data_call(
		self, request: Request, version: str, data_path: str, stopping: threading.Event
	) -> Response:
		refusal = self.refuse(request)
		if refusal:
			return Response.of_error(refusal)

		# a fault counts only the calls that got past the session check
		fault = self.take_fault(request, data_path, stopping)
		if fault and fault.status and not fault.record_id:
			if fault.status not in (401, 403):
				self.org.usage.count()
			return Response.of_json(fault.status, fault.body)
		if self.org.usage.exceeded():
			return Response.of_error(LIMIT_EXCEEDED)

		self.org.usage.count()
		call = Call(version, data_path, request, fault if fault and fault.record_id else None)
		try:
			return self.data.handle(call)
		except ApiError as error:
			return Response.of_error(error)

	def refuse(self, request: Request) -> ApiError | None:
		"""The reason to refuse this caller before doing anything, or None."""
		header = request.header("Authorization") or ""
		token = header.split(" ", 1)[1].strip() if header.lower().startswith(("bearer ", "oauth ")) else ""
		session = self.org.session_for(token) if token else None
		if session is None:
			return INVALID_SESSION
		if not self.org.api_enabled:
			return ORG_API_DISABLED
		user = self.org.user_by_id(session.user_id)
		if user is None or not user.api_enabled:
			return USER_API_DISABLED
		return None
