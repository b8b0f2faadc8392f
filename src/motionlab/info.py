"""What is installed and usable: the facts behind ``motionlab info``."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
from typing import Dict, Optional


def _version(dist: str) -> Optional[str]:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
        return True
    except Exception:  # an installed but broken package is "not usable"
        return False


def environment_info() -> Dict[str, object]:
    """A dict describing motionlab, Python, torch devices and the optional back-ends."""
    import torch

    import motionlab

    info: Dict[str, object] = {
        "motionlab": motionlab.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "bf16_on_cuda": bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported()),
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
    }
    packages = {
        "lightning": "lightning",
        "vector-quantize-pytorch": "vector_quantize_pytorch",
        "roma": "roma",
        "mujoco": "mujoco",
        "mamba_ssm": "mamba_ssm",
        "optuna": "optuna",
        "diffusers": "diffusers",
        "librosa": "librosa",
        "soundfile": "soundfile",
        "praatio": "praatio",
        "matplotlib": "matplotlib",
        "imageio-ffmpeg": "imageio_ffmpeg",
        "scikit-learn": "sklearn",
        "bvhio": "bvhio",
    }
    usable = {}
    for dist, module in packages.items():
        ver = _version(dist)
        usable[dist] = {"version": ver, "usable": bool(ver) and _importable(module)}
    if usable["mamba_ssm"]["usable"] and not info["cuda"]:
        usable["mamba_ssm"]["note"] = "installed, but needs CUDA: the pure-PyTorch scan is used"
    info["packages"] = usable
    return info


def format_info(info: Dict[str, object]) -> str:
    lines = [
        f"motionlab {info['motionlab']}  (python {info['python']}, {info['platform']})",
        f"torch {info['torch']}  threads={info['cpu_threads']}  cuda={info['cuda']}"
        + (f" {info['cuda_devices']}" if info["cuda_devices"] else "")
        + f"  mps={info['mps']}",
        "packages:",
    ]
    for name, p in info["packages"].items():  # type: ignore[union-attr]
        state = "ok" if p["usable"] else ("broken" if p["version"] else "not installed")
        extra = f"  ({p['note']})" if "note" in p else ""
        lines.append(f"  {name:<24} {p['version'] or '-':<12} {state}{extra}")
    return "\n".join(lines)
