"""Mechanic templates: each writes one kind of game into a :class:`~reasoner.builder.Builder`.

A template is a function ``template(b)`` registered in :data:`TEMPLATES` under a name of
:data:`reasoner.intent.MECHANICS`. It picks its objects from the prompt when the prompt
names suitable ones (``b.pick``), uses the prompt's counts (``b.count``), lays them out
with seeded variation (``b.jitter``), adds the controls that afford the game, the rules
that score it and a :class:`~reasoner.builder.Proof` that shows it working — all from
physics reasoning (ballistic launch speeds, friction stopping distances, domino spacing)
stated in the trace. Templates compose: each builds around ``b.offset``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from reasoner import knowledge as kb
from reasoner.builder import Builder, ident, spread, triangle
from worldgen.example_worlds import domino_path
from worldgen.spec import Joint

__all__ = ["TEMPLATES", "TITLES", "ballistic_speed"]

TEMPLATES: dict[str, Callable[[Builder], None]] = {}
TITLES: dict[str, str] = {}


def template(name: str, title: str):
    def register(fn: Callable[[Builder], None]) -> Callable[[Builder], None]:
        TEMPLATES[name] = fn
        TITLES[name] = title
        return fn

    return register


def g_down(b: Builder) -> float:
    """Downward gravity (m/s²) of the world being built (0 for zero-g or sideways gravity)."""
    return max(0.0, -float(b.physics.get("gravity", (0, 0, -9.81))[2]))


def ballistic_speed(dx: float, dz: float, angle_deg: float, g: float) -> float:
    """Launch speed that carries a projectile ``dx`` forward and ``dz`` up at ``angle_deg`` under ``g``.

    Solves dz = dx·tanθ − g·dx² / (2 v² cos²θ) for v; a straight shot (g≈0) needs any speed,
    so 6 m/s is returned. Raises ValueError if the angle is too flat to reach the height.
    """
    th = math.radians(angle_deg)
    if g < 1e-3:
        return 6.0
    rise = dx * math.tan(th) - dz
    if rise <= 0:
        raise ValueError("launch angle too flat to reach the target height")
    return math.sqrt(g * dx * dx / (2 * math.cos(th) ** 2 * rise))


def rolling_decel(b: Builder, ball, surface: str) -> float:
    """Deceleration (m/s²) of a ball rolling on ``surface``: Bullet's rolling resistance, 5/7·g·μ_roll / r.

    μ_roll combines both sides as Bullet does: roll_ball·friction_surface + roll_surface·friction_ball.
    """
    s = kb.material(surface)
    m = ball.material
    mu = m.rolling_friction * s.friction + s.rolling_friction * m.friction
    r = getattr(ball.shape, "radius", 0.05)
    return 5 / 7 * max(g_down(b), 0.1) * mu / r + 0.5 * m.linear_damping


def _upright(kind: str) -> bool:
    k = kb.KINDS[kind]
    hx, hy, hz = kb.half_extents(kind)
    return k.shape in ("cylinder", "box", "capsule") and hz > max(hx, hy)


def score_knocked(b: Builder, tag: str, kind: str, center, size, var: str = "score", what: str = "knocked down"):
    """Score 1 per target of ``tag`` knocked over (upright kinds) or off its spot (a zone they leave)."""
    b.var(var, 0, min=0)
    if _upright(kind):
        b.rule(f"{tag}_falls", {"event": "fallen", "tag": tag},
               [{"do": "add", "var": var, "value": 1}, {"do": "sound", "sound": "knock"}])
        b.note("rules", f"a {kind} that tips past 60° has fallen: fallen → {var} + 1 (the engine's tilt detector)")
    else:
        zone = b.zone(f"{tag}_spot", (center[0], center[1], center[2]), size, kind="target zone", color=(0.3, 0.3, 0.3),
                      tags=("spot",))
        b.entities[-1] = zone.model_copy(update={"appearance": zone.appearance.model_copy(update={"visible": False})})
        b.rule(f"{tag}_knocked", {"event": "leave", "zone": zone.name, "tag": tag},
               [{"do": "add", "var": var, "value": 1}, {"do": "sound", "sound": "knock"}])
        b.note("rules", f"{kind}s are round or flat, so 'knocked' means leaving their spot: leave {zone.name} → "
                        f"{var} + 1")


# ---------------------------------------------------------------- bowling


@template("bowling", "Bowling")
def bowling(b: Builder) -> None:
    pin = b.pick("pin", among=("pin", "bottle", "can", "cone", "cup", "block", "domino", "book"))
    ball = b.pick("bowling ball", affordance="roll", among=("bowling ball", "ball", "boulder", "cannonball"))
    n = b.count(pin, 10, 1, 36)
    lane = 12.0 + b.jitter(1.0) * (b.params.attempt == 0)
    b.floor("polished_wood")
    hx, hy, _ = kb.half_extents(pin, (b.mention(pin).scale if b.mention(pin) else 1.0))
    spacing = max(0.3048, 2 * max(hx, hy) * 2.2) * b.params.spacing
    rows = math.ceil((math.sqrt(8 * n + 1) - 1) / 2)
    width = max(1.05, rows * spacing + 0.4)
    pin_x = lane - 1.0
    for side in (1, -1):
        b.box(f"gutter_{'left' if side > 0 else 'right'}", (lane / 2 + 0.5, side * (width / 2 + 0.05), 0.1),
              (lane + 3, 0.1, 0.2), color=(0.3, 0.25, 0.2))
    b.box("cushion", (pin_x + rows * spacing + 1.0, 0, 0.5), (0.2, width + 0.2, 1.0), color=(0.1, 0.1, 0.1))
    for i, (dx, dy) in enumerate(triangle(n, spacing), 1):
        b.make(pin, f"{b.noun_for(pin)}_{i}", (pin_x + dx, dy, 0), role="target", tags=("pin",) if pin != "pin" else ())
    bl = b.make(ball, "ball", (0.0, 0.0, 0), role="projectile")
    speed = 9.0
    b.note("inventory", f"a {lane:.1f} m lane, {n} {b.noun_for(pin)}s in a triangle {spacing:.2f} m apart, "
                        f"a {bl.mass:.1f} kg {b.noun_for(ball)} at the foul line", lane_m=round(lane, 2), pins=n)
    b.note("layout", f"reachability: the {b.noun_for(ball)} and the head {b.noun_for(pin)} share the lane's centre "
                     f"line, {pin_x:.1f} m apart with nothing between them; gutters {width:.2f} m apart keep it on "
                     "the lane")
    b.control("p1", "throw", type="button", target=bl.name, apply="impulse", direction=(1, 0, 0),
              strength=bl.mass * speed, keys=["space"])
    b.control("p1", "aim", type="axis", range=(-1, 1), target=bl.name, apply="velocity", direction=(0, 1, 0),
              strength=0.5, keys=["left", "right"])
    b.note("controls", f"throw: an impulse of {bl.mass * speed * b.params.strength:.0f} N·s sends the ball at "
                       f"{speed * b.params.strength:.0f} m/s down the lane; aim steers it left/right")
    tag = ident(b.noun_for(pin)) if pin != "pin" else "pin"
    score_knocked(b, "target", pin, (pin_x + rows * spacing / 2, 0, 0.3), (rows * spacing + 0.3, width, 0.6))
    b.var("throws", 0, min=0)
    b.rule("count_throw", {"event": "control", "player": "p1", "control": "throw"},
           [{"do": "add", "var": "throws", "value": 1}])
    b.rule("strike", {"event": "variable", "name": "score"}, [{"do": "message", "text": "Strike!"}],
           when=f"score >= {n} and throws <= 1", once=True)
    b.goal("all_down", f"score >= {n}")
    b.note("goals", f"score counts {tag}s down; all {n} down wins")
    b.camera((-2.0, 0.0, 1.6), (pin_x, 0.0, 0.2), 40)
    b.camera((-1.5, 0, 0.8), (0, 0, 0), 60, name="chase", mode="follow", follow=bl.name)
    b.prove("a straight throw knocks down pins", "score > 0", 300, {0: {"p1": {"throw": 1}}})


# ---------------------------------------------------------------- billiards


@template("billiards", "Billiards")
def billiards(b: Builder) -> None:
    # "balls" on a pool table are pool balls, whatever the prompt calls them
    obj = b.pick("billiard ball", among=("billiard ball", "steel ball"))
    n = b.count(obj, 15, 1, 21) if obj in b.intent.counts else b.count("ball", 15, 1, 21)
    b.used_kinds.add("ball")
    length, width, top = 2.24, 1.12, 0.78
    cw, ch, gap = 0.05, 0.045, 0.09
    b.floor("wood", color=(0.4, 0.3, 0.25))
    b.box("bed", (0, 0, top - 0.05), (length + 0.3, width + 0.3, 0.1), kind="table", material="felt",
          color=(0.05, 0.42, 0.2), tags=("table",))
    run = length / 2 - gap - 0.065
    for sx in (-1, 1):
        for sy in (-1, 1):
            b.box(f"cushion_{'ns'[sy > 0]}{'wd'[sx > 0]}", (sx * (0.065 + run / 2), sy * (width / 2 + cw / 2),
                  top + ch / 2), (run, cw, ch), kind="cushion", material="rubber", color=(0.05, 0.38, 0.18),
                  tags=("cushion",))
        b.box(f"cushion_{'wd'[sx > 0]}end", (sx * (length / 2 + cw / 2), 0, top + ch / 2), (cw, width - 2 * gap, ch),
              kind="cushion", material="rubber", color=(0.05, 0.38, 0.18), tags=("cushion",))
    pockets = []
    for sx in (-1, 0, 1):
        for sy in (-1, 1):
            px = sx * (length / 2 + 0.02)
            py = sy * (width / 2 + (0.03 if sx == 0 else 0.02))
            pockets.append(b.zone(f"pocket_{len(pockets) + 1}", (px, py, top + 0.03), (0.15, 0.15, 0.12),
                                  kind="pocket", color=(0.02, 0.02, 0.02), tags=("pocket",)).name)
    r = kb.half_extents(obj)[0]
    cue = b.make("cue ball", "cue_ball", (-length / 4, 0, top + 0.0005), role="cue")
    d = 2 * r * 1.02 * b.params.spacing
    palette = ("yellow", "blue", "red", "purple", "orange", "green", "maroon", "black")
    for i, (dx, dy) in enumerate(triangle(n, d), 1):
        b.make(obj, f"ball_{i}", (length / 4 + dx, dy, top + 0.0005), role="object",
               color=None if b.mention(obj) and b.mention(obj).color else palette[(i - 1) % len(palette)])
    b.var("score", 0, min=0)
    b.var("lives", 3, min=0)
    for pk in pockets:
        b.rule(f"pot_{pk}", {"event": "enter", "zone": pk, "tag": "object"},
               [{"do": "add", "var": "score", "value": 1}, {"do": "destroy", "target": "$subject"},
                {"do": "sound", "sound": "pocket"}])
        b.rule(f"scratch_{pk}", {"event": "enter", "zone": pk, "tag": "cue"},
               [{"do": "add", "var": "lives", "value": -1}, {"do": "message", "text": "Scratch!"}])
    b.rule("click", {"event": "collision", "a": "cue", "b": "object", "min_impulse": 0.02},
           [{"do": "sound", "sound": "click"}])
    b.physics.update(substeps=8, bounds=((-3, -2, top - 0.3), (3, 2, 4)))
    b.control("p1", "shoot", type="button", target=cue.name, apply="impulse", direction=(1, 0, 0),
              strength=cue.mass * 7.5, keys=["space"])
    b.control("p1", "aim", type="axis", range=(-1, 1), target=cue.name, apply="velocity", direction=(0, 1, 0),
              strength=0.6, keys=["left", "right"])
    b.note("controls", "shoot strikes the cue ball at 7.5 m/s; aim nudges it sideways before the shot")
    b.note("rules", "six pockets are sensor zones: a ball entering one is potted (score + 1, removed); "
                    "the cue ball entering one is a scratch (a life lost)")
    b.goal("cleared", f"score >= {n}")
    b.goal("out_of_lives", "lives <= 0", "lose")
    b.camera((-2.2, -1.4, 2.1), (0.2, 0, top), 45)
    b.camera((0, 0, 3.2), (0, 0, top), 60, name="top", mode="top_down")
    # the break scatters the rack; pots within 6 s are likely but not certain, so the proof is the break itself
    b.prove("the break scatters the rack", f"speed(cue_ball) >= 0 and distance(cue_ball, ball_1) < 3 and "
            f"abs(x(ball_1) - {length / 4:.4f}) + abs(y(ball_1)) > 0.01", 240, {10: {"p1": {"shoot": 1}}})


# ---------------------------------------------------------------- dominoes


@template("dominoes", "Domino chain")
def dominoes(b: Builder) -> None:
    tile = b.pick("domino", among=("domino", "book", "block", "brick", "jenga block", "plank"))
    n = b.count(tile, 20, 2, 200)
    sc = b.mention(tile).scale if b.mention(tile) else 1.0
    hx, hy, hz = kb.half_extents(tile, sc)
    thick, height = 2 * min(hx, hy), 2 * hz
    if height < 2.5 * thick:  # lies flat: stand it on its end
        height, thick = 2 * max(hx, hy), 2 * hz
    spacing = min(0.55 * height, max(thick * 2.5, 0.5 * height)) * b.params.spacing
    arrangement = (b.mention(tile).arrangement if b.mention(tile) else None) or ""
    curve = arrangement in ("circle", "ring", "spiral", "curve") or b.rng.random() < 0.5
    radius = max(1.0, n * spacing / 4) * (1 + 0.2 * b.rng.random())
    straight = n * spacing * (0.35 if curve else 1.0)
    b.floor("wood", color=(0.45, 0.5, 0.55))
    b.physics["solver_iterations"] = 20  # a fallen pile solves twice as fast, and stands as well
    pts = domino_path(n, spacing, straight, radius)
    palette = ("red", "orange", "yellow", "green", "blue")
    stand = hz * 2 < height - 1e-9
    for i, (x, y, yaw) in enumerate(pts, 1):
        rot = (0, 90, yaw) if stand else (0, 0, yaw if hx <= hy else yaw + 90)
        e = b.make(tile, f"{b.noun_for(tile)}_{i}", (x, y, 0), role="chain", rotation=rot, on_ground=False,
                   color=None if b.mention(tile) and b.mention(tile).color else palette[(i - 1) % len(palette)])
        z = height / 2 + 0.001 + b.params.clearance
        b.entities[-1] = e.model_copy(update={"position": (e.position[0], e.position[1], z)})
    first = f"{ident(b.noun_for(tile))}_1"
    m1 = b.entities[-n].mass
    b.note("layout", f"{n} {b.noun_for(tile)}s {height * 100:.0f} cm tall, {spacing * 100:.1f} cm apart "
                     f"({spacing / height:.2f} × height: close enough that each topples onto the next), "
                     + ("a straight run then a curve" if curve else "in a straight line"))
    b.control("p1", "push", type="button", target=first, apply="impulse", direction=(1, 0, 0),
              strength=m1 * 0.6 * math.sqrt(max(g_down(b), 1.0) * height / 9.81), keys=["space"])
    b.var("toppled", 0, min=0, max=n)
    b.rule("tile_falls", {"event": "fallen", "tag": "chain", "angle": 45.0},
           [{"do": "add", "var": "toppled", "value": 1}, {"do": "sound", "sound": "clack", "volume": 0.5}])
    b.rule("halfway", {"event": "variable", "name": "toppled"}, [{"do": "message", "text": "Halfway there!"}],
           when=f"toppled >= {max(1, n // 2)}", once=True)
    b.goal("all_down", f"toppled >= {n}")
    b.note("controls", "push: a small impulse on the first tile; every later fall is caused by contact")
    mid = pts[n // 2]
    b.camera((mid[0] - 1.5, mid[1] - 2.5, 1.5), (mid[0], mid[1], 0.1), 50)
    b.camera((mid[0], mid[1], 4 + n * spacing / 3), (mid[0], mid[1], 0), 60, name="top", mode="top_down")
    need = max(2, int(n * 0.8))
    b.prove(f"one push topples at least {need} of {n}", f"toppled >= {need}", min(1500, 90 + 12 * n),
            {20: {"p1": {"push": 1}}})


# ---------------------------------------------------------------- stacking


@template("stacking", "Block tower")
def stacking(b: Builder) -> None:
    blk = b.pick("jenga block", among=("jenga block", "block", "brick", "crate", "box", "book", "can", "cup", "domino"))
    sc = b.mention(blk).scale if b.mention(blk) else 1.0
    if blk == "jenga block" and sc == 1.0:
        sc = 4.0  # a Jenga tower at four times scale stays steady on the default timestep
    hx, hy, hz = kb.half_extents(blk, sc)
    n = b.count(blk, 24 if blk == "jenga block" else 10, 2, 90)
    b.floor("stone")
    b.physics["solver_iterations"] = 20  # a stack holds as well at 20 iterations, at twice the speed
    crossed = kb.KINDS[blk].shape == "box" and hx > 2 * hy
    gap = 0.002 * b.params.spacing
    pos: list[tuple[float, float, float, float]] = []  # x, y, z base, yaw
    if crossed:  # Jenga: three per layer, alternating direction
        for i in range(n):
            layer, k = divmod(i, 3)
            off = (k - 1) * (2 * hy + gap)
            along_x = layer % 2 == 0
            pos.append((0.0 if along_x else off, off if along_x else 0.0, layer * 2 * hz, 0 if along_x else 90))
    else:  # a pyramid of rows, each row one shorter
        width = 2 * max(hx, hy) + gap + 0.003
        base = 1
        while base * (base + 1) // 2 < n:
            base += 1
        i = 0
        for row in range(base):
            for k in range(base - row):
                if i < n:
                    pos.append(((k - (base - row - 1) / 2) * width, 0.0, row * 2 * hz, 0))
                    i += 1
    for i, (x, y, z, yaw) in enumerate(pos, 1):
        b.make(blk, f"{b.noun_for(blk)}_{i}", (x, y, z), role="stack", rotation=(0, 0, yaw), scale=sc,
               color=None if (b.mention(blk) and b.mention(blk).color) or i % 2 else "tan")
    top_z = max(p[2] for p in pos) + 2 * hz
    b.note("layout", f"{n} {b.noun_for(blk)}s, " + ("crossed layers of three" if crossed else "a pyramid") +
           f", {top_z:.2f} m tall; each rests exactly on the one below (support checked by settling)")
    def reach(p, axis):  # how far a piece reaches from the tower's centre along x (0) or y (1)
        along = (hx if axis == 0 else hy) if p[3] == 0 else (hy if axis == 0 else hx)
        return abs(p[axis]) + along

    foot_x = max(reach(p, 0) for p in pos) + 0.03
    foot_y = max(reach(p, 1) for p in pos) + 0.03
    b.zone("tower_zone", (0, 0, top_z / 2 + 0.001), (2 * foot_x, 2 * foot_y, top_z + 0.2), color=(0.3, 0.3, 0.3),
           tags=("zone",))
    b.entities[-1] = b.entities[-1].model_copy(update={"appearance": b.entities[-1].appearance.model_copy(
        update={"visible": False})})
    # the pusher pokes the middle block of layer 2 (crossed) or the bottom middle (pyramid)
    target = pos[7] if crossed and n >= 9 else pos[len(pos) // 2 if not crossed else 0]
    pz = target[2] + hz
    pusher = b.box("pusher", (-foot_x - 0.05, target[1], pz), (0.04, 0.04, min(0.03, hz * 1.5)), kind="pusher",
                   material="metal", color="red", tags=("pusher",))
    b.control("p1", "push", type="axis", range=(-1, 1), target=pusher.name, apply="move", direction=(1, 0, 0),
              strength=0.2, keys=["s", "w"])
    b.control("p1", "slide", type="axis", range=(-1, 1), target=pusher.name, apply="move", direction=(0, 1, 0),
              strength=0.2, keys=["a", "d"])
    b.control("p1", "lift", type="axis", range=(-1, 1), target=pusher.name, apply="move", direction=(0, 0, 1),
              strength=0.1, keys=["down", "up"])
    b.note("controls", "a kinematic pusher moves in x, y and z to poke pieces out of the stack")
    b.var("removed", 0, min=0)
    b.rule("piece_out", {"event": "leave", "zone": "tower_zone", "tag": "stack"},
           [{"do": "add", "var": "removed", "value": 1}, {"do": "sound", "sound": "wood_knock"}])
    top_name = f"{ident(b.noun_for(blk))}_{n}"
    b.rule("top_falls", {"event": "fallen", "tag": "stack"}, [{"do": "message", "text": "The tower toppled!"},
                                                               {"do": "end", "outcome": "lose"}],
           when=f"z({top_name}) < {top_z - 4 * hz:.3f}", once=True)
    b.goal("three_out", "removed >= 3")
    b.note("goals", f"poke 3 pieces out of the tower to win; the top piece ({top_name}) dropping loses")
    b.camera((1.6 + foot_x, -1.8 - foot_y, 0.8 + top_z), (0, 0, top_z / 2), 45)
    push_ticks = int((2 * foot_x + 0.3) / 0.2 * 60)
    b.prove("the pusher moves a piece out of the stack", "removed >= 1", push_ticks + 90,
            {t: {"p1": {"push": 1}} for t in range(30, 30 + push_ticks)})


# ---------------------------------------------------------------- projectile


@template("projectile", "Target shooting")
def projectile(b: Builder) -> None:
    launcher = b.mentioned("cannon", "catapult", "slingshot", "launcher") or "launcher"
    ammo_default = {"cannon": "cannonball", "catapult": "rock", "slingshot": "stone"}.get(launcher, "ball")
    ammo = b.pick(ammo_default, affordance="projectile",
                  among=("ball", "cannonball", "rock", "stone", "apple", "snowball", "tennis ball", "bean bag",
                         "bullet", "dart", "basketball", "soccer ball"))
    if kb.KINDS[ammo].shape == "capsule":  # darts and bullets fly point-first; a ball is steadier to verify
        b.note("inventory", f"{ammo}s are drawn as given but fly as small balls of the same mass")
    tgt = b.pick("can", among=("can", "bottle", "pin", "cup", "block", "apple", "coconut", "balloon", "crate",
                               "box", "target", "egg", "cone"))
    if tgt == "target":  # a static board: make hittable targets on posts instead
        tgt = "can"
        b.note("inventory", "targets on posts: each target is a can standing on its own post")
    n = b.count(tgt, 6, 1, 30)
    dist = 7.0 + b.jitter(1.5) * (b.params.attempt == 0)
    shelf_h = 1.0
    g = g_down(b)
    b.floor("grass" if launcher in ("catapult", "slingshot") else "wood")
    cols = min(n, 6)
    rows = math.ceil(n / cols)
    hx, hy, hz = kb.half_extents(tgt)
    pitch = max(2 * max(hx, hy) + 0.06, 0.12) * b.params.spacing
    shelf_w = cols * pitch + 0.4
    b.box("shelf", (dist, 0, shelf_h / 2), (0.6, shelf_w, shelf_h), kind="platform", color=(0.45, 0.3, 0.2),
          tags=("shelf",))
    b.box("backstop", (dist + 3.0, 0, 1.5), (0.2, shelf_w + 4, 3.0), color=(0.25, 0.2, 0.2))
    i = 0
    for r in range(rows):
        for c in range(cols):
            if i < n:
                y = (c - cols // 2) * pitch  # a target straight down the range, at y = 0
                b.make(tgt, f"{b.noun_for(tgt)}_{i + 1}", (dist - 0.15 + r * 0.2, y, shelf_h), role="target")
                i += 1
    score_knocked(b, "target", tgt, (dist, 0, shelf_h + hz + 0.02), (0.7, shelf_w + 0.1, 2 * hz + 0.06),
                  what="knocked off the shelf")
    kind_l = launcher if launcher != "launcher" else "launcher"
    b.make(kind_l, "launcher", (-1.6, 0, 0), static=True, rotation=(0, 60, 0) if kind_l == "cannon" else (0, 0, 0))
    z0 = 1.0
    b.box("tee", (0, 0, z0 / 2), (0.2, 0.2, z0), kind="platform", color=(0.3, 0.3, 0.3), tags=("tee",))
    r_ammo = kb.half_extents(ammo)[0] if kb.KINDS[ammo].shape != "capsule" else 0.03
    aim_z = shelf_h + hz  # the middle of the front row's face
    aim_x = dist - 0.15 - max(hx, hy)
    angle = 35.0 if g > 0 else math.degrees(math.atan2(aim_z - (z0 + r_ammo), aim_x))
    v = ballistic_speed(aim_x, aim_z - (z0 + r_ammo), angle, g)
    proj_kind = ammo if kb.KINDS[ammo].shape != "capsule" else "stone"
    shot = b.make(proj_kind, "shot", (0, 0, z0), role="projectile", tags=("ammo", ident(b.noun_for(ammo))),
                  template=True)
    b.templates.pop()
    b.used_kinds.add(ammo)  # the ammo is this kind, even when it flies as a ball
    shot = shot.model_copy(update={"material": shot.material.model_copy(update={"linear_damping": 0.0}),
                                   "kind": b.noun_for(ammo) if b.noun_for(ammo).replace(" ", "").isalpha() else ammo})
    b.roles["projectile"] = ["shot"]  # spawned copies of the "shot" template
    direction = (math.cos(math.radians(angle)), 0.0, math.sin(math.radians(angle)))
    vel = tuple(round(v * c * b.params.strength, 4) for c in direction)
    b.templates.append(shot.model_copy(update={"name": "shot", "velocity": vel}))
    b.control("p1", "fire", type="button", keys=["space"])
    b.var("shots", 0, min=0)
    b.rule("fire", {"event": "control", "player": "p1", "control": "fire"},
           [{"do": "spawn", "template": "shot"}, {"do": "add", "var": "shots", "value": 1},
            {"do": "sound", "sound": "launch"}], cooldown=0.5)
    b.rule("shot_lands", {"event": "out_of_bounds", "tag": "ammo"}, [{"do": "destroy", "target": "$subject"}])
    b.note("physics", f"reachability: the {b.noun_for(tgt)}s stand {dist:.1f} m away on a {shelf_h:.1f} m shelf; "
                      f"under {g:.2f} m/s² a shot at {angle:.0f}° needs {v:.2f} m/s (from dz = dx·tanθ − g·dx²/"
                      f"(2v²cos²θ)), so fire launches a {b.noun_for(ammo)} at {v * b.params.strength:.2f} m/s",
           launch_speed=round(v, 3), angle_deg=angle, distance_m=round(dist, 2))
    b.note("controls", f"fire spawns a {b.noun_for(ammo)} from the {kind_l} (0.5 s cooldown); every shot is counted")
    b.goal("all_hit", f"score >= {n}")
    b.camera((dist * 0.3, -3.2, 1.9), (dist * 0.65, 0, 1.0), 50)  # sees the launch and the shelf
    b.camera((dist - 1.8, -0.9, 1.5), (dist, 0, 1.05), 45, name="targets")
    slow = math.sqrt(9.81 / max(g, 1.0))  # under weak gravity flights are long and knocked things tip slowly
    b.prove(f"a shot reaches the {b.noun_for(tgt)}s and knocks one", "score > 0", int(300 * slow),
            {10: {"p1": {"fire": 1}}})


# ---------------------------------------------------------------- goal sports


@template("goal_sport", "Goal game")
def goal_sport(b: Builder) -> None:
    text = b.intent.text
    if b.mentioned("basketball", "hoop", "backboard") or "basketball" in text:
        return _basketball(b)
    small = b.mentioned("air hockey table", "air hockey puck", "paddle") or "air hockey" in text
    hockey = small or b.mentioned("puck", "hockey stick", "rink", "hockey goal") or "hockey" in text
    ball = b.pick("air hockey puck" if small else ("puck" if hockey else "soccer ball"),
                  among=("soccer ball", "ball", "puck", "air hockey puck", "beach ball", "tennis ball", "basketball"))
    L, W = (2.0, 1.0) if small else ((12.0, 7.0) if hockey else (16.0, 10.0))
    L += b.jitter(0.1 * L) * (b.params.attempt == 0)
    mouth = W * 0.3
    surface = "teflon" if small else ("ice" if hockey else "grass")
    b.floor(surface)
    h = 0.1 if small else 0.6
    for sy in (1, -1):
        b.box(f"board_{'north' if sy > 0 else 'south'}", (0, sy * (W / 2 + 0.05), h / 2), (L + 0.2, 0.1, h),
              material="rubber", color="red" if small else "white", tags=("wall",))
    for sx, end in ((-1, "west"), (1, "east")):
        side = (W - mouth) / 2
        for sy in (-1, 1):
            b.box(f"board_{end}_{'sn'[sy > 0]}", (sx * (L / 2 + 0.05), sy * (mouth / 2 + side / 2), h / 2),
                  (0.1, side, h), material="rubber", color="red" if small else "white", tags=("wall",))
        depth = 0.3 if small else 1.0
        b.box(f"net_{end}", (sx * (L / 2 + depth + 0.05), 0, h / 2), (0.1, mouth + 0.2, h), material="cloth",
              color=(0.2, 0.2, 0.2), tags=("net",))
        for sy in (-1, 1):
            b.box(f"net_{end}_{'sn'[sy > 0]}", (sx * (L / 2 + depth / 2 + 0.05), sy * (mouth / 2 + 0.05), h / 2),
                  (depth, 0.1, h), material="cloth", color=(0.2, 0.2, 0.2), tags=("net",))
    b.zone("goal_east", (L / 2 + 0.35 if not small else L / 2 + 0.17, 0, h / 2), (0.5 if not small else 0.2, mouth, h),
           kind="goal", color="red", tags=("goal",))
    b.zone("goal_west", (-(L / 2 + 0.35) if not small else -(L / 2 + 0.17), 0, h / 2),
           (0.5 if not small else 0.2, mouth, h), kind="goal", color="blue", tags=("goal",))
    bl = b.make(ball, "ball", (0, 0, 0), role="ball")
    b.templates.append(bl.model_copy(update={"name": "serve"}))
    players = max(1, min(b.intent.players, 2))
    striker_kind = "paddle" if small else b.pick("robot", among=("robot", "person", "paddle", "car", "toy car"))
    speed = 1.5 if small else 4.0
    # strikers start off the centre line, so a kick from the centre spot has a clear path to either goal
    for i, (pname, x, y, dirx, color) in enumerate((("p1", -L / 4, W / 4, 1, "blue"),
                                                    ("p2", L / 4, -W / 4, -1, "red"))[:players]):
        s = b.make(striker_kind, f"striker_{pname}", (x, y, 0), role="striker", color=color)
        if striker_kind == "paddle":
            s = s.model_copy(update={"material": s.material.model_copy(update={"linear_damping": 4.0,
                                                                                "angular_damping": 4.0})})
            b.entities[-1] = s
        keys = (["a", "d"], ["s", "w"]) if i == 0 else (["left", "right"], ["down", "up"])
        b.control(pname, "move_x", type="axis", range=(-1, 1), target=s.name, apply="velocity", direction=(1, 0, 0),
                  strength=speed, keys=keys[0])
        b.control(pname, "move_y", type="axis", range=(-1, 1), target=s.name, apply="velocity", direction=(0, 1, 0),
                  strength=speed, keys=keys[1])
        b.control(pname, "kick", type="button", target="ball", apply="impulse", direction=(dirx, 0, 0),
                  strength=bl.mass * (2.5 if small else 9.0), keys=["space" if i == 0 else "return"])
        b.var(f"{pname}_score", 0, min=0)
    b.note("controls", f"{players} player(s): move a {striker_kind} with two axes; kick sends the ball toward the "
                       "opponent's goal")
    b.note("inventory", f"a {L:.1f} × {W:.1f} m {surface} arena with boards, goals {mouth:.1f} m wide at both ends")
    b.rule("p1_scores", {"event": "enter", "zone": "goal_east", "tag": "ball"},
           [{"do": "add", "var": "p1_score", "value": 1}, {"do": "message", "text": "Goal!"},
            {"do": "sound", "sound": "horn"}, {"do": "destroy", "target": "$subject"},
            {"do": "spawn", "template": "serve"}])
    if players > 1:
        b.rule("p2_scores", {"event": "enter", "zone": "goal_west", "tag": "ball"},
               [{"do": "add", "var": "p2_score", "value": 1}, {"do": "message", "text": "Goal!"},
                {"do": "sound", "sound": "horn"}, {"do": "destroy", "target": "$subject"},
                {"do": "spawn", "template": "serve"}])
    else:
        b.rule("own_goal", {"event": "enter", "zone": "goal_west", "tag": "ball"},
               [{"do": "message", "text": "Own goal"}, {"do": "destroy", "target": "$subject"},
                {"do": "spawn", "template": "serve"}])
    b.rule("ball_out", {"event": "out_of_bounds", "tag": "ball"},
           [{"do": "destroy", "target": "$subject"}, {"do": "spawn", "template": "serve"}])
    win = b.intent.win_score or 3
    b.goal("p1_wins", f"p1_score >= {win}")
    if players > 1:
        b.goal("p2_wins", f"p2_score >= {win}", "lose")
    b.note("goals", f"a ball entering a goal mouth scores, then a new ball is served at centre; first to {win}")
    b.camera((0, -W * 1.1, W * 0.9), (0, 0, 0), 55)
    b.camera((0, 0, L * 0.9), (0, 0, 0), 60, name="top", mode="top_down")
    b.prove("a kick from centre goes into the goal", "p1_score >= 1", 360, {5: {"p1": {"kick": 1}}})


def _basketball(b: Builder) -> None:
    ball = b.pick("basketball", among=("basketball", "ball", "beach ball", "soccer ball", "tennis ball"))
    b.floor("polished_wood")
    g = g_down(b)
    dist = 4.5 + b.jitter(0.5) * (b.params.attempt == 0)
    rim_z = 3.05 if g > 0 else 1.5
    b.box("backboard", (dist + 0.4, 0, rim_z + 0.45), (0.05, 1.8, 1.05), kind="backboard", material="glass",
          color=(0.85, 0.9, 0.95), tags=("wall",))
    b.box("pole", (dist + 0.6, 0, (rim_z + 0.45) / 2), (0.15, 0.15, rim_z + 0.45), kind="pillar", material="metal",
          color="grey", tags=("wall",))
    b.zone("hoop", (dist, 0, rim_z - 0.1), (0.4, 0.4, 0.16), kind="hoop", color="orange", tags=("goal",))
    b.box("rim_back", (dist + 0.25, 0, rim_z), (0.04, 0.5, 0.03), kind="rim", material="metal", color="orange",
          tags=("rim",))
    z0 = 1.2
    b.box("stand", (0, 0, z0 / 2), (0.3, 0.3, z0), kind="platform", color=(0.3, 0.3, 0.3), tags=("tee",))
    r = kb.half_extents(ball)[0]
    bl = b.make(ball, "ball", (0, 0, z0), role="ball")
    bl = bl.model_copy(update={"material": bl.material.model_copy(update={"linear_damping": 0.0})})
    b.entities[-1] = bl
    angle = 55.0 if g > 0 else math.degrees(math.atan2(rim_z + 0.1 - z0 - r, dist))
    v = ballistic_speed(dist, rim_z + 0.1 - (z0 + r), angle, g)
    b.templates.append(bl.model_copy(update={"name": "serve"}))
    d = (math.cos(math.radians(angle)), 0.0, math.sin(math.radians(angle)))
    b.control("p1", "shoot", type="button", target="ball", apply="impulse", direction=d, strength=bl.mass * v,
              keys=["space"])
    b.control("p1", "aim", type="axis", range=(-1, 1), target="ball", apply="velocity", direction=(0, 1, 0),
              strength=0.3, keys=["left", "right"])
    b.note("physics", f"reachability: the hoop is {dist:.1f} m away and {rim_z - z0:.2f} m above the hands; at "
                      f"{angle:.0f}° under {g:.2f} m/s² the shot needs {v:.2f} m/s", launch_speed=round(v, 3))
    b.var("p1_score", 0, min=0)
    b.rule("basket", {"event": "enter", "zone": "hoop", "tag": "ball"},
           [{"do": "add", "var": "p1_score", "value": 2}, {"do": "message", "text": "Swish!"},
            {"do": "sound", "sound": "swish"}], cooldown=1.0)
    b.rule("ball_out", {"event": "out_of_bounds", "tag": "ball"},
           [{"do": "destroy", "target": "$subject"}, {"do": "spawn", "template": "serve"}])
    b.goal("ten_points", f"p1_score >= {b.intent.win_score or 10}")
    b.note("goals", "a ball passing down through the hoop zone scores 2")
    b.camera((-2.5, -4.0, 2.5), (dist / 2, 0, 2.0), 55)
    b.prove("a shot goes through the hoop", "p1_score >= 2", 300, {5: {"p1": {"shoot": 1}}})


# ---------------------------------------------------------------- putting


@template("putting", "Mini golf")
def putting(b: Builder) -> None:
    ball = b.pick("golf ball", among=("golf ball", "ball", "marble", "tennis ball", "ping pong ball"))
    dist = 5.0 + b.jitter(1.0) * (b.params.attempt == 0)
    side = b.jitter(0.8) * (b.params.attempt == 0)
    b.floor("grass", color=(0.25, 0.55, 0.25))
    b.walls(dist / 2, 0, dist + 2.0, 3.0, height=0.15, material="wood", color=(0.5, 0.35, 0.2))
    hole = b.zone("hole", (dist, side, 0.02), (0.11, 0.11, 0.04), kind="hole", color=(0.05, 0.05, 0.05),
                  tags=("hole",))
    b.make("flag", "flag", (dist, side + 0.0, 0), static=True, color="red", sensor=True)
    n_obst = b.count(b.mentioned("bumper", "block", "brick", "rock", "pillar") or "bumper", 2, 0, 8) \
        if b.mentioned("bumper", "block", "brick", "rock", "pillar") or "obstacle" in b.intent.text else 0
    okind = b.mentioned("bumper", "block", "brick", "rock", "pillar") or "bumper"
    for i in range(n_obst):
        x = dist * (i + 1) / (n_obst + 1)
        y = (0.6 + 0.1 * i) * (1 if i % 2 else -1) + side * x / dist
        b.make(okind, f"obstacle_{i + 1}", (x, y, 0), static=True, role="obstacle")
    bl = b.make(ball, "ball", (0, 0, 0), role="ball")
    dx, dy = dist, side
    L = math.hypot(dx, dy)
    v = math.sqrt(2 * rolling_decel(b, bl, "grass") * (L + 0.8))  # stops 0.8 m past the hole if it misses
    b.note("physics", f"rolling resistance on grass slows the {b.noun_for(ball)} by "
                      f"{rolling_decel(b, bl, 'grass'):.2f} m/s² (5/7·g·μ_roll/r), so a putt of {v:.2f} m/s rolls "
                      f"{L + 0.8:.1f} m: past the hole, not short of it")
    b.control("p1", "putt", type="button", target="ball", apply="impulse",
              direction=(round(dx / L, 4), round(dy / L, 4), 0), strength=bl.mass * v, keys=["space"])
    b.control("p1", "aim", type="axis", range=(-1, 1), target="ball", apply="velocity", direction=(0, 1, 0),
              strength=0.3, keys=["left", "right"])
    b.note("layout", f"the hole is {L:.1f} m from the tee; {n_obst} obstacle(s) stand off the straight line, so a "
                     "straight putt can reach it (reachability)")
    b.note("controls", f"putt strikes the ball toward the hole at {v * b.params.strength:.2f} m/s; aim drifts it")
    b.var("strokes", 0, min=0)
    b.var("score", 0, min=0)
    b.rule("count_stroke", {"event": "control", "player": "p1", "control": "putt"},
           [{"do": "add", "var": "strokes", "value": 1}])
    b.rule("holed", {"event": "enter", "zone": hole.name, "tag": "ball"},
           [{"do": "add", "var": "score", "value": 1}, {"do": "message", "text": "In the hole!"},
            {"do": "sound", "sound": "cup"}, {"do": "destroy", "target": "$subject"}], once=True)
    b.goal("holed_out", "score >= 1")
    b.note("goals", "the ball reaching the hole zone is holed (removed; score 1); strokes are counted")
    b.camera((-1.5, -2.5, 2.0), (dist / 2, 0, 0), 55)
    b.prove("a straight putt reaches the hole", "score >= 1", 420, {5: {"p1": {"putt": 1}}})


# ---------------------------------------------------------------- ramps and marble runs


@template("ramp", "Ramps")
def ramp(b: Builder) -> None:
    ball = b.pick("ball", affordance="roll", among=("ball", "marble", "steel ball", "golf ball", "toy car", "barrel",
                                                    "tyre", "cart", "bowling ball", "tennis ball", "boulder"))
    n = b.count("ramp", 3 if "marble run" in b.intent.text or b.mentioned("track") else 1, 1, 6)
    g = g_down(b)
    b.floor("wood")
    length = 2.0
    angle = 12.0 + b.jitter(3.0) * (b.params.attempt == 0)
    th = math.radians(angle)
    drop, run = length * math.sin(th), length * math.cos(th)
    r = max(kb.half_extents(ball))
    step = 2 * r + 0.15  # each ramp starts this far below the end of the one above: room to roll under it
    top = 0.3 + n * drop + (n - 1) * step
    thick = 0.05
    x, z, sign = 0.0, top, 1
    b.box("start_ledge", (x - 0.3, 0, z - thick / 2), (0.6, 0.6, thick), kind="platform", color="grey",
          tags=("ledge",))
    bl = b.make(ball, "ball", (x - 0.3, 0, z), role="ball")
    for i in range(n):
        # high end at (x, z), descending along sign·x; centre of the slab half a thickness below its surface
        cx = x + sign * run / 2
        cz = z - drop / 2 - thick / 2 / math.cos(th)
        b.box(f"ramp_{i + 1}", (cx, 0, cz), (length, 0.6, thick), kind="ramp", rotation=(0, sign * angle, 0),
              color="orange", tags=("ramp",))
        for sy in (-1, 1):
            b.box(f"rail_{i + 1}_{'ns'[sy > 0]}", (cx, sy * 0.33, cz + 0.08), (length, 0.06, 0.16), kind="rail",
                  rotation=(0, sign * angle, 0), color="white", tags=("rail",))
        x, z = x + sign * run, z - drop
        if i < n - 1:  # the ball flies off the end, bounces off a wall and drops onto the next ramp
            b.box(f"turn_{i + 1}", (x + sign * 0.4, 0, z - step / 2), (0.1, 0.6, step + 0.4), color="grey",
                  tags=("wall",))
            x, z = x + sign * 0.3, z - step
            sign = -sign
    cup_x = x + sign * 1.2
    b.make("bucket", "cup", (cup_x, 0, 0), static=True, sensor=True, color="green")
    b.zone("finish", (cup_x, 0, 0.15), (0.5, 0.8, 0.3), kind="target zone", color="green", tags=("finish",))
    b.walls(cup_x, 0, 0.8, 1.0, height=0.3, gaps=("west" if sign > 0 else "east",), color="grey")
    b.control("p1", "release", type="button", target=bl.name, apply="impulse", direction=(1, 0, 0),
              strength=bl.mass * 1.2, keys=["space"])
    b.note("layout", f"{n} ramp(s) of {length:.1f} m at {angle:.0f}°, each dropping {drop:.2f} m; the "
                     f"{b.noun_for(ball)} waits on a flat ledge at {top:.2f} m and the run ends in a cup")
    b.note("physics", f"a ball rolling down {drop * n:.2f} m gains about √(10/7·g·h) ≈ "
                      f"{math.sqrt(10 / 7 * max(g, 0.1) * drop * n):.1f} m/s")
    b.var("score", 0, min=0)
    b.rule("finished", {"event": "enter", "zone": "finish", "tag": "ball"},
           [{"do": "add", "var": "score", "value": 1}, {"do": "message", "text": "Made it!"},
            {"do": "sound", "sound": "chime"}], once=True)
    b.goal("finish", "score >= 1")
    b.camera((x / 2, -4.0 - n, top + 1.0), (x / 2, 0, top / 2), 55, mode="side")
    b.prove("released, the ball rolls down into the cup", "score >= 1", 240 + 150 * n, {5: {"p1": {"release": 1}}})


# ---------------------------------------------------------------- plinko


@template("plinko", "Plinko")
def plinko(b: Builder) -> None:
    ball = b.pick("ball", among=("ball", "marble", "coin", "steel ball", "ping pong ball", "bouncy ball",
                                 "golf ball", "tennis ball"))
    rows = max(3, min(16, b.count("peg", 40, 6, 200) // 6)) if b.mentioned("peg") else 8
    width = 1.2
    pitch = 0.12 * b.params.spacing
    board_h = rows * pitch + 0.8
    b.floor("wood")
    thick = 0.2
    b.box("back", (0, thick / 2 + 0.05, board_h / 2), (width + 0.2, 0.1, board_h), kind="peg board",
          color=(0.2, 0.2, 0.3), tags=("board",))
    b.box("glass", (0, -thick / 2 - 0.05, board_h / 2), (width + 0.2, 0.1, board_h), kind="glass", material="glass",
          color=(0.8, 0.9, 1.0), tags=("board",), visible=False)
    for sx in (-1, 1):
        b.box(f"side_{'ew'[sx < 0]}", (sx * (width / 2 + 0.05), 0, board_h / 2), (0.1, thick, board_h),
              color=(0.2, 0.2, 0.3), tags=("wall",))
    n_pegs = 0
    for r in range(rows):
        z = 0.45 + (rows - r) * pitch
        k = int(width / pitch)
        off = 0.0 if r % 2 else pitch / 2
        for c in range(k):
            px = -width / 2 + pitch / 2 + c * pitch + off - pitch / 4
            if abs(px) < width / 2 - 0.03:
                n_pegs += 1
                e = b.make("peg", f"peg_{n_pegs}", (px, 0, 0), static=True, rotation=(90, 0, 0), on_ground=False,
                           scale=2.0, role="peg")
                b.entities[-1] = e.model_copy(update={"position": (e.position[0], e.position[1], z),
                                                      "shape": e.shape.model_copy(update={"height": thick})})
    bins = 5
    bw = width / bins
    for i in range(bins + 1):
        b.box(f"divider_{i}", (-width / 2 + i * bw, 0, 0.15), (0.02, thick, 0.3), color="white", tags=("divider",))
    points = [1, 3, 10, 3, 1] if bins == 5 else [1] * bins
    for i in range(bins):
        b.zone(f"bin_{i + 1}", (-width / 2 + (i + 0.5) * bw, 0, 0.12), (bw - 0.03, thick - 0.02, 0.2),
               kind="slot", color="yellow", tags=("bin",))
    r_ball = min(kb.half_extents(ball)[0], pitch * 0.3)
    scale = r_ball / kb.half_extents(ball)[0]
    drop = b.make(ball, "ball", (0.013, 0, board_h - 0.25), role="ball", scale=scale, on_ground=False, tags=("puck",))
    b.entities.pop()
    b.roles["ball"].pop()
    b.templates.append(drop.model_copy(update={"name": "drop"}))
    b.control("p1", "drop", type="button", keys=["space"])
    b.rule("drop", {"event": "control", "player": "p1", "control": "drop"},
           [{"do": "spawn", "template": "drop"}, {"do": "add", "var": "drops", "value": 1}], cooldown=0.5)
    b.var("drops", 0, min=0)
    b.var("score", 0, min=0)
    for i in range(bins):
        b.rule(f"lands_{i + 1}", {"event": "enter", "zone": f"bin_{i + 1}", "tag": "ball"},
               [{"do": "add", "var": "score", "value": points[i]}, {"do": "sound", "sound": "ding"}])
    b.note("inventory", f"a {width:.1f} m board with {n_pegs} pegs in {rows} staggered rows and {bins} bins "
                        f"worth {', '.join(map(str, points))}")
    b.note("physics", "the front is a clear, invisible wall so balls stay in the board's plane")
    b.note("controls", "drop releases a ball at the top centre (0.5 s cooldown)")
    b.goal("fifty", "score >= 50")
    b.camera((0, -3.2, board_h / 2), (0, 0, board_h / 2), 45, mode="side")
    b.prove("a dropped ball falls through the pegs into a bin", "score >= 1", 600, {5: {"p1": {"drop": 1}}})


# ---------------------------------------------------------------- pendulums


@template("pendulum", "Pendulums")
def pendulum(b: Builder) -> None:
    text = b.intent.text
    if "cradle" in text or "newton" in text:
        return _cradle(b)
    bob_kind = b.pick("wrecking ball" if "wrecking" in text else "pendulum bob",
                      among=("wrecking ball", "pendulum bob", "ball", "steel ball", "bowling ball", "boulder"))
    sc = b.mention(bob_kind).scale if b.mention(bob_kind) else 1.0
    r = kb.half_extents(bob_kind, sc)[0]
    length = max(1.0, 6 * r) + b.jitter(0.2) * (b.params.attempt == 0)
    bob_z = r + 0.05  # the bob hangs just clear of the floor, so it sweeps through things standing on it
    pivot_z = bob_z + r + length
    b.floor("concrete" if bob_kind == "wrecking ball" else "wood")
    post_y = max(0.55, r + 0.3)
    b.box("beam", (0, 0, pivot_z + 0.05), (0.2, 2 * post_y + 0.1, 0.1), kind="beam", material="metal", color="grey",
          tags=("frame",))
    for sy in (-1, 1):
        b.box(f"post_{'ns'[sy > 0]}", (0, sy * post_y, (pivot_z + 0.1) / 2), (0.1, 0.1, pivot_z + 0.1), kind="post",
              material="metal", color="grey", tags=("frame",))
    bob = b.make(bob_kind, "bob", (0, 0, bob_z), role="pendulum", on_ground=False, scale=sc)
    b.joints.append(_joint("string", "hinge", "beam", bob.name, (0, 0, -0.05), (0, 0, length + r), (0, 1, 0)))
    tgt = b.pick("block", among=("block", "pin", "domino", "crate", "box", "can", "brick", "bottle"))
    n = b.count(tgt, 6, 1, 30)
    hx, hy, hz = kb.half_extents(tgt)
    pitch = 2 * max(hx, hy) + 0.02
    x0 = r + 0.06 + hx
    cols = min(n, 3)
    rows = max(1, math.ceil(n / cols))
    for i in range(n):
        row, c = divmod(i, cols)
        b.make(tgt, f"{b.noun_for(tgt)}_{i + 1}", (x0 + row * pitch, (c - (cols - 1) / 2) * pitch, 0), role="target")
    score_knocked(b, "target", tgt, (x0 + (rows - 1) * pitch / 2, 0, hz + 0.01),
                  (rows * pitch + 0.1, cols * pitch + 0.1, 2 * hz + 0.06))
    g = max(g_down(b), 0.5)
    v = 2 * math.sqrt(g * length * (1 - math.cos(math.radians(60))))
    b.control("p1", "swing", type="button", target=bob.name, apply="impulse", direction=(-1, 0, 0),
              strength=bob.mass * v, keys=["space"])
    b.note("physics", f"a {length:.2f} m pendulum: pulled back and released, the bob swings with period "
                      f"2π√(L/g) = {2 * math.pi * math.sqrt(length / g):.2f} s and returns through the targets")
    b.note("controls", f"swing gives the bob {v * b.params.strength:.2f} m/s away from the targets; it swings back")
    b.goal("all_knocked", f"score >= {n}")
    b.camera((1.0, -4.0, pivot_z * 0.7), (0.5, 0, pivot_z / 2), 50)
    b.prove("the released bob swings back and knocks a target", "score >= 1", 420, {5: {"p1": {"swing": 1}}})


def _joint(name, type_, parent, child, pa, ca, axis) -> Joint:
    return Joint(name=name, type=type_, parent=parent, child=child, parent_anchor=pa, child_anchor=ca, axis=axis)


def _cradle(b: Builder) -> None:
    ball = b.pick("steel ball", among=("steel ball", "ball", "marble", "billiard ball", "bowling ball"))
    n = b.count(ball, 5, 2, 12)
    sc = b.mention(ball).scale if b.mention(ball) else 1.0
    r = kb.half_extents(ball, sc)[0]
    length = max(0.2, 10 * r)
    pivot_z = length + r + 0.15
    spacing = 2 * r + 0.002 * b.params.spacing
    half = (n - 1) * spacing / 2 + 0.1
    b.floor("wood", color=(0.3, 0.2, 0.12))
    b.box("bar", (0, 0, pivot_z + 0.01), (2 * half + 0.05, 0.03, 0.02), kind="beam", material="steel",
          color="silver", tags=("frame",))
    for sx in (-1, 1):
        b.box(f"post_{'ew'[sx < 0]}", (sx * (half + 0.02), 0, (pivot_z + 0.02) / 2), (0.02, 0.03, pivot_z + 0.02),
              kind="post", material="steel", color="silver", tags=("frame",))
    for i in range(n):
        x = (i - (n - 1) / 2) * spacing
        e = b.make(ball, f"ball_{i + 1}", (x, 0, pivot_z - length - r), role="bob", on_ground=False, scale=sc,
                   material="steel" if not (b.mention(ball) and b.mention(ball).material) else None)
        e = e.model_copy(update={"material": e.material.model_copy(update={"restitution": 1.0, "linear_damping": 0.0,
                                                                           "angular_damping": 0.0, "friction": 0.1})})
        b.entities[-1] = e
        b.joints.append(_joint(f"string_{i + 1}", "hinge", "bar", e.name, (x, 0, -0.01), (0, 0, length + r),
                               (0, 1, 0)))
    b.physics.update(substeps=8)
    m = b.entities[-1].mass
    b.control("p1", "swing", type="button", target="ball_1", apply="impulse", direction=(-1, 0, 0),
              strength=m * 0.8, keys=["space"])
    b.var("clicks", 0, min=0)
    b.rule("click", {"event": "collision", "a": "bob", "b": "bob", "min_impulse": 0.005},
           [{"do": "add", "var": "clicks", "value": 1}, {"do": "sound", "sound": "click", "volume": 0.6}])
    b.note("layout", f"{n} balls of radius {r * 100:.1f} cm hang {spacing * 100:.2f} cm apart on {length:.2f} m "
                     "hinges: 2 mm gaps pass each knock along the row one ball at a time")
    b.note("rules", "every ball-on-ball knock above 0.005 N·s is a click")
    b.goal("hundred_clicks", "clicks >= 100", "done")
    b.camera((0, -1.2 - n * spacing, pivot_z), (0, 0, pivot_z / 2), 45)
    b.prove("a swing passes the knock along the row", f"clicks >= 1 and speed(ball_{n}) + abs(x(ball_{n}) - "
            f"{(n - 1) / 2 * spacing:.4f}) > 0.001", 180, {5: {"p1": {"swing": 1}}})


# ---------------------------------------------------------------- levers


@template("lever", "Seesaw")
def lever(b: Builder) -> None:
    load = b.pick("ball", among=("ball", "block", "box", "crate", "rock", "stone", "person", "apple", "tennis ball",
                                 "beach ball", "bean bag"))
    b.floor("wood")
    plank_len, thick, pivot_z = 3.0, 0.05, 0.45
    # the plank rests tipped, its loaded (+x) end on the floor: sin α = (pivot height − half thickness) / half length
    alpha = math.asin((pivot_z - thick / 2) / (plank_len / 2))
    ad = math.degrees(alpha)
    u = (math.cos(alpha), 0.0, -math.sin(alpha))  # along the plank toward the loaded end
    nrm = (math.sin(alpha), 0.0, math.cos(alpha))  # the plank's up
    b.make("fulcrum", "fulcrum", (0, 0, 0), rotation=(90, 0, 0), on_ground=False, static=True)
    b.entities[-1] = b.entities[-1].model_copy(update={"position": (0.0, 0.0, pivot_z - thick / 2 - 0.11)})
    plank = b.make("seesaw", "seesaw", (0, 0, 0), on_ground=False, role="lever", rotation=(0, ad, 0))
    plank = plank.model_copy(update={"position": (0.0, 0.0, pivot_z)})
    b.entities[-1] = plank
    b.joints.append(_joint("pivot", "hinge", "world", plank.name, (0, 0, pivot_z), (0, 0, 0), (0, 1, 0)))

    def on_plank(d: float, h: float) -> tuple[float, float, float]:
        return (u[0] * d + nrm[0] * h, 0.0, pivot_z + u[2] * d + nrm[2] * h)

    lip = b.box("lip", on_plank(plank_len / 2 - 0.03, thick / 2 + 0.06), (0.06, 0.3, 0.12), kind="stop",
                rotation=(0, ad, 0), color="grey", tags=("lip",))
    b.entities[-1] = lip.model_copy(update={"static": False, "mass": 0.5})
    b.joints.append(_joint("lip_weld", "fixed", plank.name, lip.name, (plank_len / 2 - 0.03, 0, thick / 2 + 0.06),
                           (0, 0, 0), (0, 1, 0)))
    hz = kb.half_extents(load)[2]
    it = b.make(load, "load", (0, 0, 0), role="load", on_ground=False,
                rotation=(0, ad, 0) if kb.KINDS[load].shape != "sphere" else (0, 0, 0))
    b.entities[-1] = it.model_copy(update={"position": on_plank(plank_len / 2 - 0.07 - max(kb.half_extents(load)[:2]),
                                                                thick / 2 + hz + 0.002)})
    b.control("p1", "stomp", type="axis", range=(-1, 1), target=plank.name, apply="torque", direction=(0, -1, 0),
              strength=min(4000.0, 60 * plank.mass), keys=["left", "right"])
    high_z = pivot_z + 1.2
    end = plank_len / 2 * math.cos(alpha)
    b.zone("sky", (end, 0, high_z + 1.0), (3.0, 2.0, 2.0), kind="target zone", color=(0.6, 0.8, 1.0), tags=("sky",))
    b.var("score", 0, min=0)
    b.rule("launched", {"event": "enter", "zone": "sky", "tag": "load"},
           [{"do": "add", "var": "score", "value": 1}, {"do": "message", "text": "Launched!"},
            {"do": "sound", "sound": "boing"}], cooldown=1.0)
    b.note("physics", f"a {plank_len:.1f} m seesaw hinged {pivot_z:.2f} m up rests tipped {ad:.0f}° with its loaded "
                      f"end on the floor; a lip welded to that end holds the {b.noun_for(load)}")
    b.note("controls", "stomp turns the plank about its pivot (a torque), flinging whatever sits on the high end")
    b.goal("launch_three", "score >= 3")
    b.camera((0, -5.0, 1.8), (0, 0, 1.0), 50, mode="side")
    b.prove("stomping the seesaw launches the load above 1.2 m", "score >= 1", 240,
            {t: {"p1": {"stomp": 1}} for t in range(10, 40)})


# ---------------------------------------------------------------- sliding


@template("sliding", "Curling")
def sliding(b: Builder) -> None:
    stone = b.pick("curling stone", among=("curling stone", "shuffleboard puck", "puck", "coin", "ice cube",
                                           "bean bag", "block", "crate"))
    shuffle = stone == "shuffleboard puck" or "shuffleboard" in b.intent.text
    sc = b.mention(stone).scale if b.mention(stone) else 1.0
    dist = (6.0 if shuffle else 20.0) + b.jitter(1.0) * (b.params.attempt == 0)
    surface = "polished_wood" if shuffle else "ice"
    width = 2.0 if shuffle else 4.5
    b.floor(surface, color=(0.93, 0.96, 1.0) if surface == "ice" else None)
    b.walls(dist / 2 + 1, 0, dist + 6, width, height=0.2, material="rubber_soft", color=(0.3, 0.3, 0.6))
    house = 0.6 if shuffle else 1.83
    b.zone("house", (dist, 0, 0.05), (2 * house, 2 * house, 0.1), kind="target zone", color=(0.2, 0.4, 0.9),
           tags=("house",))
    n = b.count(stone, 4, 1, 8)
    first = None
    for i in range(n):
        e = b.make(stone, f"stone_{i + 1}", (-0.8 * (i > 0), (i - (n - 1) / 2) * 0.5 * (i > 0), 0), role="stone",
                   scale=sc, color="red" if i % 2 == 0 else "yellow")
        first = first or e
    mu = first.material.friction * kb.material(surface).friction
    g = max(g_down(b), 0.1)
    v = math.sqrt(2 * mu * g * dist)
    b.note("physics", f"sliding friction μ = {first.material.friction:.2f} × {kb.material(surface).friction:.2f} = "
                      f"{mu:.3f} decelerates at μg = {mu * g:.2f} m/s², so reaching the house {dist:.1f} m away "
                      f"needs v = √(2μgd) = {v:.2f} m/s", friction=round(mu, 4), speed=round(v, 3))
    first_mat = first.material.model_copy(update={"linear_damping": 0.0, "angular_damping": 0.2})
    b.entities[[e.name for e in b.entities].index(first.name)] = first.model_copy(update={"material": first_mat})
    b.control("p1", "slide", type="button", target=first.name, apply="impulse", direction=(1, 0, 0),
              strength=first.mass * v, keys=["space"])
    b.control("p1", "sweep", type="axis", range=(-1, 1), target=first.name, apply="velocity", direction=(0, 1, 0),
              strength=0.2, keys=["left", "right"])
    b.var("score", 0, min=0)
    b.rule("in_house", {"event": "enter", "zone": "house", "tag": "stone"},
           [{"do": "add", "var": "score", "value": 1}, {"do": "sound", "sound": "stone_slide"}])
    b.rule("out_of_house", {"event": "leave", "zone": "house", "tag": "stone"},
           [{"do": "add", "var": "score", "value": -1}])
    b.note("rules", "score counts stones resting in the house: entering adds one, leaving takes it back")
    b.goal("full_house", f"score >= {n}")
    b.camera((-3.0, 0, 2.0), (dist, 0, 0), 40)
    b.camera((dist, 0, 8), (dist, 0, 0), 50, name="top", mode="top_down")
    b.prove("a slide stops in the house", "score >= 1", 60 * int(2 * dist / max(v, 0.5) + 3),
            {5: {"p1": {"slide": 1}}})


# ---------------------------------------------------------------- tilt maze


@template("tilt_maze", "Tilt maze")
def tilt_maze(b: Builder) -> None:
    ball = b.pick("marble", among=("marble", "ball", "steel ball", "golf ball"))
    cells = 4 + int(b.rng.integers(0, 3))
    cell = 0.4
    size = cells * cell
    b.floor("wood", color=(0.6, 0.45, 0.3))
    # a seeded depth-first maze: every cell reachable, one path between any two
    walls = {(x, y, d) for x in range(cells) for y in range(cells) for d in "NE"}
    seen, stack = {(0, 0)}, [(0, 0)]
    while stack:
        x, y = stack[-1]
        nbrs = [(x + dx, y + dy, w) for dx, dy, w in ((1, 0, "E"), (-1, 0, "W"), (0, 1, "N"), (0, -1, "S"))
                if 0 <= x + dx < cells and 0 <= y + dy < cells and (x + dx, y + dy) not in seen]
        if not nbrs:
            stack.pop()
            continue
        nx, ny, w = nbrs[int(b.rng.integers(len(nbrs)))]
        if w == "E":
            walls.discard((x, y, "E"))
        elif w == "W":
            walls.discard((nx, ny, "E"))
        elif w == "N":
            walls.discard((x, y, "N"))
        else:
            walls.discard((nx, ny, "N"))
        seen.add((nx, ny))
        stack.append((nx, ny))
    h, t = 0.08, 0.03
    b.walls(0, 0, size, size, height=h, thick=t, color=(0.3, 0.2, 0.1))
    o = -size / 2
    k = 0
    for (x, y, d) in sorted(walls):
        if d == "E" and x < cells - 1:
            k += 1
            b.box(f"maze_wall_{k}", (o + (x + 1) * cell, o + (y + 0.5) * cell, h / 2), (t, cell + t, h),
                  kind="maze wall", color=(0.3, 0.2, 0.1), tags=("wall",))
        if d == "N" and y < cells - 1:
            k += 1
            b.box(f"maze_wall_{k}", (o + (x + 0.5) * cell, o + (y + 1) * cell, h / 2), (cell + t, t, h),
                  kind="maze wall", color=(0.3, 0.2, 0.1), tags=("wall",))
    goal_c = (cells - 1, cells - 1)
    b.zone("exit_hole", (o + (goal_c[0] + 0.5) * cell, o + (goal_c[1] + 0.5) * cell, 0.03),
           (cell - 0.08, cell - 0.08, 0.06), kind="hole", color="black", tags=("hole",))
    sc = min(1.0, 0.1 / kb.extent(ball)) if kb.extent(ball) > 0.1 else 1.0
    bl = b.make(ball, "marble", (o + cell / 2, o + cell / 2, 0), role="ball", scale=sc)
    bl = bl.model_copy(update={"material": bl.material.model_copy(update={"angular_damping": 5.0})})
    b.entities[-1] = bl  # spin would carry it past a turn; the board's walls stop it instead
    speed = 0.8
    b.control("p1", "tilt_x", type="axis", range=(-1, 1), target=bl.name, apply="velocity", direction=(1, 0, 0),
              strength=speed, keys=["left", "right"])
    b.control("p1", "tilt_y", type="axis", range=(-1, 1), target=bl.name, apply="velocity", direction=(0, 1, 0),
              strength=speed, keys=["down", "up"])
    b.note("controls", "tilting the board rolls the marble downhill; the tilt axes set the marble's rolling "
                       f"velocity in x and y (up to {speed} m/s)")
    # reachability: the path from start to the exit through the maze (breadth-first search)
    path = _maze_path(cells, walls, (0, 0), goal_c)
    b.note("layout", f"a {cells}×{cells} maze of {cell * 100:.0f} cm cells generated from the seed; the exit is "
                     f"reachable in {len(path) - 1} moves: {' '.join(path_dirs(path))}", path_len=len(path) - 1)
    b.var("score", 0, min=0)
    b.rule("escaped", {"event": "enter", "zone": "exit_hole", "tag": "ball"},
           [{"do": "add", "var": "score", "value": 1}, {"do": "message", "text": "Out!"},
            {"do": "sound", "sound": "chime"}], once=True)
    b.goal("escape", "score >= 1")
    b.var("time_left", 60, min=0, rate=-1)
    b.goal("too_slow", "time_left <= 0", "lose")
    b.camera((0, -size * 0.6, size * 1.4), (0, 0, 0), 50)
    script: dict[int, dict] = {}
    tick = 5
    steps = int(cell / speed * 60)
    for (x0, y0), (x1, y1) in zip(path, path[1:]):
        act = {"tilt_x": float(x1 - x0), "tilt_y": float(y1 - y0)}
        for t in range(tick, tick + steps):
            script[t] = {"p1": act}
        tick += steps
        for t in range(tick, tick + 3):  # stop at the cell centre
            script[t] = {"p1": {"tilt_x": 0.0, "tilt_y": 0.0}}
        tick += 3
    b.prove("following the maze's path reaches the exit", "score >= 1", tick + 60, script)


def _maze_path(cells, walls, start, goal):
    from collections import deque

    def open_(a, bb):
        (x0, y0), (x1, y1) = a, bb
        if x1 == x0 + 1:
            return (x0, y0, "E") not in walls
        if x1 == x0 - 1:
            return (x1, y1, "E") not in walls
        if y1 == y0 + 1:
            return (x0, y0, "N") not in walls
        return (x1, y1, "N") not in walls

    prev = {start: None}
    q = deque([start])
    while q:
        c = q.popleft()
        if c == goal:
            break
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nb = (c[0] + dx, c[1] + dy)
            if 0 <= nb[0] < cells and 0 <= nb[1] < cells and nb not in prev and open_(c, nb):
                prev[nb] = c
                q.append(nb)
    path, c = [], goal
    while c is not None:
        path.append(c)
        c = prev[c]
    return path[::-1]


def path_dirs(path):
    names = {(1, 0): "E", (-1, 0): "W", (0, 1): "N", (0, -1): "S"}
    return [names[(b[0] - a[0], b[1] - a[1])] for a, b in zip(path, path[1:])]


# ---------------------------------------------------------------- slopes


@template("slope", "Downhill")
def slope(b: Builder) -> None:
    rider = b.pick("sled", among=("sled", "boulder", "ball", "barrel", "tyre", "crate", "box", "cart", "toy car",
                                  "person", "snowball"))
    angle = 18.0 + b.jitter(3.0) * (b.params.attempt == 0)
    length = 14.0
    th = math.radians(angle)
    drop = length * math.sin(th)
    run = length * math.cos(th)
    b.floor("snow")
    b.box("hill", (run / 2, 0, drop / 2 - 0.15 / math.cos(th)), (length, 5.0, 0.3), kind="slope", material="snow",
          rotation=(0, angle, 0), color="white", tags=("slope",))
    b.box("summit", (-1.0, 0, drop / 2 - 0.001), (2.0, 5.0, drop), kind="platform", material="snow", color="white",
          tags=("summit",))
    e = b.make(rider, "rider", (-0.7, 0, drop), role="rider")
    if rider == "sled" or kb.KINDS[rider].shape == "box":
        e = e.model_copy(update={"material": e.material.model_copy(update={"friction": 0.05, "linear_damping": 0.02})})
        b.entities[-1] = e
    n_obst = b.count("tree", 4, 0, 20) if b.mentioned("tree", "rock", "cone", "flag") or "obstacle" in b.intent.text \
        else 0
    ok = b.mentioned("tree", "rock", "cone", "flag") or "tree"
    for i in range(n_obst):
        s = 3 + (length - 5) * (i + 0.5) / max(n_obst, 1)
        y = (1.2 + b.rng.uniform(0, 0.8)) * (1 if i % 2 else -1)
        b.make(ok, f"obstacle_{i + 1}", (s * math.cos(th), y, drop - s * math.sin(th) - 0.05), static=True,
               role="obstacle")
    b.zone("finish", (run + 3.0, 0, 1.0), (1.0, 6.0, 2.0), kind="target zone", color="red", tags=("finish",))
    b.walls(run + 6, 0, 8, 6, height=1.0, gaps=("west",), color=(0.6, 0.6, 0.7))
    b.control("p1", "push_off", type="button", target=e.name, apply="impulse", direction=(1, 0, 0),
              strength=e.mass * 2.5, keys=["space"])
    b.control("p1", "steer", type="axis", range=(-1, 1), target=e.name, apply="velocity", direction=(0, 1, 0),
              strength=1.0, keys=["left", "right"])
    mu = e.material.friction * kb.material("snow").friction
    b.note("physics", f"a {angle:.0f}° hill {length:.0f} m long drops {drop:.1f} m; the {b.noun_for(rider)} "
                      f"slides when tan θ = {math.tan(th):.2f} exceeds μ = {mu:.3f}", angle_deg=round(angle, 1))
    b.note("controls", "push_off launches the rider from the flat summit; steer dodges obstacles (kept off the "
                       "centre line, so the straight run is clear)")
    b.var("score", 0, min=0)
    b.var("run_time", 0, min=0, rate=1)
    b.rule("finish", {"event": "enter", "zone": "finish", "tag": "rider"},
           [{"do": "add", "var": "score", "value": 1}, {"do": "message", "text": "Finished!"},
            {"do": "sound", "sound": "fanfare"}, {"do": "end", "outcome": "win"}], once=True)
    b.goal("crash", "z(rider) < -1", "lose")
    b.camera((-4.0, -6.0, drop + 3), (run / 2, 0, drop / 2), 55)
    b.camera((-2.5, 0, 1.5), (0, 0, 0), 60, name="chase", mode="follow", follow="rider")
    b.prove("pushed off, the rider reaches the finish", "score >= 1", 600, {5: {"p1": {"push_off": 1}}})


# ---------------------------------------------------------------- push to target


@template("push", "Push to target")
def push(b: Builder) -> None:
    agent = b.pick("robot", among=("robot", "person", "cart", "car", "toy car", "paddle"))
    thing = b.pick("crate", among=("crate", "box", "block", "barrel", "ball", "boulder", "rock", "cart", "brick",
                                   "curling stone", "puck", "cone", "can"))
    n = b.count(thing, 1, 1, 6)
    half = 3.0 + 0.5 * (n > 2)
    b.floor("stone", color=(0.55, 0.55, 0.5))
    b.walls(0, 0, 2 * half, 2 * half, height=0.6, thick=0.2)
    hx = max(kb.half_extents(thing)[:2])
    ys = spread(n, min(2 * half - 1.5, 1.4 * n))
    x_c = -0.8 + b.jitter(0.3) * (b.params.attempt == 0)
    x_t = 1.6 + b.jitter(0.3) * (b.params.attempt == 0)
    pad = max(1.0, 2 * hx + 0.4)
    for i, y in enumerate(ys, 1):
        b.make(thing, f"{b.noun_for(thing)}_{i}", (x_c, y, 0), role="cargo", tags=("crate",) if thing != "crate"
               else ())
        b.zone(f"target_{i}", (x_t, y, 0.3), (pad, pad * 0.9, 0.6), kind="target zone", color=(0.2, 0.8, 0.3),
               tags=("target",))
    a = b.make(agent, "agent", (x_c - hx - 0.9, ys[0], 0), role="agent")
    if agent == "person":
        a = a.model_copy(update={"material": a.material.model_copy(update={"angular_damping": 5.0})})
        b.entities[-1] = a
    speed = 1.0
    b.control("p1", "move_x", type="axis", range=(-1, 1), target=a.name, apply="velocity", direction=(1, 0, 0),
              strength=speed, keys=["a", "d"])
    b.control("p1", "move_y", type="axis", range=(-1, 1), target=a.name, apply="velocity", direction=(0, 1, 0),
              strength=speed, keys=["s", "w"])
    b.var("score", 0, min=0)
    for i in range(1, n + 1):
        b.rule(f"delivered_{i}", {"event": "enter", "zone": f"target_{i}", "tag": "cargo"},
               [{"do": "add", "var": "score", "value": 1}, {"do": "sound", "sound": "chime"},
                {"do": "message", "text": "Delivered!"}])
        b.rule(f"undelivered_{i}", {"event": "leave", "zone": f"target_{i}", "tag": "cargo"},
               [{"do": "add", "var": "score", "value": -1}])
    b.goal("all_delivered", f"score >= {n}")
    b.note("layout", f"{n} {b.noun_for(thing)}(s) {x_t - x_c:.1f} m from their green pads in a {2 * half:.0f} m "
                     f"walled yard; the {b.noun_for(agent)} starts behind the first, in line with its pad "
                     "(reachability)")
    b.note("controls", f"move_x / move_y drive the {b.noun_for(agent)} at up to {speed} m/s; it pushes by contact")
    b.note("rules", "score counts cargo on pads: entering a pad adds one, leaving takes it back")
    b.camera((-1.0, -2 * half, 1.6 * half), (0, 0, 0), 50)
    b.camera((0, 0, 3 * half), (0, 0, 0), 60, name="top", mode="top_down")
    drive = int((x_t - x_c + 1.3) / speed * 60)
    b.prove(f"driving straight pushes the first {b.noun_for(thing)} onto its pad", "score >= 1", drive + 120,
            {t: {"p1": {"move_x": 1}} for t in range(10, 10 + drive)})


# ---------------------------------------------------------------- zero gravity


@template("zero_g", "Zero gravity")
def zero_g(b: Builder) -> None:
    b.physics["gravity"] = (0.0, 0.0, 0.0)
    floater = b.pick("asteroid", among=("asteroid", "ball", "crate", "box", "block", "rock", "balloon", "beach ball",
                                        "apple", "can", "book", "boulder", "cup", "bottle"))
    n = b.count(floater, 8, 1, 60)
    half = 6.0
    b.physics["bounds"] = ((-half - 2, -half - 2, -2), (half + 2, half + 2, 2 * half + 2))
    b.walls(0, 0, 2 * half, 2 * half, height=2 * half, thick=0.3, material="metal", color=(0.15, 0.15, 0.2))
    b.box("deck", (0, 0, -0.15), (2 * half + 0.6, 2 * half + 0.6, 0.3), kind="floor", material="metal",
          color=(0.1, 0.1, 0.15), tags=("ground",))
    b.box("ceiling", (0, 0, 2 * half + 0.15), (2 * half + 0.6, 2 * half + 0.6, 0.3), kind="wall", material="metal",
          color=(0.1, 0.1, 0.15), tags=("wall",), visible=False)
    ship_kind = b.pick("robot", among=("robot", "person", "car", "cart"))
    ship = b.make(ship_kind, "ship", (-half + 1.5, 0, half), role="ship", on_ground=False)
    pk = b.pick("coin", among=("coin", "apple", "ball", "tennis ball", "cup"))
    size = kb.extent(floater)
    placed = [(ship.position[0], ship.position[1], ship.position[2])]
    # the first pickup floats straight ahead of the ship, at rest (reachability)
    pickups = [(ship.position[0] + 3.0, 0.0, half)]
    for i in range(n):
        for _ in range(50):
            p = (b.rng.uniform(-half + 1, half - 1), b.rng.uniform(-half + 1, half - 1), b.rng.uniform(1, 2 * half - 1))
            if abs(p[1]) < 1.0 and abs(p[2] - half) < 1.0:
                continue  # keep the lane to the first pickup clear
            if all(math.dist(p, q) > size + 0.6 for q in placed + pickups):
                break
        placed.append(p)
        e = b.make(floater, f"{b.noun_for(floater)}_{i + 1}", p, role="floater", on_ground=False)
        v = tuple(round(b.rng.uniform(-0.3, 0.3), 3) for _ in range(3))
        b.entities[-1] = e.model_copy(update={"velocity": v, "material": e.material.model_copy(update={
            "linear_damping": 0.0, "angular_damping": 0.0, "restitution": 0.8})})
        b.movers.add(e.name)
    for i in range(3):
        if i > 0:
            pickups.append((b.rng.uniform(-half + 1, half - 1), b.rng.uniform(-half + 1, half - 1),
                            b.rng.uniform(1, 2 * half - 1)))
        e = b.make(pk, f"pickup_{i + 1}", pickups[i], role="pickup", on_ground=False, scale=4.0 if pk == "coin" else 1)
        b.entities[-1] = e.model_copy(update={"material": e.material.model_copy(update={"linear_damping": 0.0})})
    ship = b.entities[[e.name for e in b.entities].index("ship")]
    b.entities[[e.name for e in b.entities].index("ship")] = ship.model_copy(update={
        "material": ship.material.model_copy(update={"linear_damping": 0.3, "angular_damping": 2.0})})
    thrust = ship.mass * 2.0
    for axis, d, keys in (("thrust_x", (1, 0, 0), ["a", "d"]), ("thrust_y", (0, 1, 0), ["s", "w"]),
                          ("thrust_z", (0, 0, 1), ["down", "up"])):
        b.control("p1", axis, type="axis", range=(-1, 1), target="ship", apply="force", direction=d,
                  strength=thrust, keys=keys)
    b.var("score", 0, min=0)
    b.rule("collect", {"event": "collision", "a": "ship", "b": "pickup"},
           [{"do": "add", "var": "score", "value": 1}, {"do": "destroy", "target": "$other"},
            {"do": "sound", "sound": "chime"}])
    b.rule("bump", {"event": "collision", "a": "ship", "b": "floater", "min_impulse": 1.0},
           [{"do": "sound", "sound": "thud"}], cooldown=0.3)
    b.goal("collect_all", "score >= 3")
    b.note("physics", "gravity is zero: nothing falls; floaters drift at up to 0.3 m/s and bounce off the walls "
                      "(damping 0, restitution 0.8), so they are expected to move while settling")
    b.note("controls", f"thrusters push the {b.noun_for(ship_kind)} with {thrust:.0f} N along x, y and z "
                       "(Newton's first law: it keeps drifting until it thrusts the other way)")
    b.note("rules", "touching a pickup collects it (score + 1, removed)")
    b.camera((-half, -half * 1.6, half * 1.6), (0, 0, half), 60)
    b.camera((-3, 0, 1.0), (0, 0, 0), 60, name="chase", mode="follow", follow="ship")
    b.prove("thrusting straight ahead collects the first pickup", "score >= 1", 240,
            {t: {"p1": {"thrust_x": 1}} for t in range(5, 65)})
