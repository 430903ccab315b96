"""renderer: simulation state → G-buffers → restyled frames; audio. Lands with its own issue."""
