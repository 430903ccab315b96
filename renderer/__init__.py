"""renderer: simulation state → frames and sound.

- :mod:`renderer.raster` — TinyRenderer: albedo, depth and segmentation in one call (the fast view).
- :mod:`renderer.gbuffer` — exact ray-cast G-buffers: albedo, depth, normals, segmentation, motion vectors.
- :mod:`renderer.teachers` — the teacher styles (realistic, toon, pixel, painterly, palette).
- :mod:`renderer.pipeline_backend` — optional: a local pretrained img2img pipeline folder (e.g. SD-Turbo
  + a depth ControlNet) through diffusers, for offline quality.
- :mod:`renderer.audio` — spatial audio synthesised from the world's events.
- :mod:`renderer.video` — MP4 (H.264 + AAC), GIF and PNG-sequence export of a run, with sound.

- :mod:`renderer.restyler` — the trained diffusion restyler (weights/restyler): G-buffers → styled frames at
  interactive rates, temporally stable; :mod:`renderer.dataset` / :mod:`renderer.train` make its data and
  train it (``worldgen train-restyler``).
- :class:`renderer.Renderer` (:mod:`renderer.stream`) — one world drawn frame after frame in a trained style,
  the previous frame warped into the next; ``submit()`` overlaps the restyle with the physics.
"""


def __getattr__(name: str):
    if name == "Renderer":  # imported on first use: it pulls in torch and diffusers
        from renderer.stream import Renderer

        return Renderer
    raise AttributeError(f"module 'renderer' has no attribute {name!r}")
