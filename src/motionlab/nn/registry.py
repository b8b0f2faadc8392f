"""Name -> constructor tables for quantizers, encoders and decoders (plain dicts, nothing self-registers).

``build_quantizer("fsq", 64, levels=[8, 5, 5, 5])``, ``build_encoder("resnet", 29, 64, width=256)``,
``build_decoder("resnet", 64, 29)``. Unknown names and unknown or missing options raise a
MotionLabError listing what is valid.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from torch import nn

from motionlab.errors import MotionLabError, choices_error
from motionlab.nn.conv import ResNetDecoder, ResNetEncoder, SimpleDecoder, SimpleEncoder
from motionlab.nn.quantizers import QUANTIZERS, Quantizer

ENCODERS: dict[str, Callable[..., nn.Module]] = {"simple": SimpleEncoder, "resnet": ResNetEncoder}
DECODERS: dict[str, Callable[..., nn.Module]] = {"simple": SimpleDecoder, "resnet": ResNetDecoder}


def _build(kind: str, table: Mapping[str, Callable[..., Any]], name: str, args: tuple, kwargs: dict) -> Any:
    if name not in table:
        raise choices_error(kind, name, table)
    ctor = table[name]
    sig = inspect.signature(ctor)
    try:
        sig.bind(*args, **kwargs)
    except TypeError as err:
        valid = [p for p in sig.parameters if p not in ("self",)]
        raise MotionLabError(f"bad options for {kind} {name!r} ({err}); valid options: {', '.join(valid)}",
                             place=kind) from None
    return ctor(*args, **kwargs)


def build_quantizer(name: str, dim: int, **kwargs: Any) -> Quantizer:
    """Quantizer ``name`` (one of :data:`QUANTIZERS`) for latents of size ``dim``."""
    return _build("quantizer", QUANTIZERS, name, (dim,), kwargs)


def build_encoder(name: str, in_dim: int, latent_dim: int, **kwargs: Any) -> nn.Module:
    """Encoder ``name`` (one of :data:`ENCODERS`): (B, T, in_dim) -> (B, T / 2**down_t, latent_dim)."""
    return _build("encoder", ENCODERS, name, (in_dim, latent_dim), kwargs)


def build_decoder(name: str, latent_dim: int, out_dim: int, **kwargs: Any) -> nn.Module:
    """Decoder ``name`` (one of :data:`DECODERS`): (B, T', latent_dim) -> (B, T' * 2**down_t, out_dim)."""
    return _build("decoder", DECODERS, name, (latent_dim, out_dim), kwargs)
