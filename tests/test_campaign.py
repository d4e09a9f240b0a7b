"""The campaign planner: every traveller once on a date of their window, groups together, coaches never on two
trips at once nor more on the road than contracted (checked by the independent benchmarks.campaign_check), the
best date choice on campaigns small enough to enumerate, re-planning around published days, and overdue."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

import pytest
from conftest import DAY, FACTORIES, TOWNSHIPS, yudu_rules
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from benchmarks.campaign_check import check_campaign
from scheduler.campaign import Campaign, CampaignParams, plan_campaign
from scheduler.fallback import recounted
from scheduler.model import BusType, Scenario, Traveller
from scheduler.plan import Fallback
from scheduler.policy import PolicyRules
from scheduler.solve import SolveParams, solve

QUICK = CampaignParams(time_limit_s=2.0, workers=1)
DONGGUAN, SHENZHEN, KUNSHAN = 0, 14, 50  # indices into FACTORIES


def person(n: int, township: int, factory: int, first: int, last: int, group: str = "") -> Traveller:
    """Traveller ``n`` from TOWNSHIPS[township] to FACTORIES[factory], free to leave DAY + first .. DAY + last."""
    return Traveller(
        f"T{n:04d}",
        f"旅客{n}",
        "360731199001011234",
        "13800000000",
        TOWNSHIPS[township].township_id,
        FACTORIES[factory].factory_id,
        DAY + dt.timedelta(days=first),
        DAY + dt.timedelta(days=last),
        group,
    )


def scenario(travellers: list[Traveller], fleet: tuple[BusType, ...], rules: PolicyRules | None = None) -> Scenario:
    return Scenario(TOWNSHIPS[:6], FACTORIES, tuple(travellers), fleet, rules or yudu_rules())


def assert_valid(s: Scenario, campaign: Campaign) -> None:
    found = check_campaign(s, campaign)
    assert not any(found.values()), found
    assert campaign.stats["violations"] == 0 and campaign.stats["coaches_short"] == 0


@st.composite
def small_campaigns(draw: st.DrawFn) -> Scenario:
    """A few townships and factories, parties with windows of zero to three days over five dates, a fleet of one
    to three coaches per type (so coaches must come back before they leave again), some types under contract for
    part of the campaign, gate caps."""
    travellers: list[Traveller] = []
    for p in range(draw(st.integers(1, 7))):
        size = draw(st.integers(1, 9))
        township, factory = draw(st.integers(0, 3)), draw(st.sampled_from([DONGGUAN, 1, SHENZHEN, KUNSHAN]))
        first = draw(st.integers(-1, 4))
        last = first + draw(st.integers(0, 3))
        group = f"G{p}" if size > 1 else ""
        start = len(travellers)
        travellers += [person(start + k, township, factory, first, last, group) for k in range(size)]
    fleet = tuple(
        BusType(
            f"c{seats}",
            seats,
            draw(st.integers(0, 3)),
            100.0 * seats,
            0.2 * seats,
            available_from=DAY + dt.timedelta(days=draw(st.sampled_from([0, 0, 2]))),
        )
        for seats in sorted(set(draw(st.lists(st.sampled_from([8, 12, 20]), min_size=1, max_size=2))))
    )
    rules = yudu_rules(charter_min_group=draw(st.integers(1, 8)), max_pickup_stops=draw(st.integers(1, 3)))
    factories = tuple(
        replace(f, max_arrivals_per_day=draw(st.sampled_from([None, None, 10]))) if i == DONGGUAN else f
        for i, f in enumerate(FACTORIES)
    )
    return replace(scenario(travellers, fleet, rules), factories=factories)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking re-plans whole campaigns: too slow
)
@given(small_campaigns())
def test_random_small_campaigns_keep_every_rule(s: Scenario) -> None:
    """Whatever the windows, groups, fleet, contract dates and gate caps: each traveller once, inside their
    window, groups on one date, no coach on two trips at once, the fleet never exceeded, each day valid."""
    campaign = plan_campaign(s, DAY, DAY + dt.timedelta(days=4), QUICK)
    assert_valid(s, campaign)
    for o in campaign.overdue:
        assert o.reason and o.reason_zh


def test_coaches_away_for_days_are_not_counted_as_free_and_come_back_to_work() -> None:
    """One coach, Kunshan two days away by road: 20 people a day for three days get one coach trip every other
    day, never two trips on the road at once, and the coach is named on each."""
    travellers = [person(n, 0, KUNSHAN, d, d + 1) for d in range(3) for n in range(20 * d, 20 * d + 20)]
    s = scenario(travellers, (BusType("c53", 53, 1, 600.0, 1.0),))  # cheaper than 20 tickets to Kunshan
    campaign = plan_campaign(s, DAY, DAY + dt.timedelta(days=4), QUICK)
    assert_valid(s, campaign)
    coaches = campaign.to_dict()["coaches"]
    assert [c["coach_id"] for c in coaches] == ["c53-001"]
    trips = coaches[0]["trips"]
    assert len(trips) >= 2
    assert all(a["back"] <= b["leaves"] for a, b in itertools.pairwise(trips))


def test_choosing_dates_fills_a_coach_that_the_first_date_could_not() -> None:
    """Three parties of 8 bound for one factory, free on overlapping dates: day by day each leaves on its first
    date by ticket (below the threshold of 20); the campaign puts them on their common date, on one coach."""
    travellers = (
        [person(n, 0, DONGGUAN, 0, 3, "A") for n in range(8)]
        + [person(n, 0, DONGGUAN, 1, 3, "B") for n in range(8, 16)]
        + [person(n, 0, DONGGUAN, 2, 4, "C") for n in range(16, 24)]
    )
    s = scenario(travellers, (BusType("c35", 35, 2, 600.0, 4.2),))  # a coach costs less than 24 reimbursements
    chosen = plan_campaign(s, DAY, DAY + dt.timedelta(days=4), QUICK)
    day_by_day = replace(QUICK, choose_dates=False, late_seating=False)
    first_dates = plan_campaign(s, DAY, DAY + dt.timedelta(days=4), day_by_day)
    assert_valid(s, chosen)
    totals, baseline = chosen.to_dict()["totals"], first_dates.to_dict()["totals"]
    assert totals["on_buses"] == 24 and totals["buses"] == 1
    assert baseline["on_buses"] == 0
    assert totals["total_cost"] < baseline["total_cost"]
    assert totals["wait_person_days"] == 8 * 2 + 8 * 1  # A waits two days, B one, C none


def test_a_party_sent_by_ticket_rides_a_bus_with_room_on_another_date_of_its_window() -> None:
    """Day by day, a couple free on DAY or DAY + 1 goes by ticket on DAY; looking back once every date is planned,
    it rides the bus of its township and factory that leaves on DAY + 1 with seats to spare, for less."""
    crowd = [person(n, 0, DONGGUAN, 1, 1) for n in range(30)]
    couple = [person(100 + k, 0, DONGGUAN, 0, 1, "G1") for k in range(2)]
    s = scenario(crowd + couple, (BusType("c53", 53, 2, 1800.0, 5.5),))
    end = DAY + dt.timedelta(days=2)
    day_by_day = CampaignParams(time_limit_s=2.0, workers=1, choose_dates=False, late_seating=False)
    before = plan_campaign(s, DAY, end, day_by_day)
    after = plan_campaign(s, DAY, end, replace(day_by_day, late_seating=True))
    ids = {t.traveller_id for t in couple}
    assert ids <= {f.traveller_id for f in before.days[0].plan.fallback}
    bus = after.days[1].plan.buses[0]
    assert ids <= set(bus.traveller_ids) and bus.load == 32
    assert not ids & {f.traveller_id for d in after.days for f in d.plan.fallback}
    assert_valid(s, after)
    cost = [c.to_dict()["totals"]["total_cost"] for c in (before, after)]
    assert cost[1] < cost[0]
    assert after.wait_person_days == 2  # the couple waited a day


def test_parties_left_to_tickets_on_different_dates_are_pooled_onto_a_new_coach_on_a_common_date() -> None:
    """Day by day, three parties of eight from two townships to one factory each leave on their first date, too
    few for a coach, by ticket. Once every date is planned they are pooled onto one coach on the one date all
    three may take, for less than their tickets; nobody rides twice and every rule holds."""
    travellers = (
        [person(n, 0, DONGGUAN, 0, 2, "A") for n in range(8)]
        + [person(n, 1, DONGGUAN, 1, 2, "B") for n in range(8, 16)]
        + [person(n, 0, DONGGUAN, 2, 3, "C") for n in range(16, 24)]
    )
    s = scenario(travellers, (BusType("c35", 35, 2, 600.0, 4.2),))
    end = DAY + dt.timedelta(days=4)
    day_by_day = CampaignParams(time_limit_s=2.0, workers=1, choose_dates=False, late_seating=False)
    before = plan_campaign(s, DAY, end, day_by_day)
    after = plan_campaign(s, DAY, end, replace(day_by_day, late_seating=True))
    assert before.to_dict()["totals"]["on_buses"] == 0
    assert_valid(s, after)
    buses = [(d.plan.date, b) for d in after.days for b in d.plan.buses]
    assert len(buses) == 1 and after.stats["coaches_from_fallback"] == 1
    day, bus = buses[0]
    assert day == DAY + dt.timedelta(days=2)
    assert sorted(bus.traveller_ids) == sorted(t.traveller_id for t in travellers)
    assert {s.place_id for s in bus.stops if s.kind == "pickup"} == {TOWNSHIPS[0].township_id, TOWNSHIPS[1].township_id}
    assert bus.coach_id == "c35-001"
    assert not any(d.plan.fallback for d in after.days)
    cost = [c.to_dict()["totals"]["total_cost"] for c in (before, after)]
    assert cost[1] < cost[0]
    assert after.wait_person_days == 8 * 2 + 8 * 1  # A waits two days, B one, C none


def test_a_full_bus_of_a_small_coach_becomes_a_larger_one_to_seat_the_tickets_around_it() -> None:
    """Day by day, 35 riders fill the 35-seat coach of their township and factory on DAY + 1, and four parties of
    three free on DAY and DAY + 1, too few for a coach, go by ticket on DAY. Once every date is planned, the bus
    is driven by the 53-seat coach instead and seats the parties too: their tickets cost more than the larger
    coach adds."""
    crowd = [person(n, 0, DONGGUAN, 1, 1) for n in range(35)]
    parties = [person(100 + 3 * p + k, 0, DONGGUAN, 0, 1, f"G{p}") for p in range(4) for k in range(3)]
    fleet = (BusType("c35", 35, 1, 1200.0, 4.2), BusType("c53", 53, 1, 1800.0, 5.5))
    s = scenario(crowd + parties, fleet)
    end = DAY + dt.timedelta(days=2)
    day_by_day = CampaignParams(time_limit_s=2.0, workers=1, choose_dates=False, late_seating=False)
    before = plan_campaign(s, DAY, end, day_by_day)
    after = plan_campaign(s, DAY, end, replace(day_by_day, late_seating=True))
    ids = {t.traveller_id for t in parties}
    assert ids <= {f.traveller_id for f in before.days[0].plan.fallback}
    assert [b.vehicle_type for b in before.days[1].plan.buses] == ["c35"]
    assert_valid(s, after)
    (bus,) = after.days[1].plan.buses
    assert bus.vehicle_type == "c53" and bus.coach_id == "c53-001" and bus.load == 47
    assert not any(d.plan.fallback for d in after.days)
    assert after.stats["larger_coaches_for_fallback"] == 1
    cost = [c.to_dict()["totals"]["total_cost"] for c in (before, after)]
    assert cost[1] < cost[0]


def test_a_larger_coach_is_taken_only_where_one_is_free_for_the_whole_trip() -> None:
    """As above, but the county's one 53-seat coach drives a full load from another township that day: the
    35-seat bus stays as it is and the parties keep their tickets."""
    crowd = [person(n, 0, DONGGUAN, 1, 1) for n in range(35)]
    full = [person(200 + n, 1, DONGGUAN, 1, 1) for n in range(53)]
    parties = [person(100 + 3 * p + k, 0, DONGGUAN, 0, 1, f"G{p}") for p in range(4) for k in range(3)]
    fleet = (BusType("c35", 35, 1, 1200.0, 4.2), BusType("c53", 53, 1, 1800.0, 5.5))
    s = scenario(crowd + full + parties, fleet)
    params = CampaignParams(time_limit_s=2.0, workers=1, choose_dates=False)
    campaign = plan_campaign(s, DAY, DAY + dt.timedelta(days=2), params)
    assert_valid(s, campaign)
    assert sorted(b.vehicle_type for b in campaign.days[1].plan.buses) == ["c35", "c53"]
    assert campaign.stats["larger_coaches_for_fallback"] == 0
    assert {t.traveller_id for t in parties} <= {f.traveller_id for d in campaign.days for f in d.plan.fallback}


@pytest.mark.parametrize("seed", range(3))
def test_the_campaign_finds_the_best_dates_of_campaigns_small_enough_to_enumerate(seed: int) -> None:
    """Three or four parties of one flow over three dates: every assignment of parties to dates in their windows,
    each day planned alone (exact on one flow), gives the best cost plus waiting; the campaign matches it."""
    import random

    rng = random.Random(seed)
    travellers: list[Traveller] = []
    parties = []
    for p in range(rng.randint(3, 4)):
        size, first = rng.randint(4, 12), rng.randint(0, 2)
        last = rng.randint(first, 2)
        start = len(travellers)
        ids = [person(start + k, 0, DONGGUAN, first, last, f"G{p}") for k in range(size)]
        travellers += ids
        parties.append((ids, first, last))
    s = scenario(travellers, (BusType("c35", 35, 3, 1200.0, 4.2), BusType("c20", 20, 3, 800.0, 3.0)))
    wait = s.rules.wait_cost_per_day
    day_cost: dict[tuple[int, frozenset[int]], float] = {}

    def cost_of(day: int, members: frozenset[int]) -> float:
        if not members:
            return 0.0
        if (day, members) not in day_cost:
            riders = tuple(t for i in sorted(members) for t in parties[i][0])
            problem = replace(s.problem_for(DAY), date=DAY + dt.timedelta(days=day), travellers=riders)
            day_cost[(day, members)] = solve(problem, SolveParams(time_limit_s=0.5, workers=1)).totals.total_cost
        return day_cost[(day, members)]

    best = float("inf")
    for dates in itertools.product(*(range(first, last + 1) for _, first, last in parties)):
        total = sum(cost_of(d, frozenset(i for i, x in enumerate(dates) if x == d)) for d in set(dates))
        total += sum(wait * len(ids) * (d - first) for (ids, first, _), d in zip(parties, dates, strict=True))
        best = min(best, total)
    campaign = plan_campaign(s, DAY, DAY + dt.timedelta(days=2), QUICK)
    assert_valid(s, campaign)
    totals = campaign.to_dict()["totals"]
    assert totals["total_cost"] + wait * totals["wait_person_days"] == pytest.approx(best, abs=0.01)


def test_replanning_keeps_every_published_seat_and_fills_a_cancelled_one() -> None:
    """A published bus loses three riders to cancellations; three late registrations from the same township to
    the same factory, free that date, take their seats. Nobody else on a published day moves."""
    travellers = [person(n, 0, DONGGUAN, 0, 2) for n in range(30)]
    s = scenario(travellers, (BusType("c35", 35, 2, 1200.0, 4.2),))
    end = DAY + dt.timedelta(days=4)
    first = plan_campaign(s, DAY, end, QUICK)
    published = [d.plan for d in first.days if d.plan.date <= DAY + dt.timedelta(days=2)]
    bus = next(b for p in published for b in p.buses)
    cancelled = set(bus.traveller_ids[:3])
    late = [replace(person(100 + k, 0, DONGGUAN, 0, 3), traveller_id=f"L{k}") for k in range(3)]
    again = replace(s, travellers=tuple(t for t in s.travellers if t.traveller_id not in cancelled) + tuple(late))
    campaign = plan_campaign(again, DAY, end, QUICK, kept=published, open_from=DAY + dt.timedelta(days=3))
    assert_valid(again, campaign)
    kept = {b.bus_id: b for d in campaign.days for b in d.plan.buses}
    for plan in published:
        for b in plan.buses:
            assert set(b.traveller_ids) - cancelled <= set(kept[b.bus_id].traveller_ids)
            assert kept[b.bus_id].coach_id == b.coach_id
    assert {"L0", "L1", "L2"} <= set(kept[bus.bus_id].traveller_ids)
    assert campaign.stats["free_seats_taken"] == 3
    for stop, before in zip(kept[bus.bus_id].stops, bus.stops, strict=True):
        assert stop.arrival_s >= before.arrival_s  # nobody told a time misses the bus


def test_a_report_date_that_passes_makes_a_traveller_overdue_with_the_reason() -> None:
    """Unreachable from the start (a Kunshan gate that closes at 09:00 is a day away, and the report date is the
    first date), and, on re-planning after the last date someone could leave on has passed with nobody seating
    them, overdue."""
    travellers = [person(0, 0, KUNSHAN, 0, 0), person(1, 0, DONGGUAN, 0, 1)]
    s = scenario(travellers, (BusType("c35", 35, 2, 1200.0, 4.2),))
    early = tuple(replace(f, receive_until_s=9 * 3600) if i == KUNSHAN else f for i, f in enumerate(FACTORIES))
    s = replace(s, factories=early)
    end = DAY + dt.timedelta(days=3)
    campaign = plan_campaign(s, DAY, end, QUICK)
    assert [(o.traveller_id, o.cause) for o in campaign.overdue] == [("T0000", "unreachable")]
    assert "昆山" in campaign.overdue[0].reason_zh or FACTORIES[KUNSHAN].city in campaign.overdue[0].reason_zh
    replanned = plan_campaign(s, DAY, end, QUICK, open_from=DAY + dt.timedelta(days=2))
    assert {(o.traveller_id, o.cause) for o in replanned.overdue} == {
        ("T0000", "unreachable"),
        ("T0001", "report_passed"),
    }
    assert_valid(s, replanned)
    assert "已过" in next(o.reason_zh for o in replanned.overdue if o.cause == "report_passed")


def test_a_coach_type_is_used_only_on_its_contract_dates() -> None:
    """The only coach is under contract from the third date: a flow free on every date leaves on a date it may."""
    travellers = [person(n, 0, DONGGUAN, 0, 3) for n in range(30)]
    coach = BusType("c35", 35, 1, 1200.0, 4.2, available_from=DAY + dt.timedelta(days=2))
    s = scenario(travellers, (coach,))
    campaign = plan_campaign(s, DAY, DAY + dt.timedelta(days=3), QUICK)
    assert_valid(s, campaign)
    dates = {d.plan.date for d in campaign.days if d.plan.buses}
    assert dates and min(dates) >= DAY + dt.timedelta(days=2)


def test_a_gate_cap_spreads_arrivals_over_dates() -> None:
    """40 people for a gate that receives 25 a day: no date's arrivals there exceed 25."""
    travellers = [person(n, 0, DONGGUAN, 0, 3) for n in range(40)]
    s = scenario(travellers, (BusType("c35", 35, 3, 1200.0, 4.2),))
    capped = tuple(replace(f, max_arrivals_per_day=25) if i == DONGGUAN else f for i, f in enumerate(FACTORIES))
    s = replace(s, factories=capped)
    campaign = plan_campaign(s, DAY, DAY + dt.timedelta(days=3), QUICK)
    assert_valid(s, campaign)
    for day in campaign.days:
        assert day.plan.totals.travellers <= 25
    assert sum(d.plan.totals.travellers for d in campaign.days) == 40


def test_an_end_before_the_start_is_refused() -> None:
    s = scenario([person(0, 0, DONGGUAN, 0, 1)], (BusType("c35", 35, 1, 1200.0, 4.2),))
    with pytest.raises(ValueError, match="end on or after"):
        plan_campaign(s, DAY, DAY - dt.timedelta(days=1), QUICK)


def test_fallback_reasons_count_the_flow_as_it_now_leaves_on_the_date() -> None:
    """A date keeps a fallback line whose flow others left (or joined) after the day was planned: its reason
    counts who now leaves, and says a small flow or no seat as that count against the threshold gives."""
    rules = yudu_rules(charter_min_group=3)
    people = [person(n, 0, 0, 0, 2) for n in range(4)]
    line = Fallback(people[0].traveller_id, "free_ticket", "no_seat", {"flow_size": 4, "size": 1}, 50.0)
    (same,) = recounted([line], people, rules)
    assert same == line
    (fewer,) = recounted([line], people[:2], rules)
    assert (fewer.cause, fewer.params["flow_size"], fewer.params["size"]) == ("small_flow", 2, 1)
    (back,) = recounted([fewer], people, rules)
    assert (back.cause, back.params["flow_size"]) == ("no_seat", 4)
