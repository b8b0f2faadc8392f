"""The character-motion stepper: a stateless MLP encoder, FiLM conditioning on controls, multi-task heads.

:class:`MotionStepper` advances one frame: from the normalised current and previous states
``(B, 141)`` and the controls ``(B, 6)`` it returns the normalised next state and the head outputs.
Rollouts are plain loops around it (:func:`rollout`). Controls (normalised like the state channels
they come from): the desired heading-frame planar velocity (2) and yaw rate (1) averaged over the next
``control_frames`` frames, and the current soft phase ``(w sin, w cos, w f)`` (3).

Heads: ``pose`` (root tilt + 21 joints, 6D, as a residual), ``root`` (height as a residual; planar velocity
and yaw rate as a correction of the commanded ones, so a rollout follows its command and its heading cannot
drift away from it), ``contact`` (2 logits of the soft contacts), ``phase`` (soft phase and frequency, residual),
``gait`` (class logits). The predicted contacts enter the next state as their normalised probabilities.
With ``phase_rate="speed"`` the step rate ``w f`` is a small MLP of the commanded planar velocity alone
(times the new confidence ``w``); with ``control_clip`` (and ``yaw_clip``) the network reads the planar
velocity and yaw rate, of the controls and of the state, clipped to that many std, while the root head still
adds the full command: a command beyond the training range reads as the nearest one the network knows.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from motionlab.data.character_state import CHARACTER_DIMS, LAYOUT
from motionlab.errors import choices_error
from motionlab.nn.film import FiLM

CONTROL_DIMS = 6
POSE = slice(LAYOUT["tilt"][0], LAYOUT["joints"][1])
ROOT = slice(0, 4)
CONTACTS = slice(*LAYOUT["contacts"])
PHASE = slice(LAYOUT["phase"][0], LAYOUT["freq"][1])

#: how the phase head sets the step rate ``w f`` (``model.phase_rate``)
PHASE_RATES = ("residual", "absolute", "speed")


def _mlp(sizes: List[int], dropout: float, last_act: bool = True) -> nn.Sequential:
    layers: List[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_act:
            layers += [nn.LayerNorm(b), nn.ELU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MotionEncoder(nn.Module):
    """Stateless MLP: ``(current, current - previous)`` normalised states -> ``latent`` features."""

    def __init__(self, state_dim: int = CHARACTER_DIMS, hidden: int = 512, latent: int = 512, layers: int = 2,
                 dropout: float = 0.0, root_clip: Optional[Tuple[float, float, float]] = None) -> None:
        super().__init__()
        self.state_dim = state_dim
        self.net = _mlp([2 * state_dim] + [hidden] * max(layers - 1, 0) + [latent], dropout)
        self.clipped = root_clip is not None  # planar velocity and yaw rate (channels 1:4) read clipped
        if self.clipped:
            self.register_buffer("hi", clip_bounds(state_dim, 1, root_clip), persistent=False)

    def forward(self, cur: Tensor, prev: Tensor) -> Tensor:
        if self.clipped:
            cur, prev = torch.clamp(cur, -self.hi, self.hi), torch.clamp(prev, -self.hi, self.hi)
        return self.net(torch.cat([cur, cur - prev], dim=-1))


def clip_bounds(dims: int, start: int, limits: Tuple[float, float, float]) -> Tensor:
    """``(dims,)`` upper bounds for a symmetric clip: ``limits`` (planar velocity x, y and yaw rate, in std)
    at channels ``start:start + 3``, 1e9 (no clip, and finite for the trainer's buffer check) elsewhere."""
    hi = torch.full((dims,), 1e9)
    hi[start:start + 3] = torch.tensor(limits, dtype=torch.float32)
    return hi


class MotionStepper(nn.Module):
    """One frame ahead (see the module docstring). ``stats_mean``/``stats_std`` buffers hold the state's
    normalisation, so the exported model works in raw units too (:meth:`step_raw`)."""

    def __init__(self, state_dim: int = CHARACTER_DIMS, hidden: int = 512, latent: int = 512, encoder_layers: int = 2,
                 trunk_layers: int = 2, dropout: float = 0.0, film_hidden: int = 64, gait_classes: int = 6,
                 pose_velocity: float = 0.0, phase_advance: bool = False, fps: float = 30.0,
                 pose_residual: bool = True, phase_harmonics: int = 0, control_clip: float = 0.0,
                 phase_rate: str = "residual", yaw_clip: float = 0.0) -> None:
        super().__init__()
        if phase_rate not in PHASE_RATES:
            raise choices_error("phase rate", phase_rate, PHASE_RATES, place="phase_rate")
        self.phase_rate = str(phase_rate)
        c = float(control_clip)
        limits = (c, c, float(yaw_clip) or c) if c > 0 else None
        self.control_clip = limits is not None
        if limits is not None:  # controls: velocity x, y and yaw rate first (not saved: they follow the config)
            self.register_buffer("control_hi", clip_bounds(CONTROL_DIMS, 0, limits), persistent=False)
        self.phase_harmonics = int(phase_harmonics)
        cond = CONTROL_DIMS + 2 * self.phase_harmonics
        self.pose_residual = bool(pose_residual)
        self.pose_velocity = float(pose_velocity)
        self.phase_advance = bool(phase_advance)
        self.fps = float(fps)
        self.encoder = MotionEncoder(state_dim, hidden, latent, encoder_layers, dropout, limits)
        self.film = FiLM(cond, latent, film_hidden)
        self.trunk = _mlp([latent + cond] + [hidden] * trunk_layers, dropout)
        n_pose = POSE.stop - POSE.start
        self.heads = nn.ModuleDict({
            "pose": nn.Linear(hidden, n_pose), "root": nn.Linear(hidden, 4), "contact": nn.Linear(hidden, 2),
            "phase": nn.Linear(hidden, PHASE.stop - PHASE.start), "gait": nn.Linear(hidden, gait_classes)})
        for name in ("pose", "root", "phase"):  # start as "repeat the frame": residuals begin at zero
            nn.init.zeros_(self.heads[name].bias)
            self.heads[name].weight.data.mul_(0.1)
        if self.phase_rate == "speed":  # step rate (Hz) from the commanded planar velocity (normalised) only
            self.rate = _mlp([2, 32, 1], 0.0, last_act=False)
        self.register_buffer("stats_mean", torch.zeros(state_dim))
        self.register_buffer("stats_std", torch.ones(state_dim))

    def forward(self, cur: Tensor, prev: Tensor, control: Tensor) -> Dict[str, Tensor]:
        """``cur``, ``prev`` ``(..., D)`` normalised states, ``control`` ``(..., 6)`` -> ``next`` (normalised
        state), ``contact_logits``, ``gait_logits``, ``latent``."""
        z = self.encoder(cur, prev)
        cond = control
        if self.control_clip:  # commands beyond the trained range reach the network clipped (the root keeps them)
            cond = torch.clamp(control, -self.control_hi, self.control_hi)
        if self.phase_harmonics:
            cond = torch.cat([cond, self.harmonics(control[..., 3:6])], dim=-1)
        h = self.trunk(torch.cat([self.film(z, cond), cond], dim=-1))
        contact_logits = self.heads["contact"](h)
        contact_norm = (torch.sigmoid(contact_logits) - self.stats_mean[CONTACTS]) / self.stats_std[CONTACTS]
        r = self.heads["root"](h)  # height: residual on the current frame; velocity, yaw rate: around the command
        pose = cur[..., POSE] if self.pose_residual else torch.zeros_like(cur[..., POSE])
        if self.pose_velocity:  # the residual is around the pose extrapolated at (a share of) its last velocity
            pose = pose + self.pose_velocity * (cur[..., POSE] - prev[..., POSE])
        phase = self.advance_phase(cur[..., PHASE]) if self.phase_advance else cur[..., PHASE]
        dphase = self.heads["phase"](h)
        if self.phase_rate == "residual":
            phase = phase + dphase
        else:  # the step rate is predicted anew every frame, not carried over
            pair = phase[..., 0:2] + dphase[..., 0:2]
            # speed: w f = the new confidence x a rate read from the commanded velocity alone
            rate = self.speed_rate(pair, cond[..., 0:2]) if self.phase_rate == "speed" else dphase[..., 2:3]
            phase = torch.cat([pair, rate], dim=-1)
        nxt = torch.cat([cur[..., 0:1] + r[..., 0:1], control[..., 0:3] + r[..., 1:4], pose + self.heads["pose"](h),
                         contact_norm, phase], dim=-1)
        return {"next": nxt, "contact_logits": contact_logits, "gait_logits": self.heads["gait"](h), "latent": z}

    def speed_rate(self, phase2: Tensor, velocity: Tensor) -> Tensor:
        """The normalised ``w f`` channel ``(..., 1)`` for ``phase_rate: speed``: the confidence ``w`` of the
        normalised ``(w sin, w cos)`` pair ``phase2`` times ``f = softplus(rate(velocity))`` Hz (about 1 Hz at
        the start), so a command the trunk has never seen (a sharp turn) cannot change the stepping rate."""
        mean, std = self.stats_mean[PHASE], self.stats_std[PHASE]
        raw = phase2 * std[0:2] + mean[0:2]
        w = torch.sqrt((raw * raw).sum(-1, keepdim=True) + 1e-12)
        f = nn.functional.softplus(self.rate(velocity) + 0.55)
        return (w * f - mean[2:3]) / std[2:3]

    def harmonics(self, phase: Tensor) -> Tensor:
        """``(..., 2K)`` = ``(w sin k phi, w cos k phi)``, k = 1..K, of the normalised soft phase ``(..., 3)``:
        the higher harmonics of the gait cycle, which a pose of the cycle is a smooth function of."""
        raw = phase[..., 0:2] * self.stats_std[PHASE][0:2] + self.stats_mean[PHASE][0:2]
        w = torch.sqrt((raw * raw).sum(-1, keepdim=True))
        phi = torch.atan2(raw[..., 0:1], raw[..., 1:2])
        k = torch.arange(1, self.phase_harmonics + 1, dtype=phase.dtype, device=phase.device)
        return torch.cat([w * torch.sin(k * phi), w * torch.cos(k * phi)], dim=-1)

    def advance_phase(self, phase: Tensor) -> Tensor:
        """The normalised soft phase ``(..., 3)`` one frame on: ``(w sin phi, w cos phi)`` turned by
        ``2 pi f / fps`` at its own frequency ``f = (w f) / w`` (clipped to [0, 4] Hz); ``w f`` is held."""
        mean, std = self.stats_mean[PHASE], self.stats_std[PHASE]
        raw = phase * std + mean
        s, c, wf = raw[..., 0:1], raw[..., 1:2], raw[..., 2:3]
        w = torch.sqrt(s * s + c * c)
        f = (wf / w.clamp_min(0.05)).clamp(0.0, 4.0)
        d = 2 * torch.pi * f / self.fps
        cd, sd = torch.cos(d), torch.sin(d)
        turned = torch.cat([s * cd + c * sd, c * cd - s * sd, wf], dim=-1)
        return (turned - mean) / std

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.stats_mean) / self.stats_std

    def denormalize(self, x: Tensor) -> Tensor:
        return x * self.stats_std + self.stats_mean

    def control_from_raw(self, vel_yaw: Tensor, phase: Tensor) -> Tensor:
        """Controls from raw desired ``(vx, vy, yaw_rate)`` (m/s, rad/s) and raw soft phase ``(3,)``."""
        return torch.cat([(vel_yaw - self.stats_mean[1:4]) / self.stats_std[1:4],
                          (phase - self.stats_mean[PHASE]) / self.stats_std[PHASE]], dim=-1)

    def step_raw(self, cur: Tensor, prev: Tensor, vel_yaw: Tensor) -> Tensor:
        """Raw-unit step for engines: raw states ``(B, D)`` and desired ``(vx, vy, yaw_rate)`` ``(B, 3)``
        -> the raw next state ``(B, D)``; the phase control is read from ``cur``."""
        c = self.control_from_raw(vel_yaw, cur[..., PHASE])
        return self.denormalize(self(self.normalize(cur), self.normalize(prev), c)["next"])


def controls_from_states(x: Tensor, frames: int) -> Tensor:
    """``(B, T, 6)`` teacher controls of normalised states ``(B, T, D)``: the mean root velocity and yaw rate
    over frames ``t+1 .. t+frames`` (fewer near the end; the last frame repeats its own) and the phase at t."""
    B, T, _ = x.shape
    root = x[..., 1:4]
    csum = torch.cat([root.new_zeros(B, 1, 3), root.cumsum(dim=1)], dim=1)  # csum[k] = sum of frames < k
    idx = torch.arange(T, device=x.device)
    lo = torch.clamp(idx + 1, max=T - 1)
    hi = torch.clamp(idx + 1 + frames, max=T)
    n = (hi - lo).clamp_min(1).to(x.dtype)
    mean = (csum[:, hi] - csum[:, lo]) / n[None, :, None]
    return torch.cat([mean, x[..., PHASE]], dim=-1)


def rollout(model: MotionStepper, prev: Tensor, cur: Tensor, controls: Tensor, detach: bool = False,
            phase_from_model: bool = True) -> Dict[str, Tensor]:
    """Free run: feed the model its own predictions for ``controls.shape[1]`` steps.

    ``prev``, ``cur`` ``(B, D)`` normalised seed frames; ``controls`` ``(B, H, 6)``: their velocity/yaw part
    is used as given; with ``phase_from_model`` the phase part is replaced by the model's own current phase.
    Returns ``states (B, H, D)`` (the predicted frames 1..H after ``cur``), ``contact_logits``, ``gait_logits``,
    ``latents``.
    """
    out: Dict[str, List[Tensor]] = {"states": [], "contact_logits": [], "gait_logits": [], "latents": []}
    for k in range(controls.shape[1]):
        c = controls[:, k]
        if phase_from_model:
            c = torch.cat([c[..., :3], cur[..., PHASE]], dim=-1)
        o = model(cur, prev, c)
        prev, cur = cur, o["next"]
        out["states"].append(cur)
        out["contact_logits"].append(o["contact_logits"])
        out["gait_logits"].append(o["gait_logits"])
        out["latents"].append(o["latent"])
        if detach:
            cur = cur.detach()
    return {k: torch.stack(v, dim=1) for k, v in out.items()}


def build_stepper(m, state_dim: int = CHARACTER_DIMS, fps: float = 30.0) -> MotionStepper:
    """The stepper of a :class:`~motionlab.recipes.predictor.config.PredictorModelConfig` at ``fps``."""
    return MotionStepper(state_dim, m.hidden, m.latent, m.encoder_layers, m.trunk_layers, m.dropout, m.film_hidden,
                         m.gait_classes, m.pose_velocity, m.phase_advance, fps, m.pose_residual,
                         m.phase_harmonics, m.control_clip, m.phase_rate, m.yaw_clip)


def load_encoder_weights(model: MotionStepper, path: str) -> None:
    """Load ``encoder.*`` weights (an ``encoder.pt`` of ``predictor_pretrain`` or a stepper state dict)."""
    from motionlab.errors import MotionLabError

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as e:
        raise MotionLabError(f"cannot read encoder weights ({e})", file=path, place="model.pretrained_encoder") from None
    if isinstance(state, dict) and "encoder" in state and isinstance(state["encoder"], dict):
        state = state["encoder"]
    enc = {k[len("encoder."):] if k.startswith("encoder.") else k: v for k, v in state.items()
           if not k.startswith(("film.", "trunk.", "heads.", "rate.", "stats_"))}
    try:
        model.encoder.load_state_dict(enc, strict=True)
    except RuntimeError as e:
        raise MotionLabError(f"encoder weights do not fit model.* ({e})", file=path,
                             place="model.pretrained_encoder") from None


__all__ = ["MotionEncoder", "MotionStepper", "controls_from_states", "rollout", "build_stepper", "CONTROL_DIMS",
           "load_encoder_weights"]
