"""Scale-out on a local Ray: rollouts equal in-process runs; datasets read back."""

from __future__ import annotations

import pytest

pytest.importorskip("ray")
pytest.importorskip("pyarrow")

import pyarrow.parquet as pq  # noqa: E402

from worldgen.distribution import WorldDistribution  # noqa: E402
from worldgen.scale import generate_dataset, read_dataset, rollouts, run_job, write_dataset  # noqa: E402

pytestmark = pytest.mark.slow

DESIGNS = ["bowling", "push_crate"]
SEEDS = [0, 1]
STEPS = 60


@pytest.fixture(scope="module")
def ray_local():
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield ray
    if started:
        ray.shutdown()


def test_ray_rollouts_equal_in_process_runs(ray_local, tmp_path):
    got = rollouts(DESIGNS, SEEDS, STEPS, num_workers=2)
    assert [(t.design, t.seed) for t in got] == [(d, s) for d in DESIGNS for s in SEEDS]
    for t in got:
        local = run_job(t.design, t.seed, STEPS)
        assert t.same_as(local), (t.design, t.seed)
        assert t.states.shape == (STEPS, len(t.state_names)) and t.actions.shape == (STEPS, len(t.action_names))
    assert not got[0].same_as(got[1])  # another seed, another rollout

    path = write_dataset(got, tmp_path / "rollouts.parquet")
    table = pq.read_table(path)
    assert table.num_rows == len(DESIGNS) * len(SEEDS) * STEPS
    assert set(table.column("design").to_pylist()) == set(DESIGNS)
    back = read_dataset(path)
    assert len(back) == len(got) and all(a.same_as(b) for a, b in zip(back, got))
    npz = write_dataset(got, tmp_path / "rollouts.npz")
    assert all(a.same_as(b) for a, b in zip(read_dataset(npz), got))


def test_generate_dataset_scripted_levels_of_a_distribution(ray_local, tmp_path):
    dist = WorldDistribution("bowling", num_levels=10)
    path = tmp_path / "levels.parquet"
    got = generate_dataset(dist, [3, 4], 40, path, num_workers=2, policy="script")
    assert pq.read_table(path).num_rows == 80
    assert got[0].same_as(run_job(dist, 3, 40, policy="script"))
    assert got[0].actions[0] == pytest.approx([1.0, 0.1])  # the scripted throw, with its aim
    with pytest.raises(RuntimeError, match="seed 99"):
        rollouts(dist, [99], 5, num_workers=2)


def test_levels_with_counts_share_one_state_layout():
    dist = WorldDistribution("bowling", counts={"pin": (4, 8)}, num_levels=10, verify=False)
    a, b = run_job(dist, 1, 3), run_job(dist, 2, 3)
    assert a.state_names == b.state_names and a.states.shape == b.states.shape
    exists = [a.state_names.index(f"pin_{k}.exists") for k in range(1, 11)]
    assert 4 <= a.states[0, exists].sum() <= 8 and 4 <= b.states[0, exists].sum() <= 8
