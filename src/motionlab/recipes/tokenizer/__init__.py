"""The ``tokenizer`` recipe: a motion VQ-VAE (simple/ResNet conv encoder, any motionlab quantizer,
conv decoder) trained on windows of body or G1 robot features, with whole-test-set evaluation.

Parts: :mod:`.config` (``TokenizerConfig``), :mod:`.model` (the LightningModule and data module),
:mod:`.evaluate` (``evaluate``, ``generate``, ``export_latents``), :mod:`.recipe` (``RECIPE``).
Nothing heavy is imported here.
"""
