"""Selections for backfill, message-shaped records, polling windows and the words a run prints.

Queries are run against the local org over HTTP: a selection is right when Salesforce's own parser
accepts it and returns the records it should.
"""

import tracemalloc
from datetime import date, datetime, timedelta, timezone

import pytest

from salesforce_connector.core.backfill import (
	BulkReader,
	Counts,
	Position,
	SelectionError,
	build_selection,
	csv_records,
	field_types,
	is_due,
	message_fields,
	next_watermark,
	parse_condition,
	poll_start,
	progress_line,
	read_rest,
	summary_table,
)
from salesforce_connector.core.errors import NotFoundError, RequestLimitError

UTC = timezone.utc


@pytest.fixture
def opportunities(org) -> dict[str, str]:
	"""Five Opportunities created a day apart, with close dates a month apart."""
	account = org.create("Account", {"Name": "Nilgiri Estates"})
	start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
	made = {}
	for index, (name, stage, amount) in enumerate(
		(
			("Tea Chests", "Prospecting", 1000),
			("O'Brien's Order", "Closed Won", 2500.5),
			("Sacks, jute", "Closed Won", 400),
			("Pallets", "Closed Lost", 0),
			("{braces} and 'quotes'", "Qualification", 75),
		)
	):
		org.clock.set(start + timedelta(days=index))
		made[name] = org.create(
			"Opportunity",
			{
				"Name": name,
				"AccountId": account,
				"StageName": stage,
				"CloseDate": (date(2024, 1, 15) + timedelta(days=31 * index)).isoformat(),
				"Amount": amount,
			},
		)
	return made


def select(client, **options):
	describe = client.describe("Opportunity")
	return build_selection("Opportunity", describe, ["Name", "StageName", "IsWon"], **options)


def names(client, soql: str) -> list[str]:
	# the text is already SOQL: handed over as a literal so that braces in values stay values
	return [record["Name"] for record in client.iter_query("{soql:literal}", soql=soql)]


# selecting by date


def test_since_and_until_on_a_date_field_include_both_days(client, opportunities):
	selection = select(client, date_field="CloseDate", since="2024-02-15", until="2024-04-17")

	assert names(client, selection.query()) == sorted(
		["O'Brien's Order", "Sacks, jute", "Pallets"], key=lambda name: opportunities[name]
	)


def test_until_on_a_date_time_field_includes_the_whole_utc_day(client, opportunities):
	selection = select(client, date_field="CreatedDate", since="2024-03-02", until="2024-03-03")

	assert set(names(client, selection.query())) == {"O'Brien's Order", "Sacks, jute"}


def test_a_date_and_time_bound_is_exact(client, opportunities):
	selection = select(client, date_field="CreatedDate", since="2024-03-02T09:00:01Z")

	assert set(names(client, selection.query())) == {"Sacks, jute", "Pallets", "{braces} and 'quotes'"}


def test_dates_without_a_date_field_are_refused(client):
	with pytest.raises(SelectionError, match="--date-field"):
		select(client, since="2024-01-01")


def test_a_text_field_is_no_date_field(client):
	with pytest.raises(SelectionError, match="StageName is a picklist field"):
		select(client, date_field="StageName", since="2024-01-01")


def test_a_malformed_date_is_refused(client):
	with pytest.raises(SelectionError, match="not a date"):
		select(client, date_field="CloseDate", since="15/01/2024")


# conditions


def test_a_quote_in_a_value_stays_part_of_the_value(client, opportunities):
	selection = select(client, conditions=["Name = O'Brien's Order"])

	assert names(client, selection.query()) == ["O'Brien's Order"]


def test_an_injection_attempt_is_a_value_that_matches_nothing(client, opportunities):
	selection = select(client, conditions=["Name = x' OR Name != 'y"])

	assert names(client, selection.query()) == []


def test_braces_in_a_value_are_not_a_template(client, opportunities):
	selection = select(client, conditions=["Name = '{braces} and \\'quotes\\''"])

	assert names(client, selection.query()) == ["{braces} and 'quotes'"]


def test_in_with_a_quoted_item_that_holds_a_comma(client, opportunities):
	selection = select(client, conditions=["Name IN ('Sacks, jute', Pallets)"])

	assert set(names(client, selection.query())) == {"Sacks, jute", "Pallets"}


def test_conditions_are_typed_by_the_field(client, opportunities):
	selection = select(client, conditions=["IsWon = TRUE", "Amount >= 500"])

	assert set(names(client, selection.query())) == {"O'Brien's Order"}


def test_like_on_a_text_field(client, opportunities):
	selection = select(client, conditions=["Name LIKE 'Sack%'"])

	assert names(client, selection.query()) == ["Sacks, jute"]


def test_count_query_counts_the_same_records(client, opportunities):
	selection = select(client, conditions=["StageName != Prospecting"])

	assert client.count("{soql:literal}", soql=selection.count_query()) == 4


@pytest.mark.parametrize(
	"text, message",
	[
		("Nope = 1", "no field Nope"),
		("Account.Name = x", "Cannot read the condition"),
		("Amount = lots", "Amount is a number"),
		("IsWon = yes", "true or false"),
		("Amount LIKE '1%'", "LIKE works on text fields only"),
		("Name IN Pallets", "IN needs a list"),
		("Name IN (A, , B)", "empty item"),
		("just words", "Cannot read the condition"),
		("", "Cannot read the condition"),
	],
)
def test_unusable_conditions_are_refused_in_words(client, text, message):
	types = field_types(client.describe("Opportunity"))

	with pytest.raises(SelectionError, match=message):
		parse_condition(text, types)


def test_operators_are_read_in_any_case(client):
	types = field_types(client.describe("Opportunity"))

	condition = parse_condition("stagename not in (A, B)", types)

	assert (condition.field, condition.operator, condition.value) == ("StageName", "NOT IN", ["A", "B"])


# resuming by Id


def test_after_id_continues_exactly_behind_a_checkpoint(client, opportunities):
	selection = select(client)
	every = [record["Id"] for record in client.iter_query("{q:literal}", q=selection.query())]

	rest = [record["Id"] for record in client.iter_query("{q:literal}", q=selection.query(after_id=every[1]))]

	assert every == sorted(every)
	assert rest == every[2:]


def test_limit_and_unordered_forms(client, opportunities):
	selection = select(client)

	assert selection.query(limit=2).endswith("ORDER BY Id LIMIT 2")
	assert "ORDER BY" not in selection.query(ordered=False)
	assert len(list(client.iter_query("{q:literal}", q=selection.query(limit=2)))) == 2


def test_fields_the_org_lacks_are_left_out_and_id_and_modstamp_always_come(client):
	selection = build_selection("Opportunity", client.describe("Opportunity"), ["Name", "NoSuch__c"])

	assert selection.fields == ("Id", "SystemModstamp", "Name")


# reading pages and going on from a position


def accounts(org, count: int) -> list[str]:
	return [org.create("Account", {"Name": f"Account {index:05d}", "Phone": None}) for index in range(count)]


def account_selection(client):
	return build_selection("Account", client.describe("Account"), ["Name", "Phone"])


@pytest.mark.parametrize("transport", ["http"])
def test_rest_reading_goes_on_behind_its_last_position(client, org):
	org.query_page_size = 200
	made = sorted(accounts(org, 450))
	selection = account_selection(client)

	first, positions = [], []
	for fields, position in read_rest(client, selection, Position(), limit=None):
		first.append(fields["Id"])
		positions.append(position)
		if len(first) == 250:
			break
	rest = [fields["Id"] for fields, _ in read_rest(client, selection, positions[-1], limit=None)]

	assert first + rest == made
	assert positions[-1] == Position(last_id=made[249])


@pytest.mark.parametrize("transport", ["http"])
def test_rest_reading_gives_message_shaped_fields(client, org):
	org.create("Account", {"Name": "Kaveri Mills"})

	[(fields, _)] = list(read_rest(client, account_selection(client), Position(), limit=None))

	assert set(fields) == {"Id", "SystemModstamp", "Name"}
	assert all(isinstance(value, str) for value in fields.values())


@pytest.mark.parametrize("transport", ["http"])
def test_bulk_reading_pages_through_a_job_and_resumes_mid_page(client, org):
	made = set(accounts(org, 120))
	reader = BulkReader(client, page_size=50, first_wait=0)
	selection = account_selection(client)

	seen, positions = [], []
	for fields, position in reader.read(selection, Position()):
		seen.append(fields["Id"])
		positions.append(position)
		if len(seen) == 70:
			break
	rest = [fields["Id"] for fields, _ in reader.read(selection, positions[-1])]

	assert positions[-1].offset == 20 and positions[-1].locator and positions[-1].job_id
	assert len(seen + rest) == 120
	assert set(seen + rest) == made


@pytest.mark.parametrize("transport", ["http"])
def test_bulk_reading_of_a_job_that_is_gone_says_so(client, org):
	accounts(org, 3)
	reader = BulkReader(client, first_wait=0)

	with pytest.raises(NotFoundError):
		list(reader.read(account_selection(client), Position(job_id="750000000000000AAA")))


@pytest.mark.parametrize("transport", ["http"])
def test_reading_stops_when_the_api_budget_is_used(client, org, make_client):
	accounts(org, 3)
	org.usage.daily_limit = 100
	org.usage.used = 60
	frugal = make_client(max_daily_share=0.5)
	frugal.count("SELECT COUNT() FROM Account")

	with pytest.raises(RequestLimitError, match="daily API calls are used"):
		list(read_rest(frugal, account_selection(client), Position(), limit=None))


@pytest.mark.parametrize("transport", ["http"])
def test_bulk_reading_holds_one_page_at_a_time(client, org):
	accounts(org, 3000)
	reader = BulkReader(client, page_size=250, first_wait=0)
	selection = account_selection(client)
	streamed, held = reader.read(selection, Position()), reader.read(selection, Position())
	next(streamed)
	first = next(held)
	kept = []

	streaming_peak = _peak(lambda: sum(1 for _ in streamed))
	holding_peak = _peak(lambda: kept.extend([first, *held]))

	assert len(kept) == 3000
	assert streaming_peak < holding_peak / 4


def _peak(consume) -> int:
	tracemalloc.start()
	try:
		consume()
		return tracemalloc.get_traced_memory()[1]
	finally:
		tracemalloc.stop()


# records in message shape


def test_rest_values_become_message_text_and_nulls_are_left_out():
	record = {
		"attributes": {"type": "Lead"},
		"Id": "00Q000000000001AAA",
		"IsConverted": True,
		"HasOptedOut": False,
		"AnnualRevenue": 1500.5,
		"NumberOfEmployees": 12,
		"Phone": None,
		"ConvertedAccount": {"Name": "Parent"},
	}

	assert message_fields(record) == {
		"Id": "00Q000000000001AAA",
		"IsConverted": "true",
		"HasOptedOut": "false",
		"AnnualRevenue": "1500.5",
		"NumberOfEmployees": "12",
	}


def test_bulk_csv_rows_leave_empty_cells_out():
	text = '"Id","Name","Phone"\n"001A","Acme, Pune",""\n"001B","Line\nbreak","98"\n'

	assert list(csv_records(text)) == [
		{"Id": "001A", "Name": "Acme, Pune"},
		{"Id": "001B", "Name": "Line\nbreak", "Phone": "98"},
	]


# polling windows


def test_first_poll_looks_back_one_interval_and_the_overlap():
	now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

	start = poll_start(None, overlap=timedelta(minutes=10), now=now, first_look_back=timedelta(minutes=15))

	assert start == datetime(2024, 5, 1, 11, 35, tzinfo=UTC)


def test_later_polls_start_the_overlap_behind_the_watermark():
	watermark = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

	start = poll_start(watermark, overlap=timedelta(minutes=10), now=watermark, first_look_back=timedelta(0))

	assert start == datetime(2024, 5, 1, 11, 50, tzinfo=UTC)


def test_watermark_follows_the_newest_record_and_never_moves_back():
	old = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

	assert next_watermark(old, [old - timedelta(minutes=5)]) == old
	assert next_watermark(old, []) == old
	assert next_watermark(None, []) is None
	assert next_watermark(old, [old + timedelta(seconds=1), old - timedelta(hours=1)]) == old + timedelta(
		seconds=1
	)


def test_a_poll_is_due_after_one_interval_give_or_take_the_scheduler_tick():
	last = datetime(2024, 5, 1, 12, 0)
	interval = timedelta(minutes=15)

	assert is_due(None, interval, last)
	assert not is_due(last, interval, last + timedelta(minutes=14))
	assert is_due(last, interval, last + timedelta(minutes=14, seconds=58))


# words


def test_progress_line_shows_counts_share_and_rate():
	counts = Counts(created=900, updated=100, unchanged=150, skipped=40, failed=10)

	line = progress_line(counts, 2000, elapsed=30.0)

	assert "1,200/2,000" in line
	assert "60%" in line
	assert "created 900 updated 100 unchanged 150 skipped 40 failed 10" in line
	assert "40.0/s, 0:20 left" in line


def test_progress_line_without_an_expected_total():
	assert progress_line(Counts(created=3), None, elapsed=0).startswith("3 records |")


def test_summary_table_lists_every_outcome_and_the_total():
	table = summary_table(Counts(created=1500, failed=2))

	assert [line.split()[0] for line in table if line[0].isalpha()] == [
		"outcome",
		"created",
		"updated",
		"unchanged",
		"skipped",
		"failed",
		"total",
	]
	assert table[-1].split() == ["total", "1,502"]


def test_a_resumed_run_rates_only_its_own_records():
	line = progress_line(Counts(created=1500), 2000, elapsed=10.0, done_before=1000)

	assert "50.0/s, 0:10 left" in line
