"""reasoner: prompt (+ images) → WorldSpec + ReasoningTrace. Lands with its own issue."""
