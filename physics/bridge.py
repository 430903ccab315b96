"""The pybullet bridge: one ``DIRECT`` client per world, bodies and joints from the spec.

Nothing outside ``physics/`` talks to pybullet. Settings here are the ones that make
pybullet deterministic and restorable: ``deterministicOverlappingPairs=1``, sleeping
disabled on every body, a fixed solver step of ``timestep / substeps``.
"""

from __future__ import annotations

import math
import os
import tempfile

import pybullet as p

from worldgen.spec import Entity, Joint, PhysicsSettings


def connect() -> int:
    """A new pybullet physics server in this process (no GUI, no shared global client)."""
    return p.connect(p.DIRECT)


def disconnect(client: int) -> None:
    try:
        p.disconnect(physicsClientId=client)
    except p.error:  # already gone (interpreter shutdown)
        pass


def configure(client: int, physics: PhysicsSettings, gravity: tuple[float, float, float]) -> None:
    """Applies engine-wide settings; called after every (re)build."""
    p.setPhysicsEngineParameter(
        fixedTimeStep=physics.timestep / physics.substeps,
        numSubSteps=0,
        numSolverIterations=physics.solver_iterations,
        deterministicOverlappingPairs=1,
        physicsClientId=client,
    )
    p.setGravity(*gravity, physicsClientId=client)


def quaternion(rotation_deg: tuple[float, float, float]) -> tuple[float, float, float, float]:
    return tuple(p.getQuaternionFromEuler([math.radians(a) for a in rotation_deg]))  # type: ignore[return-value]


def create_body(client: int, e: Entity, position=None, orientation=None, batch: int = 1) -> list[int]:
    """Creates the rigid body of a non-sensor entity (``batch`` copies of it) and returns the ids.

    Copies are made in one call (pybullet's batch creation is faster than one call each)
    and all start at ``e``'s pose, so batching suits bodies whose state is restored next.
    """
    s = e.shape
    if s.type == "box":
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=[v / 2 for v in s.size], physicsClientId=client)
    elif s.type == "sphere":
        col = p.createCollisionShape(p.GEOM_SPHERE, radius=s.radius, physicsClientId=client)
    elif s.type == "cylinder":
        col = p.createCollisionShape(p.GEOM_CYLINDER, radius=s.radius, height=s.height, physicsClientId=client)
    elif s.type == "capsule":
        col = p.createCollisionShape(p.GEOM_CAPSULE, radius=s.radius, height=s.height, physicsClientId=client)
    else:
        col = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=client)
    mass = 0.0 if e.static else e.mass
    pos = list(e.position if position is None else position)
    made = p.createMultiBody(
        baseMass=mass,
        baseCollisionShapeIndex=col,
        basePosition=pos,
        baseOrientation=list(quaternion(e.rotation) if orientation is None else orientation),
        physicsClientId=client,
        **({"batchPositions": [pos] * batch} if batch > 1 else {}),
    )
    bodies = list(made) if batch > 1 else [made]
    for body in bodies:
        _set_dynamics(client, body, e)
    return bodies


def _set_dynamics(client: int, body: int, e: Entity) -> None:
    m = e.material
    p.changeDynamics(
        body, -1,
        lateralFriction=m.friction,
        restitution=m.restitution,
        rollingFriction=m.rolling_friction,
        spinningFriction=m.spinning_friction,
        linearDamping=m.linear_damping,
        angularDamping=m.angular_damping,
        activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING,
        physicsClientId=client,
    )
    if not e.static and (any(e.velocity) or any(e.angular_velocity)):
        p.resetBaseVelocity(body, list(e.velocity), [math.radians(w) for w in e.angular_velocity],
                            physicsClientId=client)
    return body


def joint_parts(j: Joint) -> int:
    """How many pybullet constraints make up joint ``j`` (a hinge is two ball joints on its axis)."""
    return 2 if j.type == "hinge" else 1


def create_joint_part(client: int, j: Joint, part: int, parent_body: int, child_body: int) -> int:
    """Creates constraint number ``part`` of joint ``j``; ``parent_body`` -1 is the fixed world.

    A hinge is two point constraints 0.1 m apart along its axis, which leaves one rotation free.
    pybullet wants a body as the constraint's parent, so a joint to the world is made with
    the roles swapped: the entity is the parent and the world (in world coordinates) the child.
    """
    norm = math.sqrt(sum(a * a for a in j.axis))
    axis = [a / norm for a in j.axis]
    parent_anchor, child_anchor = list(j.parent_anchor), list(j.child_anchor)
    if parent_body == -1:
        parent_body, child_body = child_body, -1
        parent_anchor, child_anchor = child_anchor, parent_anchor
    common = dict(parentBodyUniqueId=parent_body, parentLinkIndex=-1, childBodyUniqueId=child_body,
                  childLinkIndex=-1, physicsClientId=client)
    if j.type == "hinge":
        off = [(-1.0 if part == 0 else 1.0) * 0.05 * a for a in axis]
        cid = p.createConstraint(
            jointType=p.JOINT_POINT2POINT, jointAxis=[0, 0, 0],
            parentFramePosition=[a + o for a, o in zip(parent_anchor, off)],
            childFramePosition=[a + o for a, o in zip(child_anchor, off)], **common)
    else:
        kind = {"point": p.JOINT_POINT2POINT, "fixed": p.JOINT_FIXED, "slider": p.JOINT_PRISMATIC}[j.type]
        cid = p.createConstraint(jointType=kind, jointAxis=axis, parentFramePosition=parent_anchor,
                                 childFramePosition=child_anchor, **common)
    p.changeConstraint(cid, maxForce=j.max_force, physicsClientId=client)
    return cid


def park(client: int, body: int, slot: int) -> None:
    """Puts an unused body out of the way: far above the world (planes fill everything below
    them), one kilometre apart, asleep."""
    p.resetBasePositionAndOrientation(body, [1000.0 * slot, 0.0, 1.0e4], [0, 0, 0, 1], physicsClientId=client)
    p.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0], physicsClientId=client)
    p.changeDynamics(body, -1, activationState=p.ACTIVATION_STATE_ENABLE_SLEEPING | p.ACTIVATION_STATE_SLEEP,
                     physicsClientId=client)


def save_blob(client: int) -> bytes:
    """The engine's full state (poses, velocities, contact warm-starting) as bytes."""
    fd, path = tempfile.mkstemp(suffix=".bullet", dir=_TMP)
    os.close(fd)
    try:
        p.saveBullet(path, physicsClientId=client)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def restore_blob(client: int, blob: bytes) -> None:
    """Restores :func:`save_blob` output into a client holding the same bodies in the same order."""
    fd, path = tempfile.mkstemp(suffix=".bullet", dir=_TMP)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        p.restoreState(fileName=path, physicsClientId=client)
    finally:
        os.unlink(path)


_TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def tilt_deg(q: tuple[float, float, float, float]) -> float:
    """Angle (degrees) between a body's local +z and the world's +z."""
    x, y = q[0], q[1]
    c = 1.0 - 2.0 * (x * x + y * y)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def rotate(q: tuple[float, float, float, float], v: tuple[float, float, float]) -> tuple[float, float, float]:
    """Rotates vector ``v`` by unit quaternion ``q`` (x, y, z, w)."""
    x, y, z, w = q
    vx, vy, vz = v
    # t = 2 * cross(q.xyz, v); v' = v + w * t + cross(q.xyz, t)
    tx, ty, tz = 2 * (y * vz - z * vy), 2 * (z * vx - x * vz), 2 * (x * vy - y * vx)
    return (vx + w * tx + y * tz - z * ty, vy + w * ty + z * tx - x * tz, vz + w * tz + x * ty - y * tx)


def reach(shape) -> float:
    """Radius (m) of a sphere about the shape's centre that contains the whole shape."""
    t = shape.type
    if t == "box":
        return math.sqrt(sum((s / 2) ** 2 for s in shape.size))
    if t == "sphere":
        return shape.radius
    if t == "cylinder":
        return math.sqrt(shape.radius ** 2 + (shape.height / 2) ** 2)
    if t == "capsule":
        return shape.radius + shape.height / 2
    return math.inf


def inside(shape, center, q, point) -> bool:
    """Whether ``point`` lies inside ``shape`` posed at ``center`` with orientation ``q``."""
    d = (point[0] - center[0], point[1] - center[1], point[2] - center[2])
    inv = (-q[0], -q[1], -q[2], q[3])
    lx, ly, lz = rotate(inv, d)
    t = shape.type
    if t == "box":
        sx, sy, sz = shape.size
        return abs(lx) <= sx / 2 and abs(ly) <= sy / 2 and abs(lz) <= sz / 2
    if t == "sphere":
        return lx * lx + ly * ly + lz * lz <= shape.radius ** 2
    if t == "cylinder":
        return lx * lx + ly * ly <= shape.radius ** 2 and abs(lz) <= shape.height / 2
    if t == "capsule":
        cz = max(-shape.height / 2, min(shape.height / 2, lz))
        return lx * lx + ly * ly + (lz - cz) ** 2 <= shape.radius ** 2
    return False
