"""Payload filters (pure): every operator, the semantics docs/FILTERS.md states, the refusals with their path."""

import json

import pytest

from subscriptions.payload_filters import FilterError, FilterLimits, filter_compile, filter_paths

LIMITS = FilterLimits(max_bytes=4096, max_depth=8, max_paths=64)

EVENT = {
    "id": "evt_1",
    "eventName": "card-completed",
    "timestamp": "2026-11-28T10:00:00Z",
    "endUserId": "user-42",
    "test": False,
    "cardContext": {"cardInstanceId": "ci-1", "cardTemplateId": "card-7", "cardInstanceStatus": "active"},
    "properties": {"values": {"rating": 5, "score": 2.5, "comment": "Nice", "consent": True, "skip": None}},
    "tags": ["promo", "spring", 3],
    "items": [{"sku": "a-1"}, {"sku": "b-2"}],
    "version": "5",
}


def matches(spec, event=EVENT) -> bool:
    return filter_compile(spec, limits=LIMITS)(event)


def refusal(spec, limits=LIMITS) -> list[str]:
    with pytest.raises(FilterError) as raised:
        filter_compile(spec, limits=limits)
    return raised.value.problems


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"eventName": "card-completed"}, True),
        ({"eventName": "card-displayed"}, False),
        ({"eventName": {"$eq": "card-completed"}}, True),
        ({"eventName": {"$neq": "card-completed"}}, False),
        ({"eventName": {"$neq": "card-displayed"}}, True),
        ({"properties.values.rating": {"$gt": 4}}, True),
        ({"properties.values.rating": {"$gt": 5}}, False),
        ({"properties.values.rating": {"$gte": 5}}, True),
        ({"properties.values.rating": {"$lt": 5}}, False),
        ({"properties.values.rating": {"$lte": 5}}, True),
        ({"properties.values.score": {"$gt": 2, "$lt": 3}}, True),
        ({"cardContext.cardTemplateId": {"$in": ["card-7", "card-8"]}}, True),
        ({"cardContext.cardTemplateId": {"$in": ["card-8"]}}, False),
        ({"cardContext.cardTemplateId": {"$nin": ["card-8"]}}, True),
        ({"cardContext.cardTemplateId": {"$nin": ["card-7"]}}, False),
        ({"endUserId": {"$exist": True}}, True),
        ({"endUserId": {"$exist": False}}, False),
        ({"requestPayload": {"$exist": False}}, True),
        ({"endUserId": {"$startsWith": "user-"}}, True),
        ({"endUserId": {"$startsWith": "admin-"}}, False),
        ({"endUserId": {"$endsWith": "-42"}}, True),
        ({"endUserId": {"$endsWith": "-43"}}, False),
        ({"timestamp": {"$gte": "2026-11-01T00:00:00Z"}}, True),
        ({"timestamp": {"$lt": "2026-11-01T00:00:00Z"}}, False),
        ({"test": False}, True),
        ({"properties.values.consent": True}, True),
    ],
)
def test_each_operator(spec, expected):
    assert matches(spec) is expected


def test_and_or_not():
    assert matches({"$and": [{"eventName": "card-completed"}, {"endUserId": "user-42"}]})
    assert not matches({"$and": [{"eventName": "card-completed"}, {"endUserId": "user-43"}]})
    assert matches({"$or": [{"endUserId": "user-43"}, {"endUserId": "user-42"}]})
    assert not matches({"$or": [{"endUserId": "user-43"}, {"endUserId": "user-44"}]})
    assert matches({"$not": {"endUserId": "user-43"}})
    assert not matches({"$not": {"endUserId": "user-42"}})


def test_members_of_an_object_must_all_hold():
    assert matches({"eventName": "card-completed", "endUserId": "user-42"})
    assert not matches({"eventName": "card-completed", "endUserId": "user-43"})


def test_an_empty_filter_matches_every_event():
    assert matches({})


def test_nesting_combines():
    spec = {
        "$or": [
            {"$and": [{"cardContext.cardTemplateId": "card-8"}, {"properties.values.rating": {"$gte": 4}}]},
            {"$not": {"$or": [{"endUserId": {"$startsWith": "admin-"}}, {"test": True}]}},
        ]
    }
    assert matches(spec)
    assert not matches(spec, {**EVENT, "endUserId": "admin-1"})


def test_numbers_never_equal_strings():
    assert not matches({"version": 5})
    assert matches({"version": "5"})
    assert not matches({"properties.values.rating": "5"})
    assert not matches({"properties.values.rating": {"$in": ["5"]}})
    assert not matches({"version": {"$gt": 4}})
    assert not matches({"properties.values.rating": {"$gt": "4"}})


def test_integers_and_decimals_compare_as_numbers():
    assert matches({"properties.values.rating": 5.0})
    assert matches({"properties.values.rating": {"$in": [5.0]}})
    assert matches({"properties.values.score": {"$gt": 2}})


def test_booleans_are_not_numbers():
    assert not matches({"properties.values.consent": 1})
    assert not matches({"properties.values.consent": {"$in": [1]}})
    assert not matches({"properties.values.rating": True})
    assert not matches({"properties.values.consent": {"$gt": 0}})
    assert not matches({"test": 0})


def test_strings_compare_by_code_point():
    assert matches({"endUserId": {"$gt": "user-3"}})
    assert not matches({"endUserId": {"$gt": "user-5"}})
    assert matches({"properties.values.comment": {"$lt": "n"}})  # "N" (78) sorts before "n" (110)


def test_a_missing_path_fails_every_positive_operator():
    for spec in [
        {"nothing": "x"},
        {"nothing": None},
        {"nothing": {"$gt": 0}},
        {"nothing": {"$lt": "z"}},
        {"nothing": {"$in": ["x", None]}},
        {"nothing": {"$startsWith": ""}},
        {"nothing.deeper": {"$exist": True}},
        {"endUserId.deeper": "x"},
    ]:
        assert not matches(spec), spec


def test_a_missing_path_passes_the_negations():
    assert matches({"nothing": {"$neq": "x"}})
    assert matches({"nothing": {"$nin": ["x"]}})
    assert matches({"nothing": {"$exist": False}})
    assert not matches({"nothing": {"$exist": False, "$neq": "x"}, "endUserId": {"$exist": False}})


def test_null_matches_only_a_present_null():
    assert matches({"properties.values.skip": None})
    assert matches({"properties.values.skip": {"$exist": True}})
    assert matches({"properties.values.skip": {"$in": ["x", None]}})
    assert not matches({"properties.values.rating": None})
    assert not matches({"properties.values.nothing": None})
    assert not matches({"properties.values.skip": {"$gt": 0}})
    assert matches({"properties.values.rating": {"$neq": None}})


def test_a_list_matches_when_any_element_does():
    assert matches({"tags": "promo"})
    assert matches({"tags": 3})
    assert not matches({"tags": "winter"})
    assert matches({"tags": {"$in": ["winter", "spring"]}})
    assert matches({"tags": {"$startsWith": "spr"}})
    assert matches({"tags": {"$gt": 2}})


def test_a_list_passes_a_negation_only_when_no_element_matches():
    assert not matches({"tags": {"$neq": "promo"}})
    assert matches({"tags": {"$neq": "winter"}})
    assert not matches({"tags": {"$nin": ["spring"]}})
    assert matches({"tags": {"$nin": ["winter"]}})


def test_an_empty_list_is_present_and_matches_nothing():
    event = {**EVENT, "tags": []}
    assert matches({"tags": {"$exist": True}}, event)
    assert not matches({"tags": "promo"}, event)
    assert matches({"tags": {"$neq": "promo"}}, event)


def test_a_digit_segment_indexes_a_list():
    assert matches({"items.0.sku": "a-1"})
    assert matches({"items.1.sku": {"$startsWith": "b"}})
    assert not matches({"items.2.sku": {"$exist": True}})
    assert not matches({"items.sku": "a-1"})
    assert matches({"tags.1": "spring"})


def test_a_digit_segment_is_a_key_in_an_object():
    assert matches({"codes.7": "x"}, {**EVENT, "codes": {"7": "x"}})


def test_everything_is_case_sensitive():
    assert not matches({"eventname": "card-completed"})
    assert not matches({"eventName": "Card-Completed"})
    assert not matches({"properties.values.comment": "nice"})
    assert not matches({"properties.values.comment": {"$startsWith": "ni"}})
    assert not matches({"endUserId": {"$endsWith": "-42".upper() + "X"}})
    assert not matches({"cardContext.cardTemplateId": {"$in": ["CARD-7"]}})


def test_a_value_that_is_an_object_compares_with_nothing():
    assert not matches({"cardContext": "card-7"})
    assert not matches({"properties.values": {"$gt": 1}})
    assert matches({"properties.values": {"$exist": True}})


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"endUserId": {"$regex": "^user"}}, "endUserId: unknown operator $regex"),
        ({"endUserId": {"$where": "1"}}, "endUserId: unknown operator $where"),
        ({"$where": "this.a == 1"}, "$where: not an operator here"),
        ({"$eq": 1}, '$eq: not an operator here: use $and, $or, $not or a path (write {"path": {"$eq": …}})'),
        ({"a": {"$gt": [1]}}, "a: $gt compares with a number or a string, not a list"),
        ({"a": {"$gt": True}}, "a: $gt compares with a number or a string, not a boolean"),
        ({"a": {"$lte": None}}, "a: $lte compares with a number or a string, not null"),
        ({"a": {"$eq": {"b": 1}}}, "a: $eq compares with a string, number, boolean or null, not an object"),
        ({"a": {"$neq": [1]}}, "a: $neq compares with a string, number, boolean or null, not a list"),
        ({"a": {"$in": "x"}}, "a: $in takes a non-empty list of values, not a string"),
        ({"a": {"$in": []}}, "a: $in takes a non-empty list of values, not a list"),
        ({"a": {"$nin": [["x"]]}}, "a: $nin lists strings, numbers, booleans or null, not a list"),
        ({"a": {"$exist": 1}}, "a: $exist takes true or false, not a number"),
        ({"a": {"$startsWith": 1}}, "a: $startsWith takes a string, not a number"),
        ({"a": {"$endsWith": None}}, "a: $endsWith takes a string, not null"),
        ({"a": ["x", "y"]}, "a: a list is not a value to compare with: to match one of several, use $in"),
        ({"a": {}}, 'a: an empty object: give operators, e.g. {"$eq": …}'),
        ({"a": {"b": 1}}, 'a: "b" is not an operator: name a nested field by a dotted path instead'),
        ({"a..b": 1}, "a..b: a path is field names joined by single dots, with none empty"),
        ({".a": 1}, ".a: a path is field names joined by single dots, with none empty"),
        ({"": 1}, '"": a path is field names joined by single dots, with none empty'),
        ({"$and": []}, "$and: $and takes a non-empty list of filters, not a list"),
        ({"$or": {"a": 1}}, "$or: $or takes a non-empty list of filters, not an object"),
        ({"$not": [{"a": 1}]}, "$not: a filter is a JSON object, not a list"),
        ({"$and": [{"a": 1}, "b"]}, "$and[1]: a filter is a JSON object, not a string"),
        ({"$or": [{"$not": {"x.y": {"$gt": {}}}}]}, "$or[0] > $not > x.y: $gt compares with a number or a string"),
        ("a == 1", "a filter is a JSON object, not a string"),
        ([{"a": 1}], "a filter is a JSON object, not a list"),
    ],
)
def test_refusals_name_the_path_and_the_problem(spec, problem):
    problems = refusal(spec)
    assert any(found.startswith(problem) for found in problems), problems


def test_every_problem_is_named_at_once():
    problems = refusal({"a": {"$regex": "x"}, "b": {"$gt": []}, "$and": [{"c": {"$exist": "yes"}}]})
    assert [problem.split(":")[0] for problem in problems] == ["a", "b", "$and[0] > c"]


def test_a_filter_over_four_kib_is_refused():
    spec = {"endUserId": {"$in": ["user-" + str(n).zfill(5) for n in range(400)]}}
    size = len(json.dumps(spec, separators=(",", ":")))
    assert size > 4096
    assert refusal(spec) == [f"the filter takes {size} bytes as compact JSON; at most 4096"]


def test_the_size_counts_utf8_bytes_of_compact_json():
    spec = {"a": "é" * 2045}
    assert len(json.dumps(spec, separators=(",", ":"), ensure_ascii=False)) < 4096
    assert "bytes as compact JSON" in refusal(spec)[0]
    assert matches({"a": "é" * 1000}, {"a": "é" * 1000})


def test_a_filter_naming_ten_thousand_paths_is_refused():
    spec = {f"p{n}": 1 for n in range(10000)}
    assert "bytes as compact JSON; at most 4096" in refusal(spec)[0]


def test_a_filter_naming_more_paths_than_the_limit_is_refused_however_small():
    spec = {"$or": [{f"p{n}": n} for n in range(65)]}
    assert len(json.dumps(spec, separators=(",", ":"))) < 4096
    assert refusal(spec) == ["$or[64] > p64: the filter names more than 64 paths"]
    assert filter_compile({"$or": [{f"p{n}": n} for n in range(64)]}, limits=LIMITS)({"p63": 63})


def test_eight_levels_pass_and_nine_are_refused():
    eight = {"$and": [{"$or": [{"$not": {"a": {"$in": [1]}}}]}]}
    assert matches(eight, {"a": 2})
    nine = {"$and": [{"$or": [{"$not": {"$not": {"a": {"$in": [1]}}}}]}]}
    assert refusal(nine) == ["the filter nests deeper than 8 levels (objects and lists)"]


def test_a_hostile_deep_filter_is_refused_quickly():
    spec: dict = {"a": 1}
    for _ in range(200000):
        spec = {"$not": spec}
    assert refusal(spec) == ["the filter nests deeper than 8 levels (objects and lists)"]


def test_values_that_are_not_json_are_refused():
    assert "numbers must be finite" in refusal({"a": float("nan")})[0]
    assert "numbers must be finite" in refusal({"a": {"$gt": float("inf")}})[0]


def test_no_operand_is_run_as_code_or_a_pattern():
    assert not matches({"endUserId": {"$startsWith": "user.*"}})
    assert matches({"note": {"$startsWith": "user.*"}}, {"note": "user.*x"})
    assert not matches({"endUserId": "__import__('os')"})


def test_stored_filters_compile_without_the_limits():
    spec = {f"p{n}": 1 for n in range(100)}
    assert filter_compile(spec, limits=None)({f"p{n}": 1 for n in range(100)})


def test_filter_paths_lists_each_path_once_in_order():
    spec = {"a": 1, "$and": [{"b.c": 2}, {"$not": {"a": 3, "d": {"$exist": True}}}], "e": {"$gt": 1}}
    assert filter_paths(spec) == ["a", "b.c", "d", "e"]
