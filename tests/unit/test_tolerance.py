"""A worked example's tolerance is relative to the value it states (absolute only at 0)."""

from csframe.core.examples import within


def test_the_tolerance_is_relative_below_one_too():
    # stickiness ≈ 0.0662 to four decimals, declared with tolerance 1e-3: ±0.0000662, not ±0.001
    assert within(0.066197, 0.0662, 1e-3)
    assert not within(0.0663, 0.0662, 1e-3)
    assert within(2_000 * (1 + 5e-10), 2_000, 1e-9) and not within(2_000.01, 2_000, 1e-9)


def test_at_zero_the_tolerance_is_absolute():
    assert within(1e-12, 0, 1e-9) and not within(1e-6, 0, 1e-9)
