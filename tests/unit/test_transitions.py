"""The state machines: the Transitions table itself, and every machine's table
written out here in full, so that a move added or dropped in the code shows up
as a failing pair."""

from __future__ import annotations

import enum
import itertools

import pytest

from techapi.closures.models import CANCELLATION, CLOSURE
from techapi.errors import ConflictError, IllegalTransition
from techapi.evidence.models import DOCUMENT
from techapi.queue.models import TASK
from techapi.states import Transitions
from techapi.webhooks.models import EVENT


class Light(enum.StrEnum):
    RED = "RED"
    GREEN = "GREEN"
    OFF = "OFF"


LIGHT = Transitions("Light", Light, {Light.RED: {Light.GREEN, Light.OFF}, Light.GREEN: {Light.RED}, Light.OFF: ()})


def test_a_listed_move_is_allowed_and_check_returns_the_new_state_as_the_enum():
    assert LIGHT.allows("RED", "GREEN")
    new = LIGHT.check("RED", "GREEN")
    assert new is Light.GREEN


def test_a_move_the_table_omits_is_refused_naming_both_states():
    assert not LIGHT.allows("GREEN", "OFF")
    with pytest.raises(IllegalTransition) as info:
        LIGHT.check("GREEN", "OFF")
    assert info.value.message == "Light is GREEN; it cannot become OFF"
    assert isinstance(info.value, ConflictError) and info.value.status == 409


def test_staying_in_the_same_state_is_a_move_that_must_be_listed():
    assert not LIGHT.allows("RED", "RED")
    with pytest.raises(IllegalTransition):
        LIGHT.check("RED", "RED")


def test_a_state_with_no_way_out_is_final_and_the_others_are_not():
    assert LIGHT.final("OFF")
    assert not LIGHT.final("RED") and not LIGHT.final("GREEN")


def test_a_table_missing_a_state_is_refused_when_it_is_built():
    with pytest.raises(ValueError, match="^Light: no row for ") as info:
        Transitions("Light", Light, {Light.RED: {Light.GREEN}, Light.GREEN: {Light.RED}})
    assert "OFF" in str(info.value) and "RED" not in str(info.value)


def test_a_state_that_does_not_exist_is_a_value_error_not_a_refused_move():
    with pytest.raises(ValueError):
        LIGHT.check("RED", "BLUE")


# Every machine's table, as the domain means it. -------------------------------------

MACHINES = {
    "closure": (CLOSURE, {
        "PENDING_APPROVAL": {"QUEUED", "REJECTED", "COMPLETED", "FAILED"},
        "QUEUED": {"COMPLETED", "FAILED"},
        "FAILED": {"QUEUED", "COMPLETED", "FAILED"},  # FAILED again: SP-API cancelled the job; the reason changes
        "REJECTED": {"PENDING_APPROVAL", "QUEUED", "COMPLETED", "FAILED"},
        "COMPLETED": set(),
    }),
    "cancellation": (CANCELLATION, {
        "QUEUED": {"COMPLETED", "FAILED"},
        "FAILED": {"QUEUED"},
        "COMPLETED": set(),
    }),
    "document": (DOCUMENT, {
        "RECEIVED": {"UPLOADING", "FAILED"},
        "UPLOADING": {"UPLOADING", "UPLOADED", "FAILED"},  # UPLOADING again: the next attempt
        "UPLOADED": {"FAILED"},  # refused by Amazon at fulfillment (malware check): to be replaced
        "FAILED": set(),
    }),
    "task": (TASK, {
        "PENDING": {"RUNNING"},
        "RUNNING": {"RUNNING", "PENDING", "DONE", "FAILED"},  # RUNNING again: an expired lease taken over
        "DONE": set(),
        "FAILED": set(),
    }),
    "webhook event": (EVENT, {
        "RECEIVED": {"APPLIED", "REJECTED"},
        "APPLIED": set(),
        "REJECTED": set(),
        "IGNORED": set(),
    }),
}

PAIRS = [
    pytest.param(machine, expected, current, new, id=f"{name}: {current} -> {new}")
    for name, (machine, expected) in MACHINES.items()
    for current, new in itertools.product(expected, repeat=2)
]


@pytest.mark.parametrize("name", MACHINES)
def test_each_machine_has_exactly_the_states_written_out_here(name):
    machine, expected = MACHINES[name]
    assert {s.value for s in machine.states} == set(expected)


@pytest.mark.parametrize("machine, expected, current, new", PAIRS)
def test_exactly_the_listed_moves_are_allowed(machine, expected, current, new):
    if new in expected[current]:
        assert machine.check(current, new) == new
    else:
        with pytest.raises(IllegalTransition, match=f"is {current}; it cannot become {new}$"):
            machine.check(current, new)


@pytest.mark.parametrize("name", MACHINES)
def test_the_final_states_are_those_with_no_way_out(name):
    machine, expected = MACHINES[name]
    assert {s for s in expected if machine.final(s)} == {s for s, after in expected.items() if not after}


def test_the_final_states_the_domain_relies_on():
    assert CLOSURE.final("COMPLETED") and not CLOSURE.final("FAILED") and not CLOSURE.final("REJECTED")
    assert CANCELLATION.final("COMPLETED") and not CANCELLATION.final("FAILED")
    assert not DOCUMENT.final("UPLOADED") and DOCUMENT.final("FAILED")
    assert TASK.final("DONE") and TASK.final("FAILED")
    assert EVENT.final("IGNORED") and EVENT.final("APPLIED") and EVENT.final("REJECTED")
