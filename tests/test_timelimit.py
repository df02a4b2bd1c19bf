import time

import pytest

from pipeline.timelimit import TimeLimitExceeded, time_limit


def busy(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_an_inner_limit_stops_only_its_own_block_and_the_outer_one_still_holds():
    with pytest.raises(TimeLimitExceeded) as outer_stop:
        with time_limit(0.3) as outer:
            with pytest.raises(TimeLimitExceeded) as inner_stop:
                with time_limit(0.05) as inner:
                    busy(1)
            assert inner_stop.value.deadline == inner
            busy(2)  # the outer limit is armed again after the inner block
    assert outer_stop.value.deadline == outer


def test_an_outer_limit_expiring_inside_an_inner_block_is_the_outer_one():
    with pytest.raises(TimeLimitExceeded) as stop:
        with time_limit(0.05) as outer:
            with time_limit(5):
                busy(1)
    assert stop.value.deadline == outer


def test_no_limit_when_it_is_zero():
    with time_limit(0) as deadline:
        busy(0.01)
    assert deadline is None
