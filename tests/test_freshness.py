from datetime import datetime, timezone

import pytest

from salesforce_connector.core.freshness import is_stale, parse_salesforce_datetime


@pytest.mark.parametrize(
	"text",
	["2024-05-01T10:20:30.000Z", "2024-05-01T10:20:30.000+0000", "2024-05-01T15:50:30.000+0530"],
)
def test_salesforce_datetime_forms_parse_to_the_same_instant(text):
	assert parse_salesforce_datetime(text) == datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", [None, "", "yesterday", "2024-13-01T00:00:00Z"])
def test_unreadable_datetime_is_none(text):
	assert parse_salesforce_datetime(text) is None


def test_older_version_is_stale():
	assert is_stale("2024-05-01T10:00:00.000Z", "2024-05-01T10:00:01.000Z")


def test_same_version_is_not_stale():
	assert not is_stale("2024-05-01T10:00:00.000Z", "2024-05-01T10:00:00.000+0000")


def test_newer_version_is_not_stale():
	assert not is_stale("2024-05-02T00:00:00.000Z", "2024-05-01T10:00:00.000Z")


def test_naive_applied_value_is_read_as_utc():
	assert is_stale("2024-05-01T09:59:59.000Z", datetime(2024, 5, 1, 10, 0, 0))


@pytest.mark.parametrize(
	"incoming, applied", [(None, "2024-05-01T10:00:00Z"), ("2024-05-01T10:00:00Z", None)]
)
def test_missing_modstamp_never_blocks(incoming, applied):
	assert not is_stale(incoming, applied)
