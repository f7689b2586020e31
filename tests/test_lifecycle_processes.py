"""The arithmetic of ``bench lifecycle --processes``: rates, the ratio and the activity shares."""

from __future__ import annotations

from engine.bench.lifecycle_processes import Activity, ScaleOut, Window, window_for


def test_the_ratio_compares_summed_windows_of_n_drivers_with_one():
    one = [Window(1, (10,), 2.0), Window(1, (12,), 2.0)]  # 5.5/s
    many = [Window(2, (9, 8), 2.0), Window(2, (10, 9), 2.0)]  # 9/s
    figures = ScaleOut(2, 4.0, one, many, {}).to_json()
    assert figures["one_process_per_s"] == 5.5 and figures["n_processes_per_s"] == 9.0
    assert figures["scale_out_ratio"] == round(9 / 5.5, 2)
    assert figures["per_process_lifecycles"] == {"min": 17, "max": 19}
    assert "pg_activity" not in figures


def test_activity_shares_are_backends_per_driver_and_count_waits_of_active_ones_only():
    activity = Activity()
    activity.add([("idle in transaction", "Client", "ClientRead"), ("active", "Lock", "advisory")])
    activity.add([("active", None, None), ("idle", "Client", "ClientRead")])
    shares = activity.shares(2)
    assert shares["samples"] == 2
    assert shares["idle_in_transaction_share"] == 0.25 and shares["active_share"] == 0.5
    assert shares["wait_shares"] == {"Lock:advisory": 0.25}  # an idle backend's ClientRead is no wait


def test_the_window_is_what_count_lifecycles_of_one_process_take_but_never_too_short():
    assert window_for(30, 10.0) == 3.0
    assert window_for(2, 10.0) == 2.0
