"""Logging in with each OAuth flow through the client, and what test_connection says when it fails."""

import logging
from datetime import timedelta

import pytest

from salesforce_connector.core.client import ClientSettings, SalesforceClient
from salesforce_connector.core.errors import AuthenticationError, SessionExpiredError
from salesforce_connector.emulator import faults


@pytest.mark.parametrize("flow", ["client_credentials", "jwt_bearer", "password"])
def test_each_flow_connects_and_reports_the_org(make_client, org, flow):
	report = make_client(flow).test_connection()

	assert report.ok, report.message
	assert report.org_id == org.org_id
	assert report.user_id == org.integration_user.id


def test_connection_report_carries_api_usage_read_from_the_limit_header(client, org):
	report = client.test_connection()

	assert report.api_usage == (org.usage.used, org.usage.daily_limit)


def test_password_flow_warns_that_salesforce_is_retiring_it(make_client, caplog):
	with caplog.at_level(logging.WARNING, logger="salesforce_connector.core.client"):
		make_client("password").login()

	assert "retiring" in caplog.text


def test_wrong_consumer_key_is_named_in_plain_words(make_client):
	report = make_client(consumer_key="3MVG9notTheRightKey").test_connection()

	assert not report.ok
	assert report.problem == "wrong_consumer_key"
	assert "consumer key" in report.message


def test_wrong_consumer_secret_is_named_in_plain_words(make_client):
	report = make_client(consumer_secret="not-the-secret").test_connection()

	assert report.problem == "wrong_consumer_secret"


def test_jwt_user_not_pre_authorised_is_explained(make_client, org):
	org.connected_app.pre_authorized.clear()

	report = make_client("jwt_bearer").test_connection()

	assert report.problem == "user_not_pre_authorized"
	assert "pre-authorised" in report.message


def test_jwt_clock_skew_is_explained(make_client, org):
	# the org's clock runs ten minutes ahead of ours: our three-minute assertion is already stale
	org.clock.advance(minutes=10)

	report = make_client("jwt_bearer").test_connection()

	assert report.problem == "clock_skew"
	assert "clock" in report.message


def test_jwt_for_a_sandbox_audience_against_production_is_a_wrong_domain(make_client):
	report = make_client("jwt_bearer", domain="test").test_connection()

	assert report.problem == "wrong_domain"


def test_jwt_signed_with_another_key_is_a_certificate_mismatch(make_client, stranger_private_key):
	report = make_client("jwt_bearer", private_key_pem=stranger_private_key).test_connection()

	assert report.problem == "bad_certificate"


def test_unusable_private_key_is_reported_before_any_call(make_client, org):
	report = make_client("jwt_bearer", private_key_pem="not a key").test_connection()

	assert report.problem == "bad_private_key"
	assert org.usage.used == 0


def test_wrong_password_is_bad_credentials(make_client):
	report = make_client("password", password="wrong").test_connection()

	assert report.problem == "bad_credentials"


def test_missing_security_token_is_bad_credentials(make_client):
	report = make_client("password", security_token="").test_connection()

	assert report.problem == "bad_credentials"


def test_client_credentials_without_run_as_user_is_explained(make_client, org):
	org.connected_app.client_credentials_user = None

	report = make_client().test_connection()

	assert report.problem == "no_run_as_user"


def test_org_without_api_access_is_named(client, org):
	org.api_enabled = False

	report = client.test_connection()

	assert report.problem == "API_DISABLED_FOR_ORG"
	assert "no API access" in report.message


def test_user_without_api_permission_is_named(client, org):
	org.integration_user.api_enabled = False

	report = client.test_connection()

	assert report.problem == "API_CURRENTLY_DISABLED"
	assert "API Enabled" in report.message


def test_unreachable_login_url_says_so(make_client):
	report = make_client(login_url="http://127.0.0.1:9").test_connection()

	assert report.problem == "unreachable"


def test_client_credentials_on_the_generic_login_domain_is_refused_before_sending():
	client = SalesforceClient(
		ClientSettings(auth_flow="client_credentials", consumer_key="k", consumer_secret="s")
	)

	report = client.test_connection()

	assert report.problem == "wrong_domain"


def test_plain_http_login_url_is_refused_for_a_remote_host():
	with pytest.raises(ValueError, match="login_url"):
		ClientSettings(login_url="http://salesforce.example.com")


def test_unknown_flow_is_refused():
	with pytest.raises(ValueError, match="auth_flow"):
		ClientSettings(auth_flow="magic")


@pytest.mark.parametrize(
	("domain", "token_url", "audience"),
	[
		("login", "https://login.salesforce.com/services/oauth2/token", "https://login.salesforce.com"),
		("test", "https://test.salesforce.com/services/oauth2/token", "https://test.salesforce.com"),
		("acme.my", "https://acme.my.salesforce.com/services/oauth2/token", "https://login.salesforce.com"),
		(
			"acme--uat.sandbox.my.salesforce.com",
			"https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token",
			"https://test.salesforce.com",
		),
	],
)
def test_domain_decides_token_url_and_jwt_audience(domain, token_url, audience):
	settings = ClientSettings(domain=domain)

	assert settings.token_url == token_url
	assert settings.audience == audience


def test_expired_session_is_renewed_once_and_the_call_repeated(client, org):
	client.login()
	first_token = client.salesforce.session_id
	org.clock.advance(org.session_lifetime + timedelta(seconds=1))

	records = client.query("SELECT Id FROM Account")

	assert records == []
	assert client.salesforce.session_id != first_token


def test_revoked_session_is_renewed(client, org):
	client.login()
	org.revoke_session(client.salesforce.session_id)

	assert client.query("SELECT Id FROM Account") == []


def test_session_that_stays_invalid_after_renewal_raises_session_expired(client, org):
	org.faults.add("GET query", faults.session_expired(), times=2)

	with pytest.raises(SessionExpiredError):
		client.query("SELECT Id FROM Account")


def test_login_failure_raises_authentication_error_from_calls(make_client):
	client = make_client(consumer_secret="wrong")

	with pytest.raises(AuthenticationError) as raised:
		client.query("SELECT Id FROM Account")

	assert raised.value.code == "wrong_consumer_secret"
