"""Workflows, the pure parts: cycle detection, key checks, aggregate status."""

from __future__ import annotations

from app.workflows.dag import cycle_errors, find_cycle, structure_errors
from app.workflows.status import aggregate_status


def _jobs(edges: dict[str, list[str]]) -> list[dict]:
    return [{"key": key, "dependsOn": deps} for key, deps in edges.items()]


def test_a_dag_has_no_cycle():
    assert find_cycle({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}) is None


def test_a_cycle_is_named_in_order():
    cycle = find_cycle({"a": ["c"], "b": ["a"], "c": ["b"], "d": []})
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"} and len(cycle) == 4


def test_a_self_dependency_is_a_cycle():
    assert cycle_errors(_jobs({"a": ["a"]})) == {"a": {"dependsOn": ["Dependency cycle: a -> a."]}}


def test_a_long_chain_needs_no_deep_recursion():
    edges = {f"j{i}": [f"j{i - 1}"] if i else [] for i in range(5000)}
    assert find_cycle(edges) is None
    edges["j0"] = ["j4999"]
    assert len(find_cycle(edges)) == 5001


def test_duplicate_keys_are_named_by_index_and_unknown_keys_by_key():
    jobs = [{"key": "a", "dependsOn": []}, {"key": "a", "dependsOn": []}, {"key": "b", "dependsOn": ["zz", "a"]}]
    assert structure_errors(jobs) == {
        "1": {"key": ["Duplicate key 'a': keys must be unique."]},
        "b": {"dependsOn": ["Unknown key(s): zz."]},
    }


def test_aggregate_status():
    assert aggregate_status([("queued", False), ("queued", False)]) == "queued"
    assert aggregate_status([("active", True), ("queued", False)]) == "active"
    assert aggregate_status([("completed", True), ("queued", False)]) == "active"
    assert aggregate_status([("cancelled", False), ("queued", False)]) == "queued"
    assert aggregate_status([("completed", True), ("completed", True)]) == "completed"
    assert aggregate_status([("completed", True), ("failed", True), ("cancelled", False)]) == "failed"
    assert aggregate_status([("completed", True), ("cancelled", False)]) == "cancelled"
