"""renderer.Renderer: frame after frame with history, and the restyle overlapped with the physics."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

import worldgen  # noqa: E402
from worldgen.world import World  # noqa: E402
from renderer import Renderer  # noqa: E402
from renderer import restyler as rs  # noqa: E402
from renderer.stream import HISTORY_TICKS  # noqa: E402

SIZE = (64, 48)


@pytest.fixture(scope="module")
def restyler():
    return rs.Restyler.from_pretrained()


def _playing(n: int):
    """(world, actions): bowling, thrown at the first tick."""
    world = worldgen.example("bowling")
    return world, [{"p1": {"throw": 1}} if i == 0 else None for i in range(n)]


def test_submitted_frames_equal_rendered_frames_and_the_chained_restyle(restyler):
    """The worker thread draws exactly what render() draws, which is restyle_world chained by hand."""
    (wa, acts), (wb, _), (wc, _) = _playing(6), _playing(6), _playing(6)
    ra = Renderer(wa, SIZE, "toon", restyler=restyler, seed=3)
    sync, asyn, chained = [], [], []
    prev = None
    with Renderer(wb, SIZE, "toon", restyler=restyler, seed=3) as rb:
        for a in acts:
            for w in (wa, wb, wc):
                w.step(a, ticks=2)
            sync.append(ra.render().image)
            asyn.append(rb.submit())
            prev = rs.restyle_world(wc, SIZE, "toon", prev=prev, seed=3, restyler=restyler)
            chained.append(prev.image)
        asyn = [f.result().image for f in asyn]
    for s, a, c in zip(sync, asyn, chained):
        assert np.array_equal(s, a) and np.array_equal(s, c)
    # and the history is really used: a frame drawn on its own differs
    alone = Renderer(wa, SIZE, "toon", restyler=restyler, seed=3, temporal=False).render().image
    assert not np.array_equal(alone, sync[-1])
    assert np.array_equal(alone, rs.restyle_world(wa, SIZE, "toon", seed=3, restyler=restyler).image)


def test_submit_returns_before_the_restyle_runs_and_the_world_can_step(restyler):
    """The restyle runs on the worker thread while the caller goes on (it would deadlock otherwise)."""
    go, threads = threading.Event(), []

    class Gate(rs.Restyler):
        def restyle_frame(self, *a, **k):
            threads.append(threading.current_thread().name)
            assert go.wait(timeout=30), "submit() waited for the restyle"
            return super().restyle_frame(*a, **k)

    world, _ = _playing(1)
    with Renderer(world, SIZE, "realistic", restyler=Gate(restyler.net)) as r:
        pending = r.submit()
        world.step(None, ticks=2)  # the physics moves on while the frame is being restyled
        assert not pending.done()
        go.set()
        frame = pending.result(timeout=60)
    assert threads == ["worldgen-restyle_0"]
    assert frame.image.shape == (48, 64, 3) and frame.poses is not None


def test_history_is_dropped_after_a_reset_a_rewind_or_a_long_pause(restyler):
    world, _ = _playing(1)
    r = Renderer(world, SIZE, "toon", restyler=restyler)
    fresh = r.render().image
    world.step({"p1": {"throw": 1}}, ticks=3)
    r.render()
    world.reset()  # tick 0 again: the last frame is from another time
    assert np.array_equal(r.render().image, fresh)
    snap = world.snapshot()
    world.step(None, ticks=2)
    r.render()
    world.restore(snap)  # rewound
    alone = rs.restyle_world(world, SIZE, "toon", restyler=restyler).image
    assert np.array_equal(r.render().image, alone)
    world.step(None, ticks=HISTORY_TICKS + 1)  # paused too long
    alone = rs.restyle_world(world, SIZE, "toon", restyler=restyler).image
    assert np.array_equal(r.render().image, alone)
    # a reset followed by as many ticks as make the tick look like time passing is still a jump
    world.reset()
    world.step({"p1": {"throw": 1}}, ticks=3)
    r.render()
    world.reset()
    world.step({"p1": {"throw": 1}}, ticks=4)
    alone = rs.restyle_world(world, SIZE, "toon", restyler=restyler).image
    assert np.array_equal(r.render().image, alone)


def test_a_failed_restyle_raises_from_its_future_and_leaves_no_history(restyler):
    class Flaky(rs.Restyler):
        fail = False

        def restyle_frame(self, *a, **k):
            if self.fail:
                raise RuntimeError("out of memory")
            return super().restyle_frame(*a, **k)

    world, _ = _playing(1)
    flaky = Flaky(restyler.net)
    with Renderer(world, SIZE, "toon", restyler=flaky) as r:
        r.render()
        world.step({"p1": {"throw": 1}}, ticks=2)
        flaky.fail = True
        with pytest.raises(RuntimeError, match="out of memory"):
            r.submit().result()
        flaky.fail = False
        world.step(None, ticks=2)
        after = r.submit().result()
    assert np.array_equal(after.image, rs.restyle_world(world, SIZE, "toon", restyler=restyler).image)


def test_bad_arguments(restyler):
    world, _ = _playing(1)
    with pytest.raises(ValueError, match="realistic, toon, pixel, painterly"):
        Renderer(world, SIZE, "albedo", restyler=restyler)
    with pytest.raises(ValueError, match="size"):
        Renderer(world, (0, 10**6), "toon", restyler=restyler)
    with pytest.raises(ValueError, match="steps"):
        Renderer(world, SIZE, "toon", steps=0, restyler=restyler)


def test_world_render_keeps_one_renderer_per_view(restyler):
    world, _ = _playing(1)
    world.render(SIZE, style="toon")
    first = world._renderer[1]
    world.step({"p1": {"throw": 1}}, ticks=2)
    world.render(SIZE, style="toon")
    assert world._renderer[1] is first  # same view: the history lives on
    world.render(SIZE, style="pixel")
    assert world._renderer[1] is not first
    world.reset(seed=5)  # a new seed draws new noise, as a fresh world of that seed does
    fresh = World(world.spec, 5)
    assert np.array_equal(world.render(SIZE, style="pixel"), fresh.render(SIZE, style="pixel"))


def test_the_worker_runs_torch_on_its_own_thread_count(restyler):
    """The worker restyles with ``worker_threads`` torch threads; the caller's and new threads keep the
    process's count."""
    import torch
    from concurrent.futures import ThreadPoolExecutor

    before = torch.get_num_threads()
    world, _ = _playing(1)
    with Renderer(world, SIZE, "toon", restyler=restyler) as r:
        r.submit().result()
        assert r._pool.submit(torch.get_num_threads).result() == 1
        assert torch.get_num_threads() == before
        assert ThreadPoolExecutor(1).submit(torch.get_num_threads).result() == before
