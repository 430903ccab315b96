"""physics: a WorldSpec running on pybullet, with rules as data, causes and exact snapshots.

Depends only on :mod:`worldgen.spec` (and the expression language). The narrow interface
other packages read is :class:`Simulation`: ``pose``, ``velocity``, ``entity_names``,
``live(name).spec``, ``log`` and ``state_hash``.
"""

from physics.events import Event, EventLog
from physics.simulation import Simulation, Snapshot

__all__ = ["Event", "EventLog", "Simulation", "Snapshot"]
