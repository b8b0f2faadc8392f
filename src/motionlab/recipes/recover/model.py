"""The temporal lifter of the ``recover`` recipe (plain ``nn.Module``s and their factory).

:class:`Lifter` maps a box-normalised COCO-17 track to the outputs described in
:mod:`motionlab.recipes.recover.geometry` for every frame. Each joint's confidence goes through a
small learned embedding (shared by the joints) next to its masked coordinates; the box centre and log
size join per frame. Two temporal backbones, chosen by ``arch``:

* ``tcn``: VideoPose3D-style dilated residual 1D convolutions (dilations ``growth**i``; receptive field
  ``1 + 2 * sum(growth**i)`` frames), fully convolutional over any length;
* ``transformer``: a small pre-norm transformer encoder with sinusoidal positions.

With ``domain_inputs`` the input stage (confidence embedding and input projection) exists twice, one per
domain (``domain="source"`` for labelled synthetic tracks, ``"target"`` for the real tracks adaptation sees);
the temporal backbone and the output head are shared. Real detector tracks differ from the synthetic ones
in their inputs (noise, confidences, missing joints), so the target copy can absorb the input shift while
the source keeps its own (:meth:`Lifter.init_target_inputs` copies the source stage when adaptation begins;
until then, and in a source-only model, the target reads the source stage).
"""

from __future__ import annotations

import copy
import math
from typing import List

import torch
from torch import Tensor, nn

from motionlab.errors import MotionLabError, choices_error
from motionlab.nn.conv import resnet1d
from motionlab.recipes.recover.geometry import K, OUT_DIM


DOMAINS = ("source", "target")


class Lifter(nn.Module):
    """``(feat (B, T, 17, 3), box (B, T, 3)) -> (B, T, OUT_DIM)``."""

    def __init__(self, arch: str = "tcn", width: int = 128, depth: int = 4, dilation_growth: int = 3,
                 heads: int = 4, conf_dim: int = 4, dropout: float = 0.1, domain_inputs: bool = False,
                 domain_outputs: bool = False) -> None:
        super().__init__()
        if arch not in ("tcn", "transformer"):
            raise choices_error("lifter arch", arch, ["tcn", "transformer"])
        self.arch = arch
        self.conf_embed = nn.Sequential(nn.Linear(1, conf_dim), nn.Tanh())
        self.inp = nn.Linear(K * (2 + conf_dim) + 3, width)
        self.domain_inputs = bool(domain_inputs)
        if self.domain_inputs:
            self.conf_embed_target = copy.deepcopy(self.conf_embed)
            self.inp_target = copy.deepcopy(self.inp)
            # false until adaptation copies the source stage: the target reads the source stage until then
            self.register_buffer("target_ready", torch.zeros((), dtype=torch.bool))
        self.drop = nn.Dropout(dropout)
        if arch == "tcn":
            self.backbone = resnet1d(width, depth, dilation_growth, reverse=False)
        else:
            layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout, batch_first=True, norm_first=True)
            self.backbone = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.out = nn.Linear(width, OUT_DIM)
        self.domain_outputs = bool(domain_outputs)
        if self.domain_outputs and not self.domain_inputs:
            raise MotionLabError("model.domain_outputs needs model.domain_inputs: the target's output layer belongs to "
                                 "its input stage", place="model.domain_outputs")
        if self.domain_outputs:  # the target's own output layer too (copied from the source's with its input stage)
            self.out_target = copy.deepcopy(self.out)
        self.receptive_field = 1 + 2 * sum(dilation_growth ** i for i in range(depth)) if arch == "tcn" else -1

    def target_stage_parameters(self) -> List[nn.Parameter]:
        """The parameters of the target's own stage: its input stage and, with ``domain_outputs``, its output
        layer (empty without ``domain_inputs``)."""
        if not self.domain_inputs:
            return []
        own = list(self.conf_embed_target.parameters()) + list(self.inp_target.parameters())
        return own + (list(self.out_target.parameters()) if self.domain_outputs else [])

    @torch.no_grad()
    def init_target_inputs(self) -> None:
        """Start the target's stage (input stage, and output layer with ``domain_outputs``) from the source's
        (no-op without ``domain_inputs``)."""
        if self.domain_inputs:
            self.conf_embed_target.load_state_dict(self.conf_embed.state_dict())
            self.inp_target.load_state_dict(self.inp.state_dict())
            if self.domain_outputs:
                self.out_target.load_state_dict(self.out.state_dict())
            self.target_ready.fill_(True)

    def forward(self, feat: Tensor, box: Tensor, domain: str = "source") -> Tensor:
        """``domain`` picks the input stage when the lifter has one per domain (``"source"`` or
        ``"target"``; without ``domain_inputs`` both read the one shared stage)."""
        if domain not in DOMAINS:
            raise choices_error("lifter domain", domain, list(DOMAINS))
        if feat.ndim != 4 or feat.shape[-2:] != (K, 3) or box.shape != feat.shape[:2] + (3,):
            raise MotionLabError(f"expected feat (B, T, 17, 3) and box (B, T, 3), got {tuple(feat.shape)} "
                                 f"and {tuple(box.shape)}", place="input")
        B, T = feat.shape[:2]
        conf = feat[..., 2:3]
        valid = (conf > 0).to(feat.dtype)
        target = self.domain_inputs and domain == "target" and bool(self.target_ready)
        conf_embed, inp = (self.conf_embed_target, self.inp_target) if target else (self.conf_embed, self.inp)
        joint = torch.cat([feat[..., :2], conf_embed(conf) * valid], -1).reshape(B, T, -1)
        h = self.drop(inp(torch.cat([joint, box], -1)))
        if self.arch == "tcn":
            h = self.backbone(h.transpose(1, 2)).transpose(1, 2)
        else:
            h = self.backbone(h + _positions(T, h.shape[-1], h.device, h.dtype))
        return (self.out_target if target and self.domain_outputs else self.out)(torch.relu(h))


def _positions(T: int, d: int, device, dtype) -> Tensor:
    pos = torch.arange(T, device=device, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(T, d, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: d // 2])
    return pe.to(dtype)


def build_lifter(cfg) -> Lifter:
    """The :class:`Lifter` of a :class:`~motionlab.recipes.recover.config.RecoverConfig`."""
    m = cfg.model
    return Lifter(m.arch, m.width, m.depth, m.dilation_growth, m.heads, m.conf_dim, m.dropout, m.domain_inputs,
                  m.domain_outputs)
