"""The ``retarget`` recipe: human motion -> Unitree G1 through a shared quantized latent.

Modules: :mod:`.config` (the config dataclasses), :mod:`.model` (the plain ``nn.Module``),
:mod:`.lightning` (LightningModule + data module), :mod:`.root` (robot root trajectory and
FK), :mod:`.tool` (``retarget_motion`` / ``retarget_file``, the ``motionlab retarget`` command),
:mod:`.evaluate` (metrics, baselines and plots of a run), :mod:`.recipe` (the registry entry).
Nothing is imported here.
"""
