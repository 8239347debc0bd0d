"""A customer's address as the phone shows it (jobs.address)."""

from __future__ import annotations

from techapi.jobs.address import one_line, with_one_line

SEATTLE = {"name": "Ana Diaz", "addressLine1": "12 Pine St", "addressLine2": "Apt 4", "city": "Seattle",
           "stateOrRegion": "WA", "postalCode": "98101", "countryCode": "US", "phone": "+1 206 555 0100"}


def test_a_us_address_is_its_lines_city_and_state_with_zip_without_the_country():
    assert one_line(SEATTLE) == "12 Pine St, Apt 4, Seattle, WA 98101"


def test_the_name_and_phone_are_not_part_of_the_line():
    assert "Ana" not in one_line(SEATTLE) and "555" not in one_line(SEATTLE)


def test_every_address_part_comes_in_its_fixed_order_whatever_the_dict_order():
    address = {"county": "King", "city": "Kent", "district": "East Hill", "addressLine3": "Door 2",
               "addressLine2": "Unit 9", "addressLine1": "1 Main St", "postalCode": "98030", "stateOrRegion": "WA"}
    assert one_line(address) == "1 Main St, Unit 9, Door 2, East Hill, Kent, King, WA 98030"


def test_a_country_other_than_the_us_ends_the_line():
    address = {"addressLine1": "1 High St", "city": "Leeds", "postalCode": "LS1", "countryCode": "GB"}
    assert one_line(address) == "1 High St, Leeds, LS1, GB"


def test_empty_and_padded_parts_are_tidied_away():
    address = {"addressLine1": "  12 Pine St ", "addressLine2": "", "addressLine3": None, "city": " Seattle",
               "stateOrRegion": "WA", "postalCode": None, "countryCode": "US"}
    assert one_line(address) == "12 Pine St, Seattle, WA"


def test_a_part_that_is_only_spaces_leaves_no_empty_slot():
    assert one_line({"addressLine1": "12 Pine St", "addressLine2": "   ", "city": "Seattle"}) == "12 Pine St, Seattle"


def test_an_address_without_parts_is_an_empty_line():
    assert one_line({}) == ""
    assert one_line({"countryCode": "US"}) == ""


def test_with_one_line_keeps_the_parts_as_text_and_adds_the_line():
    shown = with_one_line({**SEATTLE, "postalCode": 98101, "addressLine3": None})
    assert shown is not None
    assert shown["postalCode"] == "98101" and "addressLine3" not in shown
    assert shown["oneLine"] == "12 Pine St, Apt 4, Seattle, WA 98101"
    assert shown["name"] == "Ana Diaz"


def test_no_address_shows_as_none():
    assert with_one_line(None) is None
    assert with_one_line({}) is None


def test_the_us_is_left_out_whatever_the_case_it_is_written_in():
    assert one_line({"city": "Seattle", "stateOrRegion": "WA", "countryCode": "us"}) == "Seattle, WA"
