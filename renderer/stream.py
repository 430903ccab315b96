"""Drawing one world frame after frame in a trained style, optionally overlapped with the physics.

:class:`Renderer` keeps what consecutive frames share: the previous frame (warped into the next by the
exact motion vectors, :mod:`renderer.restyler`), the poses the motion is measured from, the sampler's
noise moving with the surfaces. Each frame is two stages:

1. the **cast**, on the calling thread: the G-buffer of the world as it is now
   (:func:`renderer.gbuffer.gbuffer`, numpy; it reads the simulation, so it stays on the thread that
   steps it) and the network's conditioning channels from it (numpy);
2. the **restyle**: the history warp, the network, the blend (torch).

:meth:`Renderer.render` runs both and returns the frame. :meth:`Renderer.submit` runs the cast and
hands the restyle to a worker thread, returning a :class:`concurrent.futures.Future`: while the network
draws frame t on one core (the worker's own torch thread count, ``worker_threads``), the caller steps
the physics and casts frame t+1 on the other — one frame after the other, the cast leaves a core idle. Restyles run one at a time in submission
order, so ``submit().result()`` gives exactly the frames ``render()`` would (tested); the cost is one frame
of latency for the throughput (docs/performance.md)::

    from renderer import Renderer

    with Renderer(world, (256, 256), "toon") as r:
        img = r.render().image                  # the world now, uint8 (H, W, 3)
        pending = r.submit()
        for _ in range(300):
            world.step({"p1": {"throw": 1}})    # overlaps the restyle of the frame before ...
            following = r.submit()              # ... and so does this frame's G-buffer cast
            img = pending.result().image        # that frame: one tick behind the world
            pending = following
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace

import torch

from renderer.restyler import STYLES, Restyled, Restyler, _check_steps, cast_world, load, simulation_of

#: A frame warps in the previous one only when it is at most this many physics ticks later (and the
#: world was neither reset nor rewound in between); otherwise it is drawn on its own.
HISTORY_TICKS = 4


class Renderer:
    """Draws ``world`` (a :class:`worldgen.World` or a :class:`physics.Simulation`) at ``size`` (w, h) in
    ``style`` (one of :data:`renderer.restyler.STYLES`) with the trained restyler, frame after frame.

    ``camera``: a spec camera name or :class:`worldgen.spec.Camera` (None: the world's first);
    ``steps``: diffusion steps (1: the distilled one-step mode); ``seed``: the sampler's noise;
    ``restyler``: a :class:`renderer.restyler.Restyler` (default: the shipped weights, loaded once);
    ``coarse``: the G-buffer's coarse ray spacing (None: 2 for frames of 128 px a side and more);
    ``temporal``: warp the previous frame in (less flicker) when the world moved on by 1..
    :data:`HISTORY_TICKS` ticks since it. Pixel art uses the world's ``spec.style.palette`` when it has
    one. ``worker_threads``: torch threads of :meth:`submit`'s worker (default 1: the caller's thread
    uses the other core meanwhile; None leaves torch's setting). Use as a context manager (or call
    :meth:`close`) when :meth:`submit` was used: it stops the worker thread.
    """

    def __init__(self, world, size=(256, 256), style: str = "realistic", *, camera=None, steps: int = 1,
                 seed: int = 0, restyler: Restyler | None = None, coarse: int | None = None,
                 temporal: bool = True, worker_threads: int | None = 1):
        from renderer.raster import check_size

        if style not in STYLES:
            raise ValueError(f"Renderer draws the restyler's styles ({', '.join(STYLES)}), got {style!r}; "
                             "world.render() draws 'albedo' and the teachers")
        _check_steps(steps)
        self.world, self.style, self.camera, self.steps, self.seed = world, style, camera, steps, seed
        self.size = check_size(size)
        self.coarse, self.temporal = coarse, temporal
        self.restyler = restyler or load()
        self._last = None  # ((simulation, jumps), tick, poses) at the last cast: motion is measured from those poses
        self._cast_count = 0
        self._prev: tuple[int, Restyled] | None = None  # (cast number, frame) of the last restyled frame
        self._pending: Future | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.worker_threads = worker_threads

    def render(self) -> Restyled:
        """The world as it is now (waits for frames submitted before). ``.image`` is the uint8 frame."""
        job = self._cast()
        if self._pending is not None:
            wait([self._pending])  # its frame (or its error) belongs to whoever holds that future
        return self._restyle(*job)

    def submit(self) -> Future:
        """Casts the G-buffer of the world as it is now and restyles it on the worker thread; the returned
        future's ``result()`` is the :class:`renderer.restyler.Restyled` frame (exceptions re-raised there).
        The world may be stepped as soon as this returns."""
        job = self._cast()
        if self._pool is None:
            self._pool = self._start_worker()
        self._pending = self._pool.submit(self._restyle, *job)
        return self._pending

    def close(self) -> None:
        """Waits for submitted frames and stops the worker thread (a later :meth:`submit` starts another)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start_worker(self) -> ThreadPoolExecutor:
        pool = ThreadPoolExecutor(1, thread_name_prefix="worldgen-restyle")
        if self.worker_threads is not None:
            # torch's OpenMP thread count is per thread once set: the worker keeps its own while every
            # other thread gets the process's setting back (2 network threads beside a busy caller
            # thread oversubscribe 2 cores and run no faster than 1: docs/performance.md)
            process = torch.get_num_threads()
            pool.submit(_set_torch_threads, self.worker_threads).result()
            torch.set_num_threads(process)
        return pool

    def _cast(self):
        """Stage 1, on the caller's thread: the G-buffer now, with motion from the last cast's poses when
        the history is usable."""
        sim = simulation_of(self.world)
        moment = (sim, getattr(sim, "jumps", 0))  # the same simulation, neither reset nor restored since
        keep = (self.temporal and self._last is not None and self._last[0] == moment
                and 0 < sim.tick - self._last[1] <= HISTORY_TICKS)
        gb, now, palette = cast_world(sim, self.size, self.camera, self._last[2] if keep else None, self.coarse)
        self._last = (moment, sim.tick, now)
        self._cast_count += 1
        return self._cast_count, gb, self.restyler.inputs(gb), now, keep, palette

    def _restyle(self, n: int, gb, inputs, now, keep: bool, palette) -> Restyled:
        """Stage 2: the restyle of cast number ``n``, warping in the previous frame when ``keep`` and that
        frame is cast ``n - 1``'s (a restyle that failed leaves no history)."""
        prev = self._prev[1] if keep and self._prev is not None and self._prev[0] == n - 1 else None
        out = self.restyler.restyle_frame(gb, self.style, prev=prev, steps=self.steps, seed=self.seed,
                                          palette=palette, inputs=inputs)
        out = replace(out, poses=now)
        self._prev = (n, out)
        return out


def _set_torch_threads(n: int) -> None:
    torch.get_num_threads()  # this thread's lazy initialisation first, so it does not undo what follows
    torch.set_num_threads(n)
