"""Journey definitions without a database: local times of day across zones and dates, and the
split's hash (stable, proportional to the weights)."""

from collections import Counter
from datetime import datetime, time
from zoneinfo import ZoneInfo

from leadpond.journeys.definitions import compile_journeys, next_local_time
from leadpond.rules.playbook import Playbook

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_next_local_time_is_the_next_occurrence_in_the_zone() -> None:
    # 2026-12-06 20:00 UTC is 04:00 on the 7th in Shanghai: 09:30 that same local day.
    assert next_local_time(datetime(2026, 12, 6, 20), time(9, 30), SHANGHAI) == datetime(
        2026, 12, 7, 1, 30
    )
    # 02:00 UTC is 10:00 in Shanghai: past 09:30, so the next day.
    assert next_local_time(datetime(2026, 12, 7, 2), time(9, 30), SHANGHAI) == datetime(
        2026, 12, 8, 1, 30
    )
    # Exactly then: now.
    assert next_local_time(datetime(2026, 12, 7, 1, 30), time(9, 30), SHANGHAI) == datetime(
        2026, 12, 7, 1, 30
    )
    # A zone with daylight saving: 09:00 in New York is 14:00 UTC in winter, 13:00 in summer.
    new_york = ZoneInfo("America/New_York")
    assert next_local_time(datetime(2026, 1, 10), time(9, 0), new_york).hour == 14
    assert next_local_time(datetime(2026, 7, 10), time(9, 0), new_york).hour == 13


def test_the_split_is_stable_and_follows_the_weights() -> None:
    playbook = Playbook.model_validate(
        {
            "version": 1,
            "journeys": [
                {
                    "key": "ab",
                    "trigger": {"api": True},
                    "steps": [
                        {
                            "id": "split",
                            "split": [
                                {"variant": "A", "weight": 80, "goto": "a"},
                                {"variant": "B", "weight": 20, "goto": "b"},
                            ],
                        },
                        {"id": "a", "wait": "1d", "next": "exit"},
                        {"id": "b", "wait": "2d"},
                    ],
                }
            ],
        }
    )
    [journey] = compile_journeys(playbook)
    step = journey.steps["split"]
    first = [journey.variant_of(step, pid).variant for pid in range(1, 10_001)]
    assert first == [journey.variant_of(step, pid).variant for pid in range(1, 10_001)]
    counts = Counter(first)
    assert 7_700 <= counts["A"] <= 8_300 and counts["A"] + counts["B"] == 10_000
