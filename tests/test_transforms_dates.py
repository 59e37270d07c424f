from datetime import date, datetime

import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import apply_transform, to_date, to_local_datetime


def test_salesforce_date_becomes_a_date():
	assert apply_transform("date", "2024-05-01") == date(2024, 5, 1)


def test_utc_datetime_with_z_becomes_india_wall_clock():
	assert to_local_datetime("2024-05-01T10:20:30.000Z") == datetime(2024, 5, 1, 15, 50, 30)


def test_utc_datetime_with_plus_0000_becomes_india_wall_clock():
	assert to_local_datetime("2024-05-01T10:20:30.000+0000") == datetime(2024, 5, 1, 15, 50, 30)


def test_datetime_without_milliseconds_is_read():
	assert to_local_datetime("2024-05-01T10:20:30Z") == datetime(2024, 5, 1, 15, 50, 30)


def test_datetime_keeps_its_milliseconds():
	assert to_local_datetime("2024-05-01T10:20:30.250Z").microsecond == 250_000


def test_datetime_is_naive_as_frappe_stores_it():
	assert to_local_datetime("2024-05-01T10:20:30.000Z").tzinfo is None


def test_time_zone_option_converts_to_that_zone_in_summer_time():
	converted = apply_transform(
		"datetime", "2024-07-01T12:00:00.000+0000", options={"time_zone": "America/New_York"}
	)
	assert converted == datetime(2024, 7, 1, 8, 0)


def test_time_zone_option_converts_to_that_zone_in_winter_time():
	converted = apply_transform(
		"datetime", "2024-01-15T12:00:00.000+0000", options={"time_zone": "America/New_York"}
	)
	assert converted == datetime(2024, 1, 15, 7, 0)


def test_datetime_late_in_the_utc_day_falls_on_the_next_indian_date():
	assert to_date("2024-05-01T20:00:00.000Z") == date(2024, 5, 2)


def test_datetime_late_in_the_utc_day_stays_on_its_date_in_utc():
	assert to_date("2024-05-01T20:00:00.000Z", time_zone="UTC") == date(2024, 5, 1)


@pytest.mark.parametrize("written", ["01/05/2024", "2024-13-01", "2024-02-30", "May 1, 2024", "2024-05-01x"])
def test_what_is_not_a_salesforce_date_is_rejected(written):
	with pytest.raises(MappingError, match="not a date"):
		to_date(written)


@pytest.mark.parametrize(
	"written",
	["2024-05-01T10:20:30.000", "2024-05-01 10:20:30", "2024-05-01", "2024-05-01T25:00:00Z", "yesterday"],
)
def test_what_is_not_a_salesforce_datetime_is_rejected(written):
	with pytest.raises(MappingError, match="not a datetime"):
		to_local_datetime(written)


def test_unknown_time_zone_is_rejected():
	with pytest.raises(MappingError, match="not a time zone"):
		apply_transform("datetime", "2024-05-01T10:20:30.000Z", options={"time_zone": "India/Mumbai"})
