"""Payload filters: a subscription's conditions on an event, checked and compiled into a matcher (pure).

A filter is data, never code: a JSON object of dotted paths and a fixed set of operators. Compiling it builds
closures over its operands; nothing of it is evaluated or used as a pattern. docs/FILTERS.md
states the semantics that the tests hold.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

Matcher = Callable[[dict], bool]

COMPARISONS = ("$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exist", "$startsWith", "$endsWith")

_NUMBERS = (int, float)
_SCALARS = (str, int, float, bool, type(None))
_MISSING = object()
_MOST_PROBLEMS = 20


@dataclass(frozen=True)
class FilterLimits:
    max_bytes: int
    max_depth: int
    max_paths: int


class FilterError(ValueError):
    """A refused filter; `problems` each name where in the filter (a path, or the operator holding it) and what."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def filter_compile(spec: object, *, limits: FilterLimits | None) -> Matcher:
    """The matcher of a filter, or FilterError naming every problem found (up to 20).

    `limits` None skips the bounds: for a filter that was checked against them when it was saved.
    """
    if limits is not None:
        _check_bounds(spec, limits)
    compiler = _Compiler(max_paths=limits.max_paths if limits is not None else None)
    matcher = compiler.conditions(spec, where="")
    if compiler.problems:
        raise FilterError(compiler.problems[:_MOST_PROBLEMS])
    return matcher


def filter_paths(spec: dict) -> list[str]:
    """The dotted paths a valid filter names, each once, in the order they appear."""
    found: dict[str, None] = {}
    _collect_paths(spec, found)
    return list(found)


def _collect_paths(spec: dict, found: dict[str, None]) -> None:
    for key, value in spec.items():
        if key in ("$and", "$or"):
            for item in value:
                _collect_paths(item, found)
        elif key == "$not":
            _collect_paths(value, found)
        else:
            found.setdefault(key)


def _check_bounds(spec: object, limits: FilterLimits) -> None:
    """Depth first, without recursion and stopping early, so that a hostile filter costs little to refuse."""
    pending = [(spec, 1)]
    nodes = 0
    while pending:
        node, depth = pending.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > limits.max_depth:
            raise FilterError([f"the filter nests deeper than {limits.max_depth} levels (objects and lists)"])
        nodes += len(node)
        if nodes > limits.max_bytes:  # each member takes at least a byte: refused before encoding it all
            raise FilterError(
                [f"the filter takes over {limits.max_bytes} bytes as compact JSON; at most {limits.max_bytes}"]
            )
        pending.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    try:
        size = len(json.dumps(spec, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())
    except (TypeError, ValueError) as error:
        raise FilterError([f"the filter is not plain JSON ({error}); numbers must be finite"]) from error
    if size > limits.max_bytes:
        raise FilterError([f"the filter takes {size} bytes as compact JSON; at most {limits.max_bytes}"])


def _at(where: str, problem: str) -> str:
    return f"{where}: {problem}" if where else problem


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, _NUMBERS):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Compiler:
    def __init__(self, *, max_paths: int | None):
        self.problems: list[str] = []
        self.max_paths = max_paths
        self.paths = 0

    def refuse(self, where: str, problem: str) -> Matcher:
        self.problems.append(_at(where, problem))
        return _never

    def conditions(self, spec: object, *, where: str) -> Matcher:
        """An object whose members must all hold: paths, $and, $or, $not."""
        if not isinstance(spec, dict):
            return self.refuse(where, f"a filter is a JSON object, not {_kind(spec)}")
        matchers = []
        for key, value in spec.items():
            label = key or '""'
            inner = f"{where} > {label}" if where else label
            if key in ("$and", "$or"):
                matchers.append(self.logical(key, value, where=inner))
            elif key == "$not":
                matchers.append(_negated(self.conditions(value, where=inner)))
            elif key.startswith("$"):
                hint = f' (write {{"path": {{"{key}": …}}}})' if key in COMPARISONS else ""
                matchers.append(self.refuse(inner, f"not an operator here: use $and, $or, $not or a path{hint}"))
            else:
                matchers.append(self.path(key, value, where=inner))
        return _all(matchers)

    def logical(self, operator: str, value: object, *, where: str) -> Matcher:
        if not isinstance(value, list) or not value:
            return self.refuse(where, f"{operator} takes a non-empty list of filters, not {_kind(value)}")
        matchers = [self.conditions(item, where=f"{where}[{index}]") for index, item in enumerate(value)]
        return _all(matchers) if operator == "$and" else _any(matchers)

    def path(self, path: str, value: object, *, where: str) -> Matcher:
        self.paths += 1
        if self.max_paths is not None and self.paths == self.max_paths + 1:
            return self.refuse(where, f"the filter names more than {self.max_paths} paths")
        segments = path.split(".")
        if not all(segments):
            return self.refuse(where, "a path is field names joined by single dots, with none empty")
        get = _getter(segments)
        if not isinstance(value, dict):
            if isinstance(value, list):
                return self.refuse(where, "a list is not a value to compare with: to match one of several, use $in")
            return self.comparison("$eq", value, get, where=where)
        if not value:
            return self.refuse(where, 'an empty object: give operators, e.g. {"$eq": …}')
        matchers = []
        for operator, operand in value.items():
            if operator not in COMPARISONS:
                if operator.startswith("$"):
                    problem = f"unknown operator {operator}; the operators are {' '.join(COMPARISONS)}"
                else:
                    problem = f'"{operator}" is not an operator: name a nested field by a dotted path instead'
                matchers.append(self.refuse(where, problem))
                continue
            matchers.append(self.comparison(operator, operand, get, where=where))
        return _all(matchers)

    def comparison(self, operator: str, operand: object, get: Callable, *, where: str) -> Matcher:
        if operator == "$exist":
            if not isinstance(operand, bool):
                return self.refuse(where, f"$exist takes true or false, not {_kind(operand)}")
            return _present(get) if operand else _negated(_present(get))
        if operator in ("$in", "$nin"):
            if not isinstance(operand, list) or not operand:
                return self.refuse(where, f"{operator} takes a non-empty list of values, not {_kind(operand)}")
            odd = [_kind(item) for item in operand if not isinstance(item, _SCALARS)]
            if odd:
                return self.refuse(where, f"{operator} lists strings, numbers, booleans or null, not {odd[0]}")
            matcher = _any_value(get, _member_of(operand))
            return matcher if operator == "$in" else _negated(matcher)
        if operator in ("$eq", "$neq"):
            if not isinstance(operand, _SCALARS):
                return self.refuse(
                    where, f"{operator} compares with a string, number, boolean or null, not {_kind(operand)}"
                )
            matcher = _any_value(get, _equal_to(operand))
            return matcher if operator == "$eq" else _negated(matcher)
        if operator in ("$startsWith", "$endsWith"):
            if not isinstance(operand, str):
                return self.refuse(where, f"{operator} takes a string, not {_kind(operand)}")
            affix = operand
            if operator == "$startsWith":
                return _any_value(get, lambda value: type(value) is str and value.startswith(affix))
            return _any_value(get, lambda value: type(value) is str and value.endswith(affix))
        if isinstance(operand, bool) or not isinstance(operand, (*_NUMBERS, str)):
            return self.refuse(where, f"{operator} compares with a number or a string, not {_kind(operand)}")
        return _any_value(get, _ordered(operator, operand))


def _getter(segments: list[str]) -> Callable:
    """The value at a path, or _MISSING; a segment of digits also indexes a list."""
    steps = tuple((segment, int(segment) if segment.isdigit() else None) for segment in segments)
    if len(steps) == 1:
        (key, _), *_ = steps
        return lambda event: event.get(key, _MISSING)
    if len(steps) == 2:  # most paths (cardContext.cardTemplateId): one call fewer per event
        (first, _), (second, second_index) = steps

        def get_two(event: dict) -> object:
            value = event.get(first, _MISSING)
            if type(value) is dict:
                return value.get(second, _MISSING)
            if type(value) is list and second_index is not None and second_index < len(value):
                return value[second_index]
            return _MISSING

        return get_two

    def get(event: dict) -> object:
        value = event
        for key, index in steps:
            if type(value) is dict:
                value = value.get(key, _MISSING)
                if value is _MISSING:
                    return _MISSING
            elif type(value) is list and index is not None and index < len(value):
                value = value[index]
            else:
                return _MISSING
        return value

    return get


def _any_value(get: Callable, test: Callable[[object], bool]) -> Matcher:
    """Holds when the value at the path passes, or, for a list, when any of its elements does; never when missing."""

    def matcher(event: dict) -> bool:
        value = get(event)
        if type(value) is list:
            return any(test(item) for item in value)
        return value is not _MISSING and test(value)

    return matcher


def _equal_to(operand: object) -> Callable[[object], bool]:
    """JSON equality: a number never equals a string or a boolean (Python's True == 1 is not JSON's)."""
    if operand is None or isinstance(operand, bool):
        return lambda value: value is operand
    if isinstance(operand, str):
        return lambda value: type(value) is str and value == operand
    return lambda value: type(value) in _NUMBERS and value == operand


def _member_of(operands: list) -> Callable[[object], bool]:
    strings = frozenset(item for item in operands if type(item) is str)
    numbers = frozenset(item for item in operands if type(item) in _NUMBERS)
    singletons = tuple(item for item in operands if item is None or type(item) is bool)

    def test(value: object) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings
        if kind in _NUMBERS:
            return value in numbers
        return any(value is item for item in singletons)

    return test


def _ordered(operator: str, operand: int | float | str) -> Callable[[object], bool]:
    """Numbers compare with numbers, strings with strings (by code point); a value of another type never passes."""
    kinds = _NUMBERS if isinstance(operand, _NUMBERS) else (str,)
    if operator == "$gt":
        return lambda value: type(value) in kinds and value > operand
    if operator == "$gte":
        return lambda value: type(value) in kinds and value >= operand
    if operator == "$lt":
        return lambda value: type(value) in kinds and value < operand
    return lambda value: type(value) in kinds and value <= operand


def _present(get: Callable) -> Matcher:
    return lambda event: get(event) is not _MISSING


def _negated(matcher: Matcher) -> Matcher:
    return lambda event: not matcher(event)


def _all(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        first, second = matchers
        return lambda event: first(event) and second(event)
    members = tuple(matchers)
    return lambda event: all(matcher(event) for matcher in members)


def _any(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        first, second = matchers
        return lambda event: first(event) or second(event)
    members = tuple(matchers)
    return lambda event: any(matcher(event) for matcher in members)


def _never(event: dict) -> bool:
    return False
