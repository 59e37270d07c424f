"""Fault injection: which calls a rule hits, how many times, and what the caller sees."""

import pytest

from salesforce_connector.emulator import faults
from salesforce_connector.emulator.faults import FaultInjector


def test_rule_lets_skipped_calls_through_then_fails_the_next_ones():
	injector = FaultInjector()
	injector.add("GET query", faults.server_error(), skip=2, times=2)

	hits = [injector.take("GET", "/services/data/v59.0/query", "query") is not None for _ in range(5)]

	assert hits == [False, False, True, True, False]


def test_rule_matches_method_and_pattern():
	injector = FaultInjector()
	injector.add("PATCH sobjects/Opportunity/*", faults.unable_to_lock_row())

	other_method = injector.take("GET", "/x", "sobjects/Opportunity/006000000000001AAA")
	other_object = injector.take("PATCH", "/x", "sobjects/Account/001000000000001AAA")
	hit = injector.take("PATCH", "/x", "sobjects/Opportunity/006000000000001AAA")

	assert (other_method, other_object) == (None, None)
	assert hit.status == 400


def test_star_method_matches_any_method():
	injector = FaultInjector()
	injector.add("* limits", faults.service_unavailable())

	assert injector.take("DELETE", "/x", "limits").status == 503


def test_route_without_a_pattern_is_refused():
	with pytest.raises(ValueError):
		FaultInjector().add("GET", faults.server_error())


def test_cleared_rules_fire_no_more():
	injector = FaultInjector()
	injector.add("GET query", faults.server_error())
	injector.clear()

	assert injector.take("GET", "/x", "query") is None


def test_unauthenticated_call_does_not_use_up_a_fault(raw, org):
	rule = org.faults.add("GET limits", faults.server_error())
	raw.headers = {"Authorization": "Bearer expired"}

	answer = raw.call("GET", "limits")

	assert answer.status_code == 401
	assert rule.fired == 0


def test_injected_500_answers_unknown_exception(raw, org):
	org.faults.add("GET limits", faults.server_error())

	answer = raw.call("GET", "limits")

	assert (answer.status_code, answer.json()[0]["errorCode"]) == (500, "UNKNOWN_EXCEPTION")


def test_injected_fault_counts_as_an_api_call(raw, org):
	org.faults.add("GET limits", faults.unable_to_lock_row())
	before = org.usage.used

	raw.call("GET", "limits")

	assert org.usage.used == before + 1


def test_injected_session_expiry_is_not_counted(raw, org):
	org.faults.add("GET limits", faults.session_expired())
	before = org.usage.used

	answer = raw.call("GET", "limits")

	assert answer.status_code == 401
	assert org.usage.used == before


def test_record_fault_on_a_single_record_route_fails_that_record(raw, org):
	record_id = org.create("Account", {"Name": "Kaveri"})
	org.faults.add(
		"PATCH sobjects/Account/*", faults.validation_error("Locked by finance", ["Name"], record_id)
	)

	answer = raw.call("PATCH", f"sobjects/Account/{record_id}", json={"Name": "New"})

	assert answer.status_code == 400
	assert answer.json() == [
		{"message": "Locked by finance", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": ["Name"]}
	]
	assert org.get("Account", record_id)["Name"] == "Kaveri"


def test_record_fault_for_another_record_leaves_this_one_alone(raw, org):
	record_id = org.create("Account", {"Name": "Kaveri"})
	org.faults.add("PATCH sobjects/Account/*", faults.validation_error("No", record_id="001000000000001AAA"))

	answer = raw.call("PATCH", f"sobjects/Account/{record_id}", json={"Name": "New"})

	assert answer.status_code == 204


def test_fault_on_the_full_path_of_a_login(server, http_session, org):
	org.faults.add("POST /services/Soap/u/*", faults.server_error())

	answer = http_session.post(f"{server.url}/services/Soap/u/59.0", data=b"<x/>", timeout=10)

	assert answer.status_code == 500
	assert answer.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
