"""Optional MuJoCo bridge: load a user-supplied MJCF, pose it from a RobotMotion, read body poses,
render frames offscreen.

``mujoco`` is imported inside the functions (it is an optional dependency). Joints are matched
**by name** between the motion and the model; the root pose goes to the model's first free joint
(a model without one is treated as fixed-base and the root is ignored). motionlab ships no robot
meshes: pass the official ``g1_29dof_rev_1_0.xml`` (unitree_ros) or your own model.
"""

from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from motionlab.errors import MotionLabError, choices_error

PathLike = Union[str, os.PathLike]


def load_mjcf(path: PathLike) -> Any:
    """Load an MJCF file as a ``mujoco.MjModel`` (errors become :class:`MotionLabError`)."""
    import mujoco

    if not os.path.isfile(path):
        raise MotionLabError("no such file", file=path, place="path")
    try:
        return mujoco.MjModel.from_xml_path(os.fspath(path))
    except (ValueError, mujoco.FatalError) as e:  # MuJoCo reports XML/compile errors as ValueError
        text = " ".join(str(e).replace("XML Error:", "").replace("Error:", "").split())
        raise MotionLabError(f"MuJoCo cannot load the model: {text[:300]}", file=path, place="model") from None


def _model(model_or_path: Any) -> Any:
    return load_mjcf(model_or_path) if isinstance(model_or_path, (str, os.PathLike)) else model_or_path


def qpos_from_motion(model: Any, motion) -> np.ndarray:
    """``(T, nq)`` generalised positions for ``model`` from a RobotMotion, joints by name.

    Model joints the motion does not name keep their ``qpos0`` value; a motion joint the model
    lacks is an error. Free joint: ``root_pos`` then ``root_quat`` (w first, MuJoCo's order).
    """
    import mujoco

    T = motion.num_frames
    qpos = np.tile(np.asarray(model.qpos0, dtype=np.float64), (T, 1))
    names = [model.joint(j).name for j in range(model.njnt)]
    free = [j for j in range(model.njnt) if int(model.jnt_type[j]) == int(mujoco.mjtJoint.mjJNT_FREE)]
    if free:
        adr = int(model.jnt_qposadr[free[0]])
        qpos[:, adr:adr + 3] = motion.root_pos
        qpos[:, adr + 3:adr + 7] = motion.root_quat
    one_dof = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
    for col, name in enumerate(motion.joint_names):
        if name not in names:
            raise choices_error("model joint", name, [n for n in names if n], place="joint_names")
        j = names.index(name)
        if int(model.jnt_type[j]) not in one_dof:
            raise MotionLabError(f"joint {name!r} is not a hinge or slide joint", place="joint_names")
        qpos[:, int(model.jnt_qposadr[j])] = motion.joint_pos[:, col]
    return qpos


def body_poses(
    model_or_path: Any, motion, bodies: Optional[Sequence[str]] = None
) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """World poses of model bodies over a motion via ``mj_kinematics``.

    Returns ``(names, pos (T, B, 3) m, quat (T, B, 4) w first)`` for ``bodies`` (default: every
    body but the world, in model order).
    """
    import mujoco

    model = _model(model_or_path)
    all_names = [model.body(b).name for b in range(model.nbody)]
    names = list(bodies) if bodies is not None else all_names[1:]
    ids = []
    for n in names:
        if n not in all_names:
            raise choices_error("model body", n, all_names[1:])
        ids.append(all_names.index(n))
    data = mujoco.MjData(model)
    qpos = qpos_from_motion(model, motion)
    pos = np.empty((len(qpos), len(ids), 3))
    quat = np.empty((len(qpos), len(ids), 4))
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        pos[t] = data.xpos[ids]
        quat[t] = data.xquat[ids]
    return names, pos, quat


def _gl_contexts() -> List[Any]:
    """Offscreen GL context classes to try: the one named by MUJOCO_GL, else EGL then OSMesa."""
    wanted = os.environ.get("MUJOCO_GL", "").lower().strip()
    order = [wanted] if wanted in ("egl", "osmesa", "glfw") else ["egl", "osmesa", "glfw"]
    out = []
    for name in order:
        try:
            if name == "egl":
                from mujoco.egl import GLContext
            elif name == "osmesa":
                from mujoco.osmesa import GLContext
            else:
                from mujoco.glfw import GLContext
            out.append(GLContext)
        except Exception:  # missing system library or PyOpenGL platform: try the next backend
            continue
    return out


def render_frames(
    model_path: Any,
    motion,
    width: int = 320,
    height: int = 240,
    *,
    distance: float = 3.0,
    azimuth: float = 135.0,
    elevation: float = -15.0,
) -> np.ndarray:
    """Render a RobotMotion offscreen: ``uint8 (T, height, width, 3)`` RGB frames.

    A free camera follows the root at ``distance`` m, ``azimuth``/``elevation`` degrees. The GL
    backend is the one named by ``MUJOCO_GL`` (egl, osmesa, glfw), else the first of EGL, OSMesa
    that works. Raises ``RuntimeError`` when no offscreen OpenGL context can be created.
    """
    import mujoco

    if width < 1 or height < 1:
        raise MotionLabError(f"image size must be positive, got {width}x{height}")
    model = _model(model_path)
    model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), int(width))
    model.vis.global_.offheight = max(int(model.vis.global_.offheight), int(height))
    qpos = qpos_from_motion(model, motion)

    ctx, errors = None, []
    for cls in _gl_contexts():
        try:
            ctx = cls(width, height)
            ctx.make_current()
            break
        except Exception as e:
            errors.append(f"{cls.__module__}: {e}")
            ctx = None
    if ctx is None:
        raise RuntimeError("no offscreen OpenGL context available (tried " + "; ".join(errors or ["none"]) + ")")
    try:
        con = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, con)
        scene = mujoco.MjvScene(model, maxgeom=10000)
        cam, opt = mujoco.MjvCamera(), mujoco.MjvOption()
        cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        cam.distance, cam.azimuth, cam.elevation = float(distance), float(azimuth), float(elevation)
        viewport = mujoco.MjrRect(0, 0, int(width), int(height))
        data = mujoco.MjData(model)
        frames = np.empty((len(qpos), height, width, 3), dtype=np.uint8)
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        for t, q in enumerate(qpos):
            data.qpos[:] = q
            mujoco.mj_forward(model, data)
            cam.lookat[:] = motion.root_pos[t]
            mujoco.mjv_updateScene(model, data, opt, None, cam, mujoco.mjtCatBit.mjCAT_ALL, scene)
            mujoco.mjr_render(viewport, scene, con)
            mujoco.mjr_readPixels(rgb, None, viewport, con)
            frames[t] = rgb[::-1]
        con.free()
    finally:
        ctx.free()
    return frames
