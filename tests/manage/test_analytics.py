"""The pure helpers behind the aggregates: percentiles from histograms (surveys/analytics/histograms.py),
small-group suppression (surveys/suppression.py) and the filters."""

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import analytics, suppression


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=200))
@settings(max_examples=200, deadline=None)
def test_quantiles_from_histogram_match_statistics_inclusive(values):
    scores = [v / 100 for v in values]
    histogram = {}
    for s in scores:
        histogram[s] = histogram.get(s, 0) + 1
    result = analytics.quantiles_from_histogram(histogram.items())
    if len(scores) == 1:
        assert result == pytest.approx([scores[0]] * 3)
    else:
        assert result == pytest.approx(statistics.quantiles(scores, n=4, method="inclusive"))


def test_quantiles_of_nothing():
    assert analytics.quantiles_from_histogram([]) is None
    assert analytics.quantiles_from_histogram([(None, 3), (5.0, 0)]) is None


@pytest.mark.parametrize(
    ("counts", "hidden"),
    [
        ({"a": 50, "b": 30, "c": 12}, set()),
        ({"a": 50, "b": 3, "c": 12}, {"b", "c"}),  # one small cell: the next smallest goes too
        ({"a": 50, "b": 3, "c": 4, "d": 20}, {"b", "c"}),
        ({"a": 5}, {"a"}),
        ({"a": 50, "b": 0, "c": 2}, {"c", "a"}),
        ({"a": 0, "b": 0}, set()),
    ],
)
def test_suppress_partition(counts, hidden):
    assert suppression.suppress_partition(counts) == hidden


def test_shown_count_and_share():
    assert suppression.shown_count(9) is None
    assert suppression.shown_count(10) == 10
    assert suppression.shown_count(0) == 0
    assert suppression.share(5, 100) is None
    assert suppression.share(0, 100) == 0.0
    assert suppression.share(50, 9) is None
    assert suppression.share(25, 100) == 25.0


def test_filters_round_trip_as_a_query_string():
    filters = analytics.Filters(district="370112", size_class="small", round_label="2026 T0", year=2026, level="L2")
    assert filters.query_string() == "district=370112&size=small&round=2026+T0&year=2026&level=L2"
