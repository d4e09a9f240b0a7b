"""The timetable's schedule passes: ``fit_times`` finds a schedule whenever one exists (brute force over every
start), keeps every window and the span, and finishes as early as any schedule can."""

from __future__ import annotations

from conftest import DAY, FACTORIES, TOWNSHIPS, replace, traveller, yudu_rules
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.model import Problem
from scheduler.plan import Stop
from scheduler.timetable import Timetable, backward_pass, fit_times, forward_pass

HORIZON = 120


@st.composite
def routes(draw: st.DrawFn) -> tuple[list[int], list[tuple[tuple[int, int], ...]], int]:
    """A few stops with transits and one or two windows each (gaps between them, as nights between gates)."""
    n = draw(st.integers(1, 4))
    transits = [0] + [draw(st.integers(0, 25)) for _ in range(n - 1)]
    windows = []
    for _ in range(n):
        a = draw(st.integers(0, 60))
        first = (a, a + draw(st.integers(0, 15)))
        if draw(st.booleans()):
            c = first[1] + draw(st.integers(1, 30))
            windows.append((first, (c, c + draw(st.integers(0, 15)))))
        else:
            windows.append((first,))
    return transits, windows, draw(st.integers(0, 60))


def valid(times: list[int], transits: list[int], windows: list, span: int) -> bool:
    in_windows = all(any(a <= t <= b for a, b in w) for t, w in zip(times, windows, strict=True))
    spaced = all(times[i] - times[i - 1] >= transits[i] for i in range(1, len(times)))
    return in_windows and spaced and times[-1] - times[0] <= span


@settings(max_examples=400, deadline=None)
@given(routes())
def test_fit_times_finds_the_earliest_finishing_schedule_whenever_one_exists(route) -> None:  # type: ignore[no-untyped-def]
    """Against every integer schedule of the small horizon: a schedule exists exactly when fit_times finds one,
    which is valid and finishes no later than any valid schedule."""
    transits, windows, span = route
    times = fit_times(0, transits, windows, span)
    # Brute force: every start of the first stop, each later stop as early as it may be after it (waiting
    # only for windows), then pushed as late as the next allows; any valid schedule is at least as long.
    finishes = []
    for t0 in range(0, HORIZON):
        earliest = forward_pass(t0, transits, windows)
        if earliest is None or earliest[0] != t0:
            continue
        for candidate in (earliest, backward_pass(earliest, transits, windows)):
            if valid(candidate, transits, windows, span):
                finishes.append(candidate[-1])
    if times is None:
        assert finishes == []
    else:
        assert valid(times, transits, windows, span)
        assert finishes and times[-1] == min(finishes)


def test_a_night_between_gates_means_leaving_later() -> None:
    """Two drop-offs 90 minutes apart whose gates close at 20:00 and open again at 08:00, 14 hours away: leaving
    at 05:00 reaches the first gate at 19:00 and the second only next morning (a 27 h ride); leaving at 18:00
    reaches both next morning within a 16 h limit."""
    hour = 3600
    gates = ((8 * hour, 20 * hour), (32 * hour, 44 * hour))
    transits = [0, 14 * hour, 90 * 60]
    windows = [((5 * hour, 24 * hour),), gates, gates]
    assert forward_pass(5 * hour, transits, windows) == [5 * hour, 19 * hour, 32 * hour]
    assert fit_times(5 * hour, transits, windows, 16 * hour) == [18 * hour, 32 * hour, 33 * hour + 30 * 60]


# A coach's stops on real places: pickups at Yudu townships, gates in Dongguan (near) and Kunshan (a day's drive),
# each gate's riders due on the plan date itself or later.
@st.composite
def calls(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, int]]]:
    townships = draw(st.lists(st.integers(0, len(TOWNSHIPS) - 1), min_size=1, max_size=3, unique=True))
    gates = draw(st.lists(st.sampled_from([0, 1, 2, 50, 51, 52, 53]), min_size=1, max_size=3, unique=True))
    return townships, [(g, draw(st.integers(0, 2))) for g in gates]


@settings(max_examples=150, deadline=None)
@given(calls())
def test_a_coach_that_cannot_call_at_its_stops_has_no_schedule_whoever_rides(route) -> None:  # type: ignore[no-untyped-def]
    """``can_call_at`` is a necessary condition: wherever a schedule exists for some riders, it says yes (told
    at which gates a rider is due on the plan date itself)."""
    townships, gates = route
    riders = {g: traveller(f"T{g}", TOWNSHIPS[townships[0]], FACTORIES[g], report_days=days) for g, days in gates}
    problem = Problem(DAY, TOWNSHIPS, FACTORIES, tuple(riders.values()), (), yudu_rules())
    table = Timetable(problem)
    stops = [Stop(TOWNSHIPS[t].township_id, "", "pickup", 0, 0, (), ()) for t in townships]
    stops += [Stop(FACTORIES[g].factory_id, "", "dropoff", 0, 0, (), (riders[g].traveller_id,)) for g, _ in gates]
    due = {FACTORIES[g].factory_id for g, days in gates if days == 0}
    empty = [replace(s, alight=()) for s in stops]
    if table.schedule(stops) is not None:
        assert table.can_call_at(empty, due)


def test_kunshan_with_three_pickups_and_three_gates_is_beyond_the_time_on_board() -> None:
    table = Timetable(Problem(DAY, TOWNSHIPS, FACTORIES, (), (), yudu_rules()))
    stops = [Stop(TOWNSHIPS[t].township_id, "", "pickup", 0, 0, (), ()) for t in (0, 10, 20)]
    stops += [Stop(FACTORIES[g].factory_id, "", "dropoff", 0, 0, (), ()) for g in (50, 51, 53)]
    assert table.can_call_at(stops[:1] + stops[3:4])
    assert not table.can_call_at(stops)
