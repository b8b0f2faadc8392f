"""The tokenizer's thin LightningModule and its data module.

:class:`TokenizerModule` trains :func:`~motionlab.recipes.tokenizer.model.build_vqvae` with
:func:`~motionlab.recipes.tokenizer.model.tokenizer_losses`; validation logs ``val/recon_mse``,
``val/vel_error`` (normalised), and from the whole validation split's code usage ``val/perplexity`` and
``val/dead_code_ratio``, and ``val/mean_jerk`` of the de-normalised reconstructions of its first
``VAL_JERK_WINDOWS`` windows with ``val/jerk_gap`` against the same true windows. :class:`TokenizerData`
serves windows of the one configured stream from :class:`~motionlab.data.dataset.WindowData`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import lightning as L
import torch
from torch.utils.data import DataLoader

from motionlab.errors import MotionLabError
from motionlab.recipes.tokenizer.config import TokenizerConfig, feature_dim, stream_of
from motionlab.recipes.tokenizer.model import build_vqvae, tokenizer_losses
from motionlab.train.module import RecipeModule

VAL_JERK_WINDOWS = 256


class TokenizerModule(RecipeModule):
    """Thin LightningModule around :func:`build_vqvae` (kept as ``self.model``)."""

    main_metrics = ("val/recon_mse", "val/vel_error", "val/perplexity", "val/dead_code_ratio", "val/jerk_gap")

    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__(cfg)
        self.stream = stream_of(cfg)
        self.model = build_vqvae(cfg)
        self._val_idx: List[torch.Tensor] = []
        self._val_recon: List[torch.Tensor] = []
        self._val_true: List[torch.Tensor] = []
        self._val_seen = 0

    def forward(self, x: torch.Tensor) -> Dict[str, Any]:
        return self.model(x)

    def training_step(self, batch: Dict[str, Any], batch_idx: int) -> torch.Tensor:
        x = batch[self.stream]
        out = self.model(x)
        losses = tokenizer_losses(out, x, self.cfg)
        logs = {**losses, **{k: v for k, v in out["stats"].items() if k.startswith(("quant_error", "batch_perplexity"))}}
        self.log_losses(logs, "train", batch_size=x.shape[0])
        return losses["loss"]

    def on_validation_epoch_start(self) -> None:
        self._val_idx, self._val_recon, self._val_true, self._val_seen = [], [], [], 0

    def validation_step(self, batch: Dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> None:
        x = batch[self.stream]
        out = self.model(x)
        losses = tokenizer_losses(out, x, self.cfg)
        self.log_losses({"recon_mse": losses["recon"], "vel_error": losses["vel"]}, "val", batch_size=x.shape[0])
        with torch.no_grad():  # the mean pose (0 in normalised features): the baseline of the summary
            self.log_baseline("mean_pose", "recon_mse", x.float().pow(2).mean(), batch_size=x.shape[0])
            self.log_baseline("mean_pose", "vel_error", x.float().diff(dim=1).pow(2).mean(), batch_size=x.shape[0])
        self._val_idx.append(out["indices"].detach().cpu())
        if self._val_seen < VAL_JERK_WINDOWS:
            self._val_recon.append(out["recon"][: VAL_JERK_WINDOWS - self._val_seen].detach().cpu())
            self._val_true.append(x[: VAL_JERK_WINDOWS - self._val_seen].detach().cpu())
            self._val_seen += self._val_recon[-1].shape[0]
        total = self.trainer.num_val_batches
        total = total[dataloader_idx] if isinstance(total, (list, tuple)) else total
        if batch_idx + 1 >= total:
            # whole-split values, logged from the last step so that they reach the epoch's metrics
            # together with the per-batch ones (values logged in on_validation_epoch_end arrive
            # after the callbacks have read the epoch's metrics)
            self.log_losses(self._whole_split_metrics(), "val", batch_size=1)
            self._val_idx, self._val_recon, self._val_true = [], [], []

    def _whole_split_metrics(self) -> Dict[str, float]:
        from motionlab.recipes.tokenizer.measures import mean_jerk_windows, motion_quantities, usage_metrics

        q = self.model.quantizer
        idx = torch.cat(self._val_idx).numpy()
        usage = usage_metrics(idx.reshape(-1, q.num_levels) if q.multi_level else idx.reshape(-1), q.codebook_sizes)
        out = {"perplexity": usage["perplexity"], "dead_code_ratio": usage["dead_code_ratio"]}
        dm = getattr(self.trainer, "datamodule", None)
        norm = getattr(dm, "normalizer", None) if dm is not None else None
        if norm is not None and self._val_recon:
            raw = norm.denormalize(torch.cat(self._val_recon).double().numpy())
            qty, kind = motion_quantities(raw, self.stream, self.cfg.data.fps)
            out["mean_jerk"] = mean_jerk_windows(qty, kind, self.cfg.data.fps)
            true_raw = norm.denormalize(torch.cat(self._val_true).double().numpy())
            qty_true, _ = motion_quantities(true_raw, self.stream, self.cfg.data.fps)
            jerk_true = mean_jerk_windows(qty_true, kind, self.cfg.data.fps)
            if jerk_true > 0:
                out["jerk_gap"] = abs(out["mean_jerk"] / jerk_true - 1.0)
        return out


class TokenizerData(L.LightningDataModule):
    """Windows of the configured stream (read lazily in ``setup``); ``normalizer`` is that stream's."""

    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stream = stream_of(cfg)
        self.data = None

    def _ensure(self):
        if self.data is None:
            from motionlab.data.dataset import WindowData

            data = WindowData(self.cfg.data)
            got, want = data.dims()[self.stream], feature_dim(self.cfg)
            if got != want:
                raise MotionLabError(f"stream {self.stream!r} has {got} features per frame, expected {want}",
                                     place="data.streams")
            self.data = data
        return self.data

    @property
    def normalizer(self):
        return self._ensure().normalizers[self.stream]

    def setup(self, stage: Optional[str] = None) -> None:
        self._ensure()

    def train_dataloader(self):
        return self._ensure().loader("train", seed=self.cfg.train.seed)

    def val_dataloader(self) -> DataLoader:
        d = self._ensure()
        split = "val" if len(d.dataset("val")) else "test"
        return d.loader(split, batch_size=self.cfg.eval.batch_size)

    def save_stats(self, run_dir) -> None:
        self._ensure().save_stats(run_dir)
