"""Logins: the OAuth 2.0 token endpoint (three flows) and the SOAP partner `login` call.

Error texts are the ones Salesforce's token endpoint returns, so that a client can be tested on
telling them apart (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm).
"""

import base64
import hashlib
import hmac
import logging
from datetime import datetime, timezone
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from salesforce_connector.emulator.wire import Request, Response

logger = logging.getLogger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PARTNER_NS = "urn:partner.soap.sforce.com"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
INVALID_LOGIN_MESSAGE = "Invalid username, password, security token; or user locked out."


class OAuthError(Exception):
	def __init__(self, error: str, description: str, status: int = 400):
		super().__init__(description)
		self.error = error
		self.description = description
		self.status = status


def public_key_from_pem(pem: str):
	"""The RSA public key of a connected app's certificate (or of a bare public key PEM)."""
	data = pem.encode() if isinstance(pem, str) else pem
	if b"BEGIN CERTIFICATE" in data:
		return x509.load_pem_x509_certificate(data).public_key()
	return load_pem_public_key(data)


class AuthEndpoints:
	def __init__(self, org):
		self.org = org

	# OAuth token endpoint

	def token(self, request: Request) -> Response:
		form = request.form()
		try:
			user = self._authenticate(form, request)
		except OAuthError as error:
			logger.info("token request refused: %s %s", error.error, error.description)
			return Response.of_json(
				error.status, {"error": error.error, "error_description": error.description}
			)

		return Response.of_json(200, self._token_body(user))

	def _authenticate(self, form: dict, request: Request):
		grant = form.get("grant_type")
		if grant == "password":
			return self._password_grant(form)
		if grant == "client_credentials":
			return self._client_credentials_grant(form, request)
		if grant == JWT_BEARER:
			return self._jwt_grant(form.get("assertion") or "")
		raise OAuthError("unsupported_grant_type", "grant type not supported")

	def _check_client(self, client_id: str | None, client_secret: str | None) -> None:
		app = self.org.connected_app
		if client_id != app.consumer_key:
			raise OAuthError("invalid_client_id", "client identifier invalid")
		if not hmac.compare_digest((client_secret or "").encode(), app.consumer_secret.encode()):
			raise OAuthError("invalid_client", "invalid client credentials")

	def _password_grant(self, form: dict):
		self._check_client(form.get("client_id"), form.get("client_secret"))

		if not self.org.connected_app.password_flow_enabled:
			raise OAuthError("invalid_grant", "authentication failure")
		user = self.org.users.get(form.get("username") or "")
		if user is None or not self._password_matches(user, form.get("password") or ""):
			raise OAuthError("invalid_grant", "authentication failure")
		if not user.active:
			raise OAuthError("invalid_grant", "inactive user")
		return user

	@staticmethod
	def _password_matches(user, given: str) -> bool:
		# the password, followed by the security token when the caller's IP is not trusted
		expected = (user.password + user.security_token).encode()
		return hmac.compare_digest(given.encode(), expected)

	def _client_credentials_grant(self, form: dict, request: Request):
		client_id, client_secret = self._basic_credentials(request) or (
			form.get("client_id"),
			form.get("client_secret"),
		)
		self._check_client(client_id, client_secret)

		username = self.org.connected_app.client_credentials_user
		user = self.org.users.get(username or "")
		if user is None:
			raise OAuthError("invalid_grant", "no client credentials user enabled")
		return user

	@staticmethod
	def _basic_credentials(request: Request) -> tuple[str, str] | None:
		header = request.header("Authorization") or ""
		if not header.startswith("Basic "):
			return None
		try:
			decoded = base64.b64decode(header[6:]).decode()
		except (ValueError, UnicodeDecodeError):
			return None
		client_id, _, client_secret = decoded.partition(":")
		return client_id, client_secret

	def _jwt_grant(self, assertion: str):
		app = self.org.connected_app
		try:
			unverified = jwt.decode(assertion, options={"verify_signature": False})
		except jwt.PyJWTError:
			raise OAuthError("invalid_grant", "invalid assertion") from None
		if unverified.get("iss") != app.consumer_key:
			raise OAuthError("invalid_client_id", "client identifier invalid")

		self._verify_signature(assertion)
		self._check_audience(unverified.get("aud"))
		self._check_expiry(unverified.get("exp"))
		return self._pre_authorized_user(unverified.get("sub"))

	def _verify_signature(self, assertion: str) -> None:
		certificate = self.org.connected_app.certificate_pem
		if not certificate:
			raise OAuthError("invalid_grant", "invalid assertion")
		try:
			jwt.decode(
				assertion,
				public_key_from_pem(certificate),
				algorithms=["RS256"],
				options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False},
			)
		except jwt.PyJWTError:
			raise OAuthError("invalid_grant", "invalid assertion") from None

	def _check_audience(self, audience) -> None:
		accepted = {self.org.base_url.rstrip("/")}
		accepted.add("https://test.salesforce.com" if self.org.is_sandbox else "https://login.salesforce.com")
		given = audience if isinstance(audience, list) else [audience]
		if not any(isinstance(each, str) and each.rstrip("/") in accepted for each in given):
			raise OAuthError("invalid_grant", "audience is invalid")

	def _check_expiry(self, expiry) -> None:
		# Salesforce compares exp with its own clock: a client whose clock is behind sends an
		# assertion that has already expired and gets this (misleading) description
		try:
			expires = datetime.fromtimestamp(int(float(expiry)), timezone.utc)
		except (TypeError, ValueError, OverflowError):
			raise OAuthError("invalid_grant", "invalid assertion") from None
		if expires <= self.org.clock.now():
			raise OAuthError("invalid_grant", "expired authorization code")

	def _pre_authorized_user(self, username):
		user = self.org.users.get(username or "")
		if user is None or username not in self.org.connected_app.pre_authorized:
			raise OAuthError("invalid_grant", "user hasn't approved this consumer")
		if not user.active:
			raise OAuthError("invalid_grant", "inactive user")
		return user

	def _token_body(self, user) -> dict:
		session = self.org.issue_session(user)
		issued_at = str(int(session.issued_at.timestamp() * 1000))
		identity = f"{self.org.base_url}/id/{self.org.org_id}/{user.id}"
		signature = hmac.new(
			self.org.connected_app.consumer_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
		).digest()
		return {
			"access_token": session.token,
			"instance_url": self.org.base_url,
			"id": identity,
			"token_type": "Bearer",
			"issued_at": issued_at,
			"signature": base64.b64encode(signature).decode(),
			"scope": "api",
		}

	def revoke(self, request: Request) -> Response:
		token = request.form().get("token") or request.query.get("token")
		if not token or self.org.session_for(token) is None:
			return Response.of_json(
				400,
				{"error": "unsupported_token_type", "error_description": "this token type is not supported"},
			)
		self.org.revoke_session(token)
		return Response.empty(200)

	# SOAP partner login

	def soap_login(self, request: Request, version: str) -> Response:
		username, password = self._soap_credentials(request.body)
		user = self.org.users.get(username or "")
		if user is None or not user.active or not self._password_matches(user, password or ""):
			return self._soap_fault("INVALID_LOGIN", INVALID_LOGIN_MESSAGE)
		if not self.org.api_enabled:
			return self._soap_fault(
				"API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner"
			)
		if not user.api_enabled:
			return self._soap_fault("API_CURRENTLY_DISABLED", "API is disabled for this User")

		return self._soap_login_result(user, version)

	@staticmethod
	def _soap_credentials(body: bytes) -> tuple[str | None, str | None]:
		try:
			root = SafeET.fromstring(body)
		except Exception:
			return None, None
		username = root.find(f".//{{{PARTNER_NS}}}login/{{{PARTNER_NS}}}username")
		password = root.find(f".//{{{PARTNER_NS}}}login/{{{PARTNER_NS}}}password")
		return (
			username.text if username is not None else None,
			password.text if password is not None else None,
		)

	def _soap_login_result(self, user, version: str) -> Response:
		session = self.org.issue_session(user)
		base = self.org.base_url
		org_id = self.org.org_id
		body = (
			'<?xml version="1.0" encoding="UTF-8"?>'
			f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns="{PARTNER_NS}" '
			'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
			"<soapenv:Body><loginResponse><result>"
			f"<metadataServerUrl>{escape(base)}/services/Soap/m/{version}/{org_id}</metadataServerUrl>"
			"<passwordExpired>false</passwordExpired>"
			f"<sandbox>{'true' if self.org.is_sandbox else 'false'}</sandbox>"
			f"<serverUrl>{escape(base)}/services/Soap/u/{version}/{org_id}</serverUrl>"
			f"<sessionId>{escape(session.token)}</sessionId>"
			f"<userId>{user.id}</userId>"
			"<userInfo>"
			f"<organizationId>{org_id}</organizationId>"
			f"<organizationName>{escape(self.org.name)}</organizationName>"
			f"<sessionSecondsValid>{int(self.org.session_lifetime.total_seconds())}</sessionSecondsValid>"
			f"<userEmail>{escape(user.email)}</userEmail>"
			f"<userFullName>{escape(user.name)}</userFullName>"
			f"<userId>{user.id}</userId>"
			f"<userName>{escape(user.username)}</userName>"
			"</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
		)
		return Response(200, body.encode("utf-8"), "text/xml;charset=UTF-8")

	@staticmethod
	def _soap_fault(code: str, message: str) -> Response:
		body = (
			'<?xml version="1.0" encoding="UTF-8"?>'
			f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:sf="urn:fault.partner.soap.sforce.com" '
			'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
			"<soapenv:Body><soapenv:Fault>"
			f"<faultcode>sf:{code}</faultcode>"
			f"<faultstring>{code}: {escape(message)}</faultstring>"
			f'<detail><sf:LoginFault xsi:type="sf:LoginFault">'
			f"<sf:exceptionCode>{code}</sf:exceptionCode>"
			f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
			"</sf:LoginFault></detail>"
			"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
		)
		return Response(500, body.encode("utf-8"), "text/xml;charset=UTF-8")
