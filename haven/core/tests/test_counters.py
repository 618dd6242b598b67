"""Abuse counters in memory that several processes can add up (haven.core.counters)."""

from __future__ import annotations

from haven.core.counters import WindowCounters


def test_hits_count_in_windows_aligned_to_the_clock() -> None:
    """Every process counts the same window for a key: a window of 60 s starts at whole
    minutes, so a count starts again at 120 s, not 60 s after the first hit."""
    counters = WindowCounters()
    assert counters.hit("k", window=60, now=100.0) == 1
    assert counters.hit("k", window=60, now=119.9) == 2
    assert counters.hit("k", window=60, now=120.0) == 1
    assert counters.count("k", window=60, now=130.0) == 1
    assert counters.count("k", window=60, now=180.0) == 0


def test_reports_carry_new_hits_once_and_totals_from_others_are_added() -> None:
    """Hits are reported once; the shared total makes the count include other processes'
    hits, and hits made after the report are not counted twice."""
    counters = WindowCounters()
    for _ in range(3):
        counters.hit("k", window=60, now=10.0)
    (report,) = counters.reports(now=11.0)
    assert (report.key, report.window, report.hits, report.first) == ("k", 0, 3, True)
    assert report.shared_key == "k:0"
    counters.hit("k", window=60, now=12.0)  # after the report, before the answer
    counters.absorb(report, 10)  # 3 of ours and 7 of others
    assert counters.count("k", window=60, now=12.0) == 11
    (again,) = counters.reports(now=13.0)
    assert (again.hits, again.first) == (1, False)
    assert counters.reports(now=14.0) == []


def test_an_exchange_that_failed_reports_the_same_hits_again() -> None:
    counters = WindowCounters()
    counters.hit("k", window=60, now=1.0)
    reports = counters.reports(now=1.0)
    counters.unreport(reports)
    (report,) = counters.reports(now=2.0)
    assert (report.hits, report.first) == (1, True)


def test_counts_of_one_process_only_are_never_reported() -> None:
    counters = WindowCounters()
    assert counters.hit("mine", window=60, now=1.0, shared=False) == 1
    assert counters.hit("mine", window=60, now=2.0, shared=False) == 2
    assert counters.reports(now=3.0) == []


def test_reports_of_a_closed_window_are_not_sent() -> None:
    """A window that has ended is of no use to anyone: its hits are not reported."""
    counters = WindowCounters()
    counters.hit("k", window=60, now=59.0)
    assert counters.reports(now=61.0) == []


def test_remembered_values_expire_and_are_passed_on_once() -> None:
    counters = WindowCounters()
    counters.remember("blocked:a", "1", seconds=10, now=100.0)
    assert counters.recall("blocked:a", now=109.9) == "1"
    assert counters.recall("blocked:a", now=110.0) is None
    assert counters.unsent_values() == {"blocked:a": ("1", 110.0)}
    assert counters.unsent_values() == {}
    counters.learn_value("source:c", "s", until=200.0)
    assert counters.recall("source:c", now=150.0) == "s"
    assert counters.unsent_values() == {}  # learnt from another process: not sent back


def test_memory_stays_with_the_keys_of_the_current_window() -> None:
    """Old windows and expired values are dropped as hits go on (every 1,000 hits)."""
    counters = WindowCounters()
    counters.remember("v", "x", seconds=1, now=0.0)
    for index in range(2000):
        counters.hit(f"key-{index}", window=60, now=0.0)
    for index in range(1000):
        counters.hit("busy", window=60, now=120.0 + index / 1000)
    assert counters.size() <= 2
