"""The thin LightningModule of ``gesture`` / ``dyadic`` and its data module.

Phase 1 (steps ``< model.vq.steps``): the per-part VQ-VAEs and the FGD autoencoder learn
(``train/vq_recon_<part>``, ``train/ae_recon``). Phase 2: they are frozen (eval mode, targets under
``no_grad``) and the generator learns with the three passes; logged per pass and summed: ``train/<pass>/loss``,
``train/latent_<part>``, ``train/cls_<part>``, ``train/vel_<part>``, ``train/acc_<part>``, ``train/root``,
``train/mask_ratio``. Validation logs ``val/loss`` (full pass) and ``val/acc_<part>`` (code accuracy).
"""

from __future__ import annotations

from typing import Dict, Optional

import lightning as L
import torch
from torch.utils.data import DataLoader

from motionlab.recipes.gesture.config import GestureConfig
from motionlab.recipes.gesture.model import PASSES, build_gesture_model, mask_ratio, pass_losses, run_pass, \
    training_mask, vq_losses
from motionlab.recipes.gesture.parts import ROOT_REGRESSED
from motionlab.train.module import RecipeModule


def partner_dropout(batch: Dict[str, torch.Tensor], rate: float,
                    generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
    """``batch`` with the partner inputs (``p_motion``, ``p_audio``, ``p_afeat``) of a random share ``rate``
    of its windows set to zero, as the partner-zeroed twin sees them (no-op without partner inputs)."""
    if rate <= 0 or "p_motion" not in batch:
        return batch
    B = batch["p_motion"].shape[0]
    dev = batch["p_motion"].device
    keep = (torch.rand(B, generator=generator, device=dev) >= rate).float()
    out = dict(batch)
    for k in ("p_motion", "p_audio", "p_afeat"):
        if k in out:
            out[k] = out[k] * keep.view(B, *([1] * (out[k].ndim - 1))).to(out[k].dtype)
    return out


def word_dropout(batch: Dict[str, torch.Tensor], rate: float,
                 generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
    """``batch`` with each window's words (ids >= 2; 0 = silence, 1 = ``<unk>``) replaced by ``<unk>`` with
    probability ``rate``, drawn once per window and word (all frames of a word alike), so that the ``<unk>``
    embedding learns what a word outside the training vocabulary means (no-op for ``rate <= 0``)."""
    if rate <= 0 or "word" not in batch:
        return batch
    w = batch["word"]
    B, V = w.shape[0], int(w.max()) + 1
    drop = torch.rand(B, V, generator=generator, device=w.device) < rate
    hit = torch.gather(drop, 1, w.reshape(B, -1)).reshape(w.shape) & (w >= 2)
    out = dict(batch)
    out["word"] = torch.where(hit, torch.ones_like(w), w)
    return out


class GestureModule(RecipeModule):
    def __init__(self, cfg: GestureConfig) -> None:
        super().__init__(cfg)
        self.model = build_gesture_model(cfg)

    def _vq_phase(self) -> bool:
        return self.global_step < self.cfg.model.vq.steps

    def generator_losses(self, batch: Dict[str, torch.Tensor], ratio: float,
                         generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
        m = self.model
        m.vqs.eval()
        m.evaluator.eval()
        tok = m.tokenize(batch)
        S = sum(tok[f"zq_{p}"].shape[-1] for p in m.parts)
        B, T = batch["upper"].shape[:2]
        seed = self.cfg.model.seed_frames
        rand = training_mask("self", (B, T, S), seed, ratio, batch["upper"].device, generator)
        masks = {"full": training_mask("full", (B, T, S), seed, ratio, batch["upper"].device), "self": rand, "word": rand}
        root_t = batch["lower"][..., :ROOT_REGRESSED]
        batch = partner_dropout(batch, self.cfg.loss.partner_dropout, generator)
        batch = word_dropout(batch, self.cfg.loss.word_dropout, generator)
        logs: Dict[str, torch.Tensor] = {}
        total = 0.0
        for kind in PASSES:
            w = self.cfg.loss.passes.get(kind, 0.0)
            if w <= 0:
                continue
            res = pass_losses(run_pass(m, kind, batch, tok, masks[kind]), tok, root_t, self.cfg, m.parts)
            total = total + w * res["loss"]
            logs[f"{kind}/loss"] = res["loss"]
            for k, v in res.items():
                if k != "loss":
                    logs[k] = logs.get(k, 0.0) + v
        logs["loss"] = total
        return logs

    def training_step(self, batch, batch_idx):
        B = batch["upper"].shape[0]
        if self._vq_phase():
            logs = vq_losses(self.model, batch, self.cfg)
        else:
            total = self.trainer.max_steps if self.trainer.max_steps > 0 else self.trainer.estimated_stepping_batches
            ratio = mask_ratio(self.cfg, self.global_step, int(total))
            logs = self.generator_losses(batch, ratio)
            logs["mask_ratio"] = torch.tensor(ratio)
        self.log_losses(logs, "train", batch_size=B)
        return logs["loss"]

    @torch.no_grad()
    def validation_step(self, batch, batch_idx, dataloader_idx: int = 0):
        B = batch["upper"].shape[0]
        if self._vq_phase():
            logs = {k: v for k, v in vq_losses(self.model, batch, self.cfg).items()}
        else:
            m = self.model
            tok = m.tokenize(batch)
            S = sum(tok[f"zq_{p}"].shape[-1] for p in m.parts)
            mask = training_mask("full", (B, batch["upper"].shape[1], S), self.cfg.model.seed_frames, 1.0,
                                 batch["upper"].device)
            out = run_pass(m, "full", batch, tok, mask)
            res = pass_losses(out, tok, batch["lower"][..., :ROOT_REGRESSED], self.cfg, m.parts)
            logs = {"loss": res["loss"], "root": res["root"]}
            for p in m.parts:
                logs[f"acc_{p}"] = (out[f"logits_{p}"].argmax(-1) == tok[f"idx_{p}"]).float().mean()
        self.log_losses(logs, "val", batch_size=B)

    def on_fit_start(self) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        path = self.cfg.data.word_vectors
        if path and dm is not None and self.global_step == 0:
            from motionlab.recipes.gesture.data import read_word_vectors

            emb = self.model.generator.word
            vec, found = read_word_vectors(path, dm.data.vocab, emb.embedding_dim)
            with torch.no_grad():
                emb.weight[: len(vec)] = torch.from_numpy(vec[: emb.num_embeddings])
            print(f"word vectors: {found} of {len(dm.data.vocab)} vocabulary words found in {path}", flush=True)


class GestureData(L.LightningDataModule):
    """Windows of the takes (read lazily); ``data`` is the :class:`~.data.GestureArrays`."""

    def __init__(self, cfg: GestureConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self._data = None

    @property
    def data(self):
        if self._data is None:
            from motionlab.recipes.gesture.data import GestureArrays

            self._data = GestureArrays(self.cfg)
        return self._data

    def setup(self, stage: Optional[str] = None) -> None:
        self.data  # noqa: B018 - read the takes now

    def _set(self, split: str):
        from motionlab.recipes.gesture.data import WindowSet

        return WindowSet(self.data, split, self.cfg.data.window, self.cfg.data.stride)

    def train_dataloader(self):
        from motionlab.data.dataset import collate_batched
        from motionlab.errors import MotionLabError
        from motionlab.train.data import ResumableLoader

        ds = self._set("train")
        if len(ds) == 0:
            raise MotionLabError(f"no training windows of {self.cfg.data.window} frames", place="data.window")
        return ResumableLoader(ds, self.cfg.data.batch_size, shuffle=True, seed=self.cfg.train.seed,
                               collate_fn=collate_batched)

    def val_dataloader(self):
        from motionlab.data.dataset import collate_batched

        ds = self._set("val")
        if len(ds) == 0:
            ds = self._set("test")
        return DataLoader(ds, batch_size=self.cfg.data.batch_size, shuffle=False, collate_fn=collate_batched)

    def save_stats(self, run_dir) -> None:
        self.data.save_stats(run_dir)
