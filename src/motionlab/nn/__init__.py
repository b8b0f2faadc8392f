"""Shared neural building blocks: quantizers (one contract), 1D conv encoders/decoders, the motion VQ-VAE.

Import from the submodules (``motionlab.nn.registry``, ``motionlab.nn.vqvae``, ...); nothing is
imported here so that ``import motionlab.nn`` stays cheap.
"""
