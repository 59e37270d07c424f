from decimal import Decimal

import pytest

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import apply_transform, to_boolean, to_decimal


def test_amount_text_becomes_an_exact_decimal():
	assert to_decimal("125000.75") == Decimal("125000.75")


def test_float_from_json_keeps_no_binary_drift():
	assert to_decimal(0.1) == Decimal("0.1")


def test_integer_becomes_a_decimal():
	assert to_decimal(18) == Decimal(18)


def test_precision_rounds_half_up_where_float_round_goes_down():
	assert round(2.675, 2) == 2.67
	assert to_decimal("2.675", precision=2) == Decimal("2.68")


def test_precision_rounds_half_up_not_to_even():
	assert to_decimal("0.125", precision=2) == Decimal("0.13")


def test_precision_rounds_negative_halves_away_from_zero():
	assert to_decimal("-2.5", precision=0) == Decimal("-3")


def test_precision_pads_to_the_places_asked_for():
	assert str(to_decimal("354", precision=2)) == "354.00"


def test_transform_reads_the_precision_option():
	assert apply_transform("decimal", "1234.5678", options={"precision": 2}) == Decimal("1234.57")


def test_transform_without_precision_keeps_every_digit():
	assert apply_transform("decimal", "1234.5678") == Decimal("1234.5678")


@pytest.mark.parametrize("written", ["12abc", "1,234.50", "₹ 500", "NaN", "Infinity", "-inf"])
def test_what_is_not_a_finite_number_is_rejected(written):
	with pytest.raises(MappingError, match="number"):
		to_decimal(written)


def test_boolean_is_not_taken_for_a_number():
	with pytest.raises(MappingError, match="not a number"):
		to_decimal(True)


@pytest.mark.parametrize("precision", [-1, "2", 2.0, True])
def test_precision_option_that_is_not_a_whole_number_is_rejected(precision):
	with pytest.raises(MappingError, match="precision"):
		apply_transform("decimal", "1.5", options={"precision": precision})


def test_value_too_long_for_the_precision_is_rejected():
	with pytest.raises(MappingError, match="too many digits"):
		to_decimal("1" * 30, precision=2)


@pytest.mark.parametrize(
	("written", "expected"), [("true", True), ("false", False), ("1", True), ("0", False)]
)
def test_salesforce_checkbox_text_becomes_a_bool(written, expected):
	assert to_boolean(written) is expected


@pytest.mark.parametrize(("written", "expected"), [("TRUE", True), (" False ", False)])
def test_checkbox_text_in_any_case_becomes_a_bool(written, expected):
	assert to_boolean(written) is expected


@pytest.mark.parametrize(("given", "expected"), [(True, True), (False, False), (1, True), (0, False)])
def test_json_bool_or_formula_number_becomes_a_bool(given, expected):
	assert apply_transform("boolean", given) is expected


@pytest.mark.parametrize("given", ["yes", "no", "on", "2", "-1", 2, 1.0])
def test_what_is_not_true_false_1_or_0_is_rejected(given):
	with pytest.raises(MappingError, match="not true, false, 1 or 0"):
		to_boolean(given)
