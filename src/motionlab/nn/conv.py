"""1D convolutional motion encoders and decoders (``(B, T, C)`` in and out).

Two families, both with ``down_t`` stride-2 temporal stages (the latent sequence has ``T / 2**down_t``
frames, and the decoder upsamples back to ``T``):

* ``SimpleEncoder`` / ``SimpleDecoder``: plain conv + ReLU stacks.
* ``ResNetEncoder`` / ``ResNetDecoder``: T2M-GPT-style ResNet-1D blocks whose dilation grows by
  ``dilation_growth`` per block (1, 3, 9, ... with the default 3); stride-2 convolutions (kernel 4)
  downsample and nearest-neighbour upsampling + conv upsample. T2M-GPT used width 512, depth 3,
  growth 3, down_t 2 (Zhang et al., 2023).

Models use (batch, time, features); the convolutions run on (batch, features, time) internally.
Input length must be a multiple of ``2**down_t`` for the encoder (a MotionLabError otherwise).
"""

from __future__ import annotations

from torch import Tensor, nn

from motionlab.errors import MotionLabError
from motionlab.nn.quantizers.base import check_positive


def _check_nonneg(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MotionLabError(f"must be a non-negative integer, got {value!r}", place=name)
    return value


def check_sequence(x: Tensor, channels: int, *, multiple: int = 1, what: str = "input") -> None:
    """Raise a MotionLabError unless ``x`` is (B, T, channels) floating point with T % multiple == 0."""
    if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[-1] != channels:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise MotionLabError(f"expected shape (batch, time, {channels}), got {shape}", place=what)
    if not x.is_floating_point():
        raise MotionLabError(f"expected floating-point values, got {x.dtype}", place=what)
    if x.shape[1] == 0 or x.shape[1] % multiple:
        raise MotionLabError(
            f"time length {x.shape[1]} must be a positive multiple of {multiple} (2**down_t)", place=what
        )


class ResBlock1D(nn.Module):
    """``x + conv1x1(relu(conv3_dilated(relu(x))))`` on (B, C, T); length preserved."""

    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation),
            nn.ReLU(),
            nn.Conv1d(width, width, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def resnet1d(width: int, depth: int, growth: int, *, reverse: bool) -> nn.Sequential:
    """``depth`` residual blocks with dilations ``growth**i`` (largest first when ``reverse``)."""
    dilations = [growth**i for i in range(depth)]
    if reverse:
        dilations = dilations[::-1]
    return nn.Sequential(*(ResBlock1D(width, d) for d in dilations))


class _SeqModule(nn.Module):
    """Shared (B, T, C) <-> (B, C, T) handling and shape checks."""

    in_dim: int
    out_dim: int
    down_t: int
    net: nn.Sequential
    _is_encoder: bool

    @property
    def downsample_factor(self) -> int:
        """Frames per latent step, ``2**down_t``."""
        return 2**self.down_t

    def forward(self, x: Tensor) -> Tensor:
        """``x`` (B, T, in_dim) -> (B, T / 2**down_t, out_dim) for encoders, (B, T * 2**down_t, out_dim) for decoders."""
        multiple = self.downsample_factor if self._is_encoder else 1
        check_sequence(x, self.in_dim, multiple=multiple, what="encoder input" if self._is_encoder else "decoder input")
        return self.net(x.transpose(1, 2)).transpose(1, 2)


class SimpleEncoder(_SeqModule):
    """Plain conv stack: conv3 -> [conv4/stride2 + ReLU] * down_t -> [conv3 + ReLU] * num_layers -> conv3.

    Args:
        in_dim: input features C.
        latent_dim: output latent size D.
        width: hidden channels.
        down_t: number of stride-2 stages.
        num_layers: extra stride-1 conv layers after downsampling.
    """

    _is_encoder = True

    def __init__(self, in_dim: int, latent_dim: int, *, width: int = 128, down_t: int = 2, num_layers: int = 1) -> None:
        super().__init__()
        self.in_dim, self.out_dim = check_positive(in_dim, "in_dim"), check_positive(latent_dim, "latent_dim")
        self.down_t = _check_nonneg(down_t, "down_t")
        width = check_positive(width, "width")
        layers: list[nn.Module] = [nn.Conv1d(in_dim, width, 3, padding=1), nn.ReLU()]
        for _ in range(down_t):
            layers += [nn.Conv1d(width, width, 4, stride=2, padding=1), nn.ReLU()]
        for _ in range(_check_nonneg(num_layers, "num_layers")):
            layers += [nn.Conv1d(width, width, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv1d(width, latent_dim, 3, padding=1))
        self.net = nn.Sequential(*layers)


class SimpleDecoder(_SeqModule):
    """Mirror of :class:`SimpleEncoder`: conv3 -> [conv3 + ReLU] * num_layers -> [upsample x2 + conv3 + ReLU] * down_t -> conv3."""

    _is_encoder = False

    def __init__(self, latent_dim: int, out_dim: int, *, width: int = 128, down_t: int = 2, num_layers: int = 1) -> None:
        super().__init__()
        self.in_dim, self.out_dim = check_positive(latent_dim, "latent_dim"), check_positive(out_dim, "out_dim")
        self.down_t = _check_nonneg(down_t, "down_t")
        width = check_positive(width, "width")
        layers: list[nn.Module] = [nn.Conv1d(latent_dim, width, 3, padding=1), nn.ReLU()]
        for _ in range(_check_nonneg(num_layers, "num_layers")):
            layers += [nn.Conv1d(width, width, 3, padding=1), nn.ReLU()]
        for _ in range(down_t):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(width, width, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv1d(width, out_dim, 3, padding=1))
        self.net = nn.Sequential(*layers)


class ResNetEncoder(_SeqModule):
    """T2M-GPT-style encoder: conv3 + ReLU -> [conv4/stride2 + ResNet1D] * down_t -> conv3.

    Args:
        in_dim: input features C.
        latent_dim: output latent size D.
        width: hidden channels.
        down_t: number of stride-2 stages.
        depth: residual blocks per stage.
        dilation_growth: dilation multiplier from block to block.
    """

    _is_encoder = True

    def __init__(
        self,
        in_dim: int,
        latent_dim: int,
        *,
        width: int = 512,
        down_t: int = 2,
        depth: int = 3,
        dilation_growth: int = 3,
    ) -> None:
        super().__init__()
        self.in_dim, self.out_dim = check_positive(in_dim, "in_dim"), check_positive(latent_dim, "latent_dim")
        self.down_t = _check_nonneg(down_t, "down_t")
        width, depth = check_positive(width, "width"), check_positive(depth, "depth")
        growth = check_positive(dilation_growth, "dilation_growth")
        layers: list[nn.Module] = [nn.Conv1d(in_dim, width, 3, padding=1), nn.ReLU()]
        for _ in range(down_t):
            layers += [nn.Conv1d(width, width, 4, stride=2, padding=1), resnet1d(width, depth, growth, reverse=True)]
        layers.append(nn.Conv1d(width, latent_dim, 3, padding=1))
        self.net = nn.Sequential(*layers)


class ResNetDecoder(_SeqModule):
    """Mirror of :class:`ResNetEncoder`: conv3 + ReLU -> [ResNet1D + upsample x2 + conv3] * down_t -> conv3 + ReLU -> conv3."""

    _is_encoder = False

    def __init__(
        self,
        latent_dim: int,
        out_dim: int,
        *,
        width: int = 512,
        down_t: int = 2,
        depth: int = 3,
        dilation_growth: int = 3,
    ) -> None:
        super().__init__()
        self.in_dim, self.out_dim = check_positive(latent_dim, "latent_dim"), check_positive(out_dim, "out_dim")
        self.down_t = _check_nonneg(down_t, "down_t")
        width, depth = check_positive(width, "width"), check_positive(depth, "depth")
        growth = check_positive(dilation_growth, "dilation_growth")
        layers: list[nn.Module] = [nn.Conv1d(latent_dim, width, 3, padding=1), nn.ReLU()]
        for _ in range(down_t):
            layers += [
                resnet1d(width, depth, growth, reverse=True),
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv1d(width, width, 3, padding=1),
            ]
        layers += [nn.Conv1d(width, width, 3, padding=1), nn.ReLU(), nn.Conv1d(width, out_dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)
