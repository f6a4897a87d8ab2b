"""The shape of a workflow request: unique keys, known dependencies, no cycle (pure: no database).

Errors are keyed the way the client can find them: by the job's key, or by its index in `jobs`
when the key itself is the problem.
"""

from __future__ import annotations

from collections.abc import Sequence


def structure_errors(jobs: Sequence[dict]) -> dict[str, dict]:
    """{key or index: {field: [messages]}} for duplicate keys and unknown dependency keys."""
    errors: dict[str, dict] = {}
    seen: set[str] = set()
    for index, job in enumerate(jobs):
        if job["key"] in seen:
            errors[str(index)] = {"key": [f"Duplicate key {job['key']!r}: keys must be unique."]}
        seen.add(job["key"])
    for job in jobs:
        unknown = [key for key in job["dependsOn"] if key not in seen]
        if unknown:
            errors.setdefault(job["key"], {})["dependsOn"] = [f"Unknown key(s): {', '.join(unknown)}."]
    return errors


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A cycle of keys (first key repeated at the end), or None; `edges` maps a key to the keys
    it depends on. Iterative depth-first search, so 100 chained jobs need no deep recursion."""
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            key, next_child = stack.pop()
            if next_child == 0:
                path.append(key)
                on_path.add(key)
            children = edges.get(key, [])
            if next_child < len(children):
                stack.append((key, next_child + 1))
                child = children[next_child]
                if child in on_path:
                    return path[path.index(child) :] + [child]
                if child not in done:
                    stack.append((child, 0))
                continue
            path.pop()
            on_path.discard(key)
            done.add(key)
    return None


def cycle_errors(jobs: Sequence[dict]) -> dict[str, dict]:
    """{key: {"dependsOn": [message]}} for each key on a dependency cycle, else {}."""
    cycle = find_cycle({job["key"]: list(job["dependsOn"]) for job in jobs})
    if cycle is None:
        return {}
    message = f"Dependency cycle: {' -> '.join(cycle)}."
    return {key: {"dependsOn": [message]} for key in cycle[:-1]}
