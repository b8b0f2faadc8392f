"""Quantizers behind one contract (:class:`QuantizerOutput`), and the name -> constructor table.

Names: ``vq`` (learnable codebook), ``ema`` (EMA codebook + dead-code reset), ``rvq`` (residual
EMA VQ), ``fsq`` (finite scalar), ``lfq`` (lookup-free), ``hybrid`` (FSQ then residual VQ).
Build one with :func:`motionlab.nn.registry.build_quantizer`.
"""

from motionlab.nn.quantizers.base import Quantizer, QuantizerOutput
from motionlab.nn.quantizers.ema_vq import EMAVQ
from motionlab.nn.quantizers.fsq import FSQ, RECOMMENDED_LEVELS
from motionlab.nn.quantizers.hybrid import HybridFSQRVQ
from motionlab.nn.quantizers.lfq import LFQ
from motionlab.nn.quantizers.rvq import RVQ
from motionlab.nn.quantizers.vq import VQ

QUANTIZERS = {
    "vq": VQ,
    "ema": EMAVQ,
    "rvq": RVQ,
    "fsq": FSQ,
    "lfq": LFQ,
    "hybrid": HybridFSQRVQ,
}

__all__ = [
    "Quantizer",
    "QuantizerOutput",
    "VQ",
    "EMAVQ",
    "RVQ",
    "FSQ",
    "LFQ",
    "HybridFSQRVQ",
    "RECOMMENDED_LEVELS",
    "QUANTIZERS",
]
