"""renderer: simulation state → frames and sound.

- :mod:`renderer.raster` — TinyRenderer G-buffers: albedo, depth, entity segmentation.
- :mod:`renderer.audio` — spatial audio synthesised from the world's events.
- :mod:`renderer.video` — MP4 (H.264 + AAC), GIF and PNG-sequence export of a run, with sound.

The trained diffusion restyler lands with its own issue.
"""
