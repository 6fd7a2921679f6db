"""Ground truth files and pairwise precision/recall of identity against them."""

import random
from datetime import date
from itertools import combinations
from pathlib import Path

import pytest

from leadpond.demo import truth
from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks


def test_pairwise_scores_on_a_hand_made_example() -> None:
    actual = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    # {a,b} together is right; {c,d} together is wrong; e unresolved stands alone.
    predicted = {"a": 10, "b": 10, "c": 20, "d": 20, "e": None, "zz": 30}
    scores = truth.pairwise_scores(actual, predicted)
    assert scores.items == 5  # "zz" is not in the truth
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (4, 2, 1)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(0.25)
    assert scores.f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)


def test_perfect_and_collapsed_clusterings() -> None:
    actual = {"a": 1, "b": 1, "c": 2, "d": 3}
    perfect = truth.pairwise_scores(actual, {"a": "x", "b": "x", "c": "y", "d": "z"})
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    collapsed = truth.pairwise_scores(actual, dict.fromkeys(actual, 7))
    assert collapsed.precision == pytest.approx(1 / 6) and collapsed.recall == 1.0
    split = truth.pairwise_scores(actual, {key: None for key in actual})
    assert split.precision == 1.0 and split.recall == 0.0


def test_contingency_counts_equal_brute_force_pairs() -> None:
    rng = random.Random(3)
    keys = [f"m{i}" for i in range(300)]
    actual = {key: rng.randrange(40) for key in keys}
    predicted = {key: rng.choice([None, rng.randrange(30)]) for key in keys}
    scores = truth.pairwise_scores(actual, predicted)
    same_true = same_predicted = both = 0
    for x, y in combinations(keys, 2):
        t = actual[x] == actual[y]
        p = predicted[x] is not None and predicted[x] == predicted[y]
        same_true, same_predicted, both = same_true + t, same_predicted + p, both + (t and p)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (
        same_true,
        same_predicted,
        both,
    )


def test_written_truth_matches_the_generated_messages(tmp_path: Path) -> None:
    spec = WorldSpec(seed=4, people=150, end=date(2026, 1, 15))
    stats = WorldStats()
    expected: dict[str, tuple[int, int]] = {}
    with truth.TruthWriter(tmp_path / "w") as writer:
        for block in iter_blocks(spec, stats, block_people=40):
            writer.write(block)
            for message, person, company in zip(
                block.messages, block.people, block.companies, strict=True
            ):
                expected[message["messageId"]] = (person, company)
        writer.close(spec, stats, {"workspace_id": "none"})
    loaded = truth.load(tmp_path / "w" / truth.TRUTH_FILE)
    assert {m: (loaded.person[m], loaded.company[m]) for m in loaded.person} == expected
    assert loaded.summary["messages"] == len(expected) == stats.messages
    assert loaded.summary["people"] == 150 == len(set(loaded.person.values()))
    assert loaded.summary["seed"] == 4
    assert sum(loaded.summary["messages_by_type"].values()) == len(expected)
