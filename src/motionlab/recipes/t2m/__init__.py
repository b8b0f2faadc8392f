"""Text -> motion diffusion (``t2m``): a transformer denoiser predicting x0, DDPM/DDIM sampling with
classifier-free guidance, physical losses, any length by in-painted overlapping windows."""
