"""The emulator's login endpoints, read by simple-salesforce's own login code where it can reach them."""

import base64
import time

import jwt
import pytest
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from simple_salesforce.login import SalesforceLogin, token_login

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def post_token(server, http_session, **form):
	return http_session.post(f"{server.url}/services/oauth2/token", data=form, timeout=10)


def assertion(org, private_key: str, **overrides) -> str:
	claims = {
		"iss": org.connected_app.consumer_key,
		"sub": org.integration_user.username,
		"aud": "https://login.salesforce.com",
		# simple-salesforce sends exp as a string of seconds; the emulator must take that too
		"exp": f"{time.time() + 180:.0f}",
		**overrides,
	}
	return jwt.encode(claims, private_key, algorithm="RS256")


# OAuth token endpoint


def test_token_answer_has_what_simple_salesforce_reads(server, http_session, org):
	app, user = org.connected_app, org.integration_user
	data = {
		"grant_type": "password",
		"client_id": app.consumer_key,
		"client_secret": app.consumer_secret,
		"username": user.username,
		"password": user.password + user.security_token,
	}

	session_id, instance = token_login(
		f"{server.url}/services/oauth2/token", data, "login", app.consumer_key, None, None, http_session
	)

	assert session_id.startswith(org.org_id[:15] + "!")
	assert instance == server.url.split("://")[1]


def test_token_answer_names_instance_and_identity(server, http_session, org):
	app = org.connected_app

	body = post_token(
		server,
		http_session,
		grant_type="client_credentials",
		client_id=app.consumer_key,
		client_secret=app.consumer_secret,
	).json()

	assert body["instance_url"] == server.url
	assert body["id"] == f"{server.url}/id/{org.org_id}/{org.integration_user.id}"
	assert body["token_type"] == "Bearer"


def test_client_credentials_accepts_basic_authorization(server, http_session, org):
	app = org.connected_app
	basic = base64.b64encode(f"{app.consumer_key}:{app.consumer_secret}".encode()).decode()

	answer = http_session.post(
		f"{server.url}/services/oauth2/token",
		data={"grant_type": "client_credentials"},
		headers={"Authorization": f"Basic {basic}"},
		timeout=10,
	)

	assert answer.status_code == 200


def test_wrong_secret_is_invalid_client(server, http_session, org):
	answer = post_token(
		server,
		http_session,
		grant_type="client_credentials",
		client_id=org.connected_app.consumer_key,
		client_secret="x",
	)

	assert (answer.status_code, answer.json()) == (
		400,
		{"error": "invalid_client", "error_description": "invalid client credentials"},
	)


def test_unknown_consumer_key_is_invalid_client_id(server, http_session):
	answer = post_token(
		server, http_session, grant_type="client_credentials", client_id="nobody", client_secret="x"
	)

	assert answer.json() == {"error": "invalid_client_id", "error_description": "client identifier invalid"}


def test_unsupported_grant_type(server, http_session):
	answer = post_token(server, http_session, grant_type="authorization_code", code="abc")

	assert answer.json()["error"] == "unsupported_grant_type"


def test_token_endpoint_error_reaches_simple_salesforce_as_authentication_failed(server, http_session, org):
	data = {"grant_type": "password", "client_id": org.connected_app.consumer_key, "client_secret": "x"}

	with pytest.raises(SalesforceAuthenticationFailed) as raised:
		token_login(f"{server.url}/services/oauth2/token", data, "login", "key", None, None, http_session)

	assert raised.value.code == "invalid_client"


def test_jwt_with_string_exp_is_accepted(server, http_session, org, jwt_key_pair):
	answer = post_token(server, http_session, grant_type=JWT_GRANT, assertion=assertion(org, jwt_key_pair[0]))

	assert answer.status_code == 200


def test_jwt_signed_by_another_key_is_an_invalid_assertion(server, http_session, org, stranger_private_key):
	answer = post_token(
		server, http_session, grant_type=JWT_GRANT, assertion=assertion(org, stranger_private_key)
	)

	assert answer.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_jwt_for_the_wrong_audience_is_refused(server, http_session, org, jwt_key_pair):
	token = assertion(org, jwt_key_pair[0], aud="https://test.salesforce.com")

	answer = post_token(server, http_session, grant_type=JWT_GRANT, assertion=token)

	assert answer.json()["error_description"] == "audience is invalid"


def test_jwt_to_the_orgs_own_url_is_accepted(server, http_session, org, jwt_key_pair):
	token = assertion(org, jwt_key_pair[0], aud=server.url)

	assert post_token(server, http_session, grant_type=JWT_GRANT, assertion=token).status_code == 200


def test_expired_jwt_is_an_expired_authorization_code(server, http_session, org, jwt_key_pair):
	token = assertion(org, jwt_key_pair[0], exp=int(time.time()) - 5)

	answer = post_token(server, http_session, grant_type=JWT_GRANT, assertion=token)

	assert answer.json() == {"error": "invalid_grant", "error_description": "expired authorization code"}


def test_jwt_for_a_user_not_pre_authorised_is_refused(server, http_session, org, jwt_key_pair):
	org.add_user("sales@emulated-org.example", "pw", "TOKEN")

	answer = post_token(
		server,
		http_session,
		grant_type=JWT_GRANT,
		assertion=assertion(org, jwt_key_pair[0], sub="sales@emulated-org.example"),
	)

	assert answer.json()["error_description"] == "user hasn't approved this consumer"


def test_garbage_assertion_is_invalid(server, http_session):
	answer = post_token(server, http_session, grant_type=JWT_GRANT, assertion="not.a.jwt")

	assert answer.json()["error"] == "invalid_grant"


def test_inactive_user_cannot_log_in(server, http_session, org):
	user = org.integration_user
	user.active = False
	app = org.connected_app

	answer = post_token(
		server,
		http_session,
		grant_type="password",
		client_id=app.consumer_key,
		client_secret=app.consumer_secret,
		username=user.username,
		password=user.password + user.security_token,
	)

	assert answer.json()["error_description"] == "inactive user"


def test_revoked_token_is_refused_by_the_rest_api(server, http_session, org):
	token = org.issue_session(org.integration_user).token

	revoked = http_session.post(f"{server.url}/services/oauth2/revoke", data={"token": token}, timeout=10)
	answer = http_session.get(
		f"{server.url}/services/data/v59.0/limits", headers={"Authorization": f"Bearer {token}"}, timeout=10
	)

	assert revoked.status_code == 200
	assert answer.status_code == 401


# the REST API's answer to a bad session


def test_missing_token_gets_the_exact_invalid_session_body(server, http_session):
	answer = http_session.get(f"{server.url}/services/data/v59.0/limits", timeout=10)

	assert answer.status_code == 401
	assert answer.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_expired_token_gets_401(server, http_session, org):
	token = org.issue_session(org.integration_user).token
	org.clock.advance(org.session_lifetime)

	answer = http_session.get(
		f"{server.url}/services/data/v59.0/limits", headers={"Authorization": f"Bearer {token}"}, timeout=10
	)

	assert answer.status_code == 401


def test_versions_are_listed(server, http_session):
	versions = http_session.get(f"{server.url}/services/data/", timeout=10).json()

	assert {"label": "v59.0", "url": "/services/data/v59.0", "version": "59.0"} in versions


# SOAP partner login


def test_soap_login_through_simple_salesforce_answers_session_and_instance(server, http_session, org):
	user = org.integration_user

	session_id, instance = SalesforceLogin(
		username=user.username,
		password=user.password,
		security_token=user.security_token,
		scratch_url=server.url,
		session=http_session,
	)

	assert instance == server.url.split("://")[1]
	answer = http_session.get(
		f"{server.url}/services/data/v59.0/limits",
		headers={"Authorization": f"Bearer {session_id}"},
		timeout=10,
	)
	assert answer.status_code == 200


def test_soap_login_with_a_wrong_password_is_an_invalid_login_fault(server, http_session, org):
	with pytest.raises(SalesforceAuthenticationFailed) as raised:
		SalesforceLogin(
			username=org.integration_user.username,
			password="wrong",
			security_token=org.integration_user.security_token,
			scratch_url=server.url,
			session=http_session,
		)

	assert raised.value.code == "INVALID_LOGIN"
	assert raised.value.auth_message == "Invalid username, password, security token; or user locked out."


def test_soap_login_escapes_xml_in_credentials(server, http_session, org):
	org.add_user("o'neil@emulated-org.example", "p<w>&d", "TOK")

	session_id, _ = SalesforceLogin(
		username="o'neil@emulated-org.example",
		password="p<w>&d",
		security_token="TOK",
		scratch_url=server.url,
		session=http_session,
	)

	assert session_id


def test_soap_login_for_a_user_without_api_access_is_refused(server, http_session, org):
	org.integration_user.api_enabled = False
	user = org.integration_user

	with pytest.raises(SalesforceAuthenticationFailed) as raised:
		SalesforceLogin(
			username=user.username,
			password=user.password,
			security_token=user.security_token,
			scratch_url=server.url,
			session=http_session,
		)

	assert raised.value.code == "API_CURRENTLY_DISABLED"


def test_soap_login_fault_is_http_500_text_xml(server, http_session):
	answer = http_session.post(
		f"{server.url}/services/Soap/u/59.0",
		data=b"<not-soap/>",
		headers={"Content-Type": "text/xml"},
		timeout=10,
	)

	assert answer.status_code == 500
	assert answer.headers["Content-Type"].startswith("text/xml")
	assert b"<faultcode>sf:INVALID_LOGIN</faultcode>" in answer.content


def test_injected_fault_on_the_token_endpoint(server, http_session, org):
	from salesforce_connector.emulator import faults

	org.faults.add("POST /services/oauth2/token", faults.service_unavailable())
	app = org.connected_app

	answer = post_token(
		server,
		http_session,
		grant_type="client_credentials",
		client_id=app.consumer_key,
		client_secret=app.consumer_secret,
	)

	assert answer.status_code == 503
