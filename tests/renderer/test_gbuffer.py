"""renderer.gbuffer: exact depth, normals, segmentation and motion on analytic scenes built here."""

from __future__ import annotations

import math

import numpy as np
import pybullet as p
import pytest

from physics.simulation import Simulation
from renderer.gbuffer import FAR, GBuffer, Scene, View, gbuffer, poses
from worldgen.spec import Appearance, Box, Camera, Capsule, Cylinder, Entity, Material, Plane, Sphere, WorldSpec

SIZE = (65, 65)  # odd: the middle pixel's ray is the camera's forward axis
EYE, TARGET, FOV = (0.0, -5.0, 0.5), (0.0, 0.0, 0.5), 50.0
SLICK = Material(name="ice", friction=0.0, linear_damping=0.0, angular_damping=0.0)


def _spec(**extra) -> WorldSpec:
    ents = [
        Entity(name="floor", kind="floor", shape=Plane(), static=True, appearance=Appearance(color=(0.5, 0.4, 0.3),
                                                                                              look="wood")),
        Entity(name="ball", kind="ball", shape=Sphere(radius=0.5), position=(0, 0, 0.5), static=True,
               appearance=Appearance(color=(0.9, 0.1, 0.1), look="plastic")),
        Entity(name="crate", kind="crate", shape=Box(size=(0.4, 0.4, 0.4)), position=(1.2, 0, 0.6), mass=1.0,
               material=SLICK, appearance=Appearance(color=(0.2, 0.3, 0.9), look="metal"), **extra),
        Entity(name="ghost", kind="crate", shape=Box(size=(0.3, 0.3, 0.3)), position=(-1.2, 0, 0.6), static=True,
               appearance=Appearance(visible=False)),
        Entity(name="zone", kind="zone", shape=Box(size=(0.3, 0.3, 0.3)), position=(-1.2, 0, 1.2), static=True,
               sensor=True),
    ]
    return WorldSpec(physics={"gravity": (0, 0, 0)}, entities=ents,
                     cameras=[Camera(name="front", position=EYE, target=TARGET, fov_deg=FOV),
                              Camera(name="chase", mode="follow", follow="crate", position=(1.2, -4.0, 1.5),
                                     target=(1.2, 0.0, 0.6), fov_deg=FOV)])


@pytest.fixture
def sim():
    s = Simulation(_spec())
    yield s
    s.close()


def _project(points, eye=EYE, target=TARGET, size=SIZE, fov=FOV) -> np.ndarray:
    """Independent pinhole projection to continuous (x right, y down) pixel coordinates."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    f = (target - eye) / np.linalg.norm(target - eye)
    r = np.cross(f, [0, 0, 1.0])
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    v = np.asarray(points, float) - eye
    z = v @ f
    t = math.tan(math.radians(fov) / 2)
    w, h = size
    return np.stack([w / 2 + (v @ r) / z / (t * w / h) * w / 2, h / 2 - (v @ u) / z / t * h / 2], -1)


def _ray(row: int, col: int) -> np.ndarray:
    f, r = np.array([0, 1.0, 0]), np.array([1.0, 0, 0])
    u = np.array([0, 0, 1.0])
    t = math.tan(math.radians(FOV) / 2)
    d = f + ((col + 0.5) / SIZE[0] * 2 - 1) * t * r + (1 - (row + 0.5) / SIZE[1] * 2) * t * u
    return d / np.linalg.norm(d)


def test_sphere_depth_and_normal(sim):
    g = gbuffer(sim, SIZE, "front")
    assert isinstance(g, GBuffer) and g.albedo.shape == (65, 65, 3) and g.albedo.dtype == np.uint8
    assert g.depth.dtype == np.float32 and g.normal.shape == (65, 65, 3) and g.motion.shape == (65, 65, 2)
    assert g.segmentation.dtype == np.int32 and g.world_pos.shape == (65, 65, 3)
    c = 32
    assert g.segmentation[c, c] == g.names.index("ball")
    assert g.depth[c, c] == pytest.approx(4.5, abs=1e-5)
    np.testing.assert_allclose(g.normal[c, c], [0, -1, 0], atol=1e-6)  # straight back at the camera
    np.testing.assert_allclose(g.world_pos[c, c], [0, -0.5, 0.5], atol=1e-5)
    for row, col in ((32, 36), (28, 30), (35, 29)):  # off-centre pixels on the sphere: analytic ray/sphere hit
        d = _ray(row, col)
        o = np.asarray(EYE) - np.array([0, 0, 0.5])
        b = o @ d
        t = -b - math.sqrt(b * b - (o @ o - 0.25))
        hit = np.asarray(EYE) + t * d
        assert g.segmentation[row, col] == g.names.index("ball")
        np.testing.assert_allclose(g.world_pos[row, col], hit, atol=1e-5)
        np.testing.assert_allclose(g.normal[row, col], (hit - [0, 0, 0.5]) / 0.5, atol=1e-5)
        assert g.depth[row, col] == pytest.approx(hit[1] - EYE[1], abs=1e-5)  # along the forward axis (+y)
        assert g.normal[row, col] @ d < 0  # faces the camera


def test_floor_normal_depth_and_segments(sim):
    g = gbuffer(sim, SIZE, "front")
    row, col = 60, 10
    assert g.segmentation[row, col] == g.names.index("floor")
    np.testing.assert_allclose(g.normal[row, col], [0, 0, 1], atol=1e-7)
    d = _ray(row, col)
    t = -EYE[2] / d[2]
    assert g.depth[row, col] == pytest.approx(t * d[1], rel=1e-5)
    assert abs(g.world_pos[row, col, 2]) < 1e-5
    ids = set(np.unique(g.segmentation).tolist())
    assert ids == {-1, g.names.index("floor"), g.names.index("ball"), g.names.index("crate")}  # no ghost, no zone
    assert g.names == tuple(sim.entity_names) and g.looks[g.names.index("crate")] == "metal"
    np.testing.assert_array_equal(g.albedo[32, 32], [230, 26, 26])  # the ball's flat colour
    norms = np.linalg.norm(g.normal[g.segmentation >= 0], axis=-1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-6)


def test_background_pixels(sim):
    g = gbuffer(sim, SIZE, "front", prev_poses=poses(sim))
    bg = g.segmentation == -1
    assert bg[0].all()  # the top row looks over the horizon... into the sky
    assert (g.depth[bg] == FAR).all() and (g.normal[bg] == 0).all() and (g.motion[bg] == 0).all()
    assert (g.world_pos[bg] == 0).all()
    np.testing.assert_array_equal(g.albedo[0, 0], np.round(np.asarray(sim.spec.style.background) * 255))


def test_motion_of_a_known_translation(sim):
    crate = sim.live("crate").body
    p.resetBaseVelocity(crate, [6.0, 0, 0], [0, 0, 0], physicsClientId=sim.client)  # 0.1 m in one 1/60 s tick
    prev = poses(sim)
    sim.step()
    (x, y, z), _ = sim.pose("crate")
    assert (x, y, z) == pytest.approx((1.3, 0.0, 0.6), abs=1e-9)
    g = gbuffer(sim, SIZE, "front", prev_poses=prev)
    on = g.segmentation == g.names.index("crate")
    assert on.sum() > 20
    pts = g.world_pos[on].astype(np.float64)
    expected = _project(pts) - _project(pts - [0.1, 0, 0])
    np.testing.assert_allclose(g.motion[on], expected, atol=0.5)
    assert np.abs(g.motion[on] - expected).max() < 1e-3  # exact, in fact
    assert (g.motion[on][:, 0] > 1.0).all()  # moving right on screen
    still = g.segmentation == g.names.index("ball")
    assert np.abs(g.motion[still]).max() < 1e-9  # fixed camera, static ball
    assert np.abs(gbuffer(sim, SIZE, "front").motion).max() == 0  # no prev_poses → zero motion


def test_motion_of_a_rotation_is_consistent(sim):
    crate = sim.live("crate").body
    p.resetBaseVelocity(crate, [0, 0, 0], [0, 0, 6.0], physicsClientId=sim.client)  # 0.1 rad per tick about z
    prev = poses(sim)
    sim.step()
    g = gbuffer(sim, SIZE, "front", prev_poses=prev)
    on = g.segmentation == g.names.index("crate")
    (pos, q), (pos0, q0) = sim.pose("crate"), prev["crate"]
    r_now = np.asarray(p.getMatrixFromQuaternion(q)).reshape(3, 3)
    r_prev = np.asarray(p.getMatrixFromQuaternion(q0)).reshape(3, 3)
    angle = math.atan2(r_now[1, 0], r_now[0, 0])
    assert angle == pytest.approx(0.1, abs=1e-6)
    pts = g.world_pos[on].astype(np.float64)
    before = (pts - pos) @ r_now @ r_prev.T + pos0
    np.testing.assert_allclose(g.motion[on], _project(pts) - _project(before), atol=1e-3)
    # points left of the axis (towards the camera... on the front face) move one way, the far side the other
    front_face = np.abs(pts[:, 1] - (-0.2 * (math.cos(0.1) + math.sin(0.1)))) < 0.25
    assert np.abs(g.motion[on][front_face]).max() > 0.2


def test_follow_camera_moves_the_view(sim):
    crate = sim.live("crate").body
    p.resetBaseVelocity(crate, [6.0, 0, 0], [0, 0, 0], physicsClientId=sim.client)
    prev = poses(sim)
    sim.step()
    g = gbuffer(sim, SIZE, "chase", prev_poses=prev)
    assert g.eye == pytest.approx((1.3, -4.0, 1.5)) and g.target == pytest.approx((1.3, 0.0, 0.6))
    on = g.segmentation == g.names.index("crate")
    assert np.abs(g.motion[on]).max() < 1e-6  # the camera rides along with the crate
    floor = g.segmentation == g.names.index("floor")
    pts = g.world_pos[floor].astype(np.float64)
    now = _project(pts, g.eye, g.target)
    before = _project(pts, (1.2, -4.0, 1.5), (1.2, 0.0, 0.6))
    np.testing.assert_allclose(g.motion[floor], now - before, atol=1e-3)
    assert (g.motion[floor][:, 0] < 0).all()  # the world slides left under a camera moving right
    assert g.motion[floor][:, 0].min() < -2.0  # the near floor faster than the far


def test_new_entity_has_unknown_motion(sim):
    prev = poses(sim)
    del prev["ball"]
    g = gbuffer(sim, SIZE, "front", prev_poses=prev)
    assert (g.motion[g.segmentation == g.names.index("ball")] == 0).all()


@pytest.mark.parametrize("shape", [Cylinder(radius=0.3, height=0.8), Capsule(radius=0.25, height=0.5)])
def test_cylinder_and_capsule_surfaces(shape):
    spec = WorldSpec(entities=[Entity(name="thing", kind="post", shape=shape, position=(0, 0, 0.5), rotation=(90, 0, 0),
                                      static=True)],
                     cameras=[Camera(name="front", position=EYE, target=TARGET, fov_deg=FOV)])
    s = Simulation(spec)
    g = gbuffer(s, SIZE)
    s.close()
    on = g.segmentation == 0
    assert on.sum() > 30
    pts = g.world_pos[on].astype(np.float64) - [0, 0, 0.5]
    # rotated 90° about x: the axis runs along world y, so a cap faces the camera
    r, hz = shape.radius, shape.height / 2
    if shape.type == "cylinder":
        assert g.normal[32, 32] == pytest.approx([0, -1, 0], abs=1e-6)
        assert g.depth[32, 32] == pytest.approx(5 - hz, abs=1e-5)
        side = np.abs(pts[:, 1]) < hz - 1e-4
        np.testing.assert_allclose(np.hypot(pts[side, 0], pts[side, 2]), r, atol=1e-5)
    else:
        assert g.depth[32, 32] == pytest.approx(5 - hz - r, abs=1e-5)
        axis = pts.copy()
        axis[:, [0, 2]] = 0
        axis[:, 1] = np.clip(pts[:, 1], -hz, hz)
        np.testing.assert_allclose(np.linalg.norm(pts - axis, axis=1), r, atol=1e-5)


def test_scene_rays_and_occlusion(sim):
    scene = Scene.from_sim(sim)
    assert len(scene) == 3  # floor, ball, crate: not the invisible box nor the sensor
    o = np.array([[0, -5, 0.5], [0, -5, 3.0], [0, 0, 3.0]])
    d = np.array([[0, 1.0, 0], [0, 1.0, 0], [0, 0, -1.0]])
    t, prim, n = scene.intersect(o, d)
    assert t == pytest.approx([4.5, math.inf, 2.0])
    assert [scene.names[scene.index[k]] if k >= 0 else None for k in prim] == ["ball", None, "ball"]
    assert scene.occlusion(o, d, tmax=np.array([4.0, 9.0, 2.5])).tolist() == [False, False, True]
    view = View(EYE, TARGET, (0, 0, 1), FOV, SIZE)
    np.testing.assert_allclose(view.project(np.array([[0, 0, 0.5]]))[0], [[32.5, 32.5]])


def test_a_box_reaching_behind_the_camera_is_culled_to_its_visible_part():
    """A long wall running past the camera: its screen rectangle is clipped at the near plane (not the whole
    screen), and the cast agrees with brute-force rays against every primitive."""
    ents = [Entity(name="floor", kind="floor", shape=Plane(), static=True),
            Entity(name="wall", kind="wall", shape=Box(size=(0.2, 12.0, 1.0)), position=(1.0, 0.0, 0.5), static=True),
            Entity(name="ball", kind="ball", shape=Sphere(radius=0.3), position=(-0.5, 3.0, 0.3), static=True)]
    spec = WorldSpec(entities=ents, cameras=[Camera(name="c", position=(0.0, -1.0, 0.6), target=(0.3, 3.0, 0.4),
                                                    fov_deg=60.0)])
    s = Simulation(spec, seed=0)
    gb = gbuffer(s, (96, 64))
    scene, view = gb.scene, gb.view
    wall = [k for k in range(len(scene)) if scene.names[scene.index[k]] == "wall"][0]
    _, z = view.project(np.array([[1.0, -6.0, 0.5]]))
    assert z[0] < 0  # the wall's far end is behind the camera
    x0, x1, y0, y1 = scene._screen_rects(view)[wall]
    assert 0 < x1 - x0 < 96 and x0 > 0  # the wall is on the right: not the whole screen
    t, prim, _ = scene.intersect(np.broadcast_to(np.asarray(view.eye), (96 * 64, 3)), view.rays().reshape(-1, 3),
                                 tmin=0.05)
    far = t * (view.rays().reshape(-1, 3) @ np.asarray(view.basis()[0])) > FAR  # the horizon: background
    brute = np.where((prim >= 0) & ~far, scene.index[np.maximum(prim, 0)], -1).reshape(64, 96)
    assert np.array_equal(gb.segmentation, brute)
    assert (gb.segmentation == s.entity_names.index("wall")).sum() > 200
    s.close()


def test_hybrid_method_agrees(sim):
    a, b = gbuffer(sim, SIZE, "front"), gbuffer(sim, SIZE, "front", method="hybrid")
    assert (a.segmentation == b.segmentation).mean() > 0.95
    inner = (a.segmentation == b.segmentation) & (a.segmentation >= 0)
    assert np.median((a.normal[inner] * b.normal[inner]).sum(-1)) > 0.999


def test_invalid_arguments(sim):
    with pytest.raises(ValueError, match="cameras: front, chase"):
        gbuffer(sim, SIZE, "nope")
    with pytest.raises(ValueError, match="size"):
        gbuffer(sim, (0, 64))
    with pytest.raises(ValueError, match="size"):
        gbuffer(sim, (64.5, 64))
    with pytest.raises(ValueError, match="methods: raycast, hybrid"):
        gbuffer(sim, SIZE, method="magic")


def test_example_world_is_deterministic():
    from worldgen.example_worlds import example_spec

    s = Simulation(example_spec("bowling"))
    a, b = gbuffer(s, (48, 32)), gbuffer(s, (48, 32))
    s.close()
    assert a.albedo.shape == (32, 48, 3)
    for name in ("albedo", "depth", "normal", "segmentation", "motion", "world_pos"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert len(set(np.unique(a.segmentation).tolist())) > 10


@pytest.mark.parametrize("world,camera", [("bowling", "main"), ("bowling", "pins"), ("cradle", "close"),
                                          ("billiards", "top"), ("push_crate", "chase")])
def test_coarse_cast_matches_the_exact_cast(world, camera):
    """Casting every 2nd ray and refining where unsure gives the exact ids, albedo and lines, and depth,
    normals, positions and motion equal up to interpolation inside smooth surfaces — for fewer rays."""
    from renderer.gbuffer import geometry_edges
    from worldgen.example_worlds import example_script, example_spec

    s = Simulation(example_spec(world), seed=0)
    script = example_script(world)
    for _ in range(100):
        s.step(script.get(s.tick))
    before = poses(s)
    s.step(script.get(s.tick))
    exact = gbuffer(s, (256, 192), camera, prev_poses=before)
    fast = gbuffer(s, (256, 192), camera, prev_poses=before, coarse=2)
    # with the coarse quarter, under 3/4 of the exact cast's rays
    assert fast.recast_fraction < 0.5 and exact.recast_fraction == 1.0
    assert np.array_equal(fast.segmentation, exact.segmentation)
    assert np.array_equal(fast.albedo, exact.albedo)
    assert np.array_equal(geometry_edges(fast.segmentation, fast.depth, fast.normal),
                          geometry_edges(exact.segmentation, exact.depth, exact.normal))
    hit = exact.segmentation >= 0
    assert np.abs(fast.depth - exact.depth)[hit].max() < 0.01 * exact.depth[hit].max()
    assert np.percentile(np.abs(fast.depth - exact.depth)[hit], 99) < 1e-3
    assert np.median((fast.normal[hit] * exact.normal[hit]).sum(-1)) > 0.9999
    assert np.abs(fast.world_pos - exact.world_pos).max() < 0.01
    assert np.abs(fast.motion - exact.motion).max() < 0.1
    s.close()


def test_coarse_cast_keeps_bodies_smaller_than_its_spacing(sim):
    """A body smaller than the coarse ray spacing is still found (its screen rectangle is cast in full)."""
    far = Entity(name="speck", kind="ball", shape=Sphere(radius=0.04), position=(0.9, 0.0, 1.2), static=True,
                 appearance=Appearance(color=(1.0, 1.0, 0.0)))
    s = Simulation(sim.spec.model_copy(update={"entities": [*sim.spec.entities, far]}), seed=0)
    exact, fast = gbuffer(s, (128, 128), "front"), gbuffer(s, (128, 128), "front", coarse=4)
    speck = exact.names.index("speck")
    assert 0 < (exact.segmentation == speck).sum() < 16
    assert not (gbuffer(s, (32, 32), "front").segmentation == speck).any()  # the coarse rays alone miss it
    assert np.array_equal(fast.segmentation, exact.segmentation)
    with pytest.raises(ValueError, match="coarse must be an integer in 1..8"):
        gbuffer(s, (64, 64), coarse=0)
    with pytest.raises(ValueError, match="coarse > 1 needs method='raycast'"):
        gbuffer(s, (64, 64), coarse=2, method="hybrid")
    s.close()
