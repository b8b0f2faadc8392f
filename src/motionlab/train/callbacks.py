"""Lightning callbacks of the motionlab engine.

* :class:`NonFiniteGuard` - skips optimizer steps whose gradients are NaN/Inf, stops after N in a row.
* :class:`RandomStateKeeper` - makes the training RNG stream independent of validation/checkpointing and
  restores it on resume (exact resume on CPU).
* :class:`StageSchedule` - teacher-forcing -> free-run style stages: named values by step or epoch.
* :class:`LastCheckpoint` - writes ``checkpoints/last.ckpt`` atomically every N steps and at the end.
* :class:`RunRecorder` - ``history.json`` and the data module's normalisation statistics in the run folder.
* :class:`AtomicCheckpointIO` - atomic checkpoint writes, ``weights_only=True`` reads.
* :class:`ScheduleHorizon` - on resume, stretches the warmup/cosine schedule to the (new) ``max_steps``.
* :func:`make_ema` - Lightning's ``EMAWeightAveraging`` with buffers that follow the raw model.

Progress bars and lines live in :mod:`motionlab.train.progress`, the end-of-training summary in
:mod:`motionlab.train.summary`.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, Checkpoint, EMAWeightAveraging
from lightning.pytorch.plugins.io import TorchCheckpointIO

from motionlab.core.files import atomic_write_text
from motionlab.errors import MotionLabError
from motionlab.train.checkpoint import atomic_torch_save
from motionlab.train.config import StageConfig
from motionlab.train.schedules import WarmupCosine

log = logging.getLogger("motionlab.train")

HISTORY_FILE = "history.json"


def _is_rank_zero(trainer) -> bool:
    return getattr(trainer, "global_rank", 0) == 0


def _write_json_atomic(obj: Any, path: Path) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, default=_json_default))


def _json_default(x: Any) -> Any:
    if isinstance(x, (np.generic,)):
        return x.item()
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        return x.item()
    if isinstance(x, (Path,)):
        return str(x)
    return str(x)


def _finite_float(v: Any) -> Optional[float]:
    try:
        f = float(v.detach().cpu().item() if isinstance(v, torch.Tensor) else v)
    except (TypeError, ValueError, RuntimeError):
        return None
    return f


# --- run folder --------------------------------------------------------------------------------


class RunRecorder(Callback):
    """Keeps ``history.json`` (train/val metrics every ``log_every`` steps, events, status) and asks the
    data module to write its normalisation statistics (``save_stats(run_dir)``) when fitting starts."""

    def __init__(self, run_dir, log_every: int = 10, history: Optional[Dict[str, Any]] = None) -> None:
        self.run_dir = Path(run_dir)
        self.log_every = max(1, int(log_every))
        self.history: Dict[str, Any] = history or {"train": [], "val": [], "events": []}
        for k in ("train", "val", "events"):
            self.history.setdefault(k, [])
        self._t0 = time.time()

    def note(self, kind: str, trainer=None, **info: Any) -> None:
        step = int(trainer.global_step) if trainer is not None else None
        self.history["events"].append({"kind": kind, "step": step, **info})

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit" or not _is_rank_zero(trainer):
            return
        save_stats = getattr(trainer.datamodule, "save_stats", None)
        if callable(save_stats):
            save_stats(self.run_dir)

    def _metrics(self, trainer, val: bool) -> Dict[str, float]:
        out = {}
        for k, v in trainer.callback_metrics.items():
            if k.startswith("val") == val:
                f = _finite_float(v)
                if f is not None:
                    out[k] = f
        return out

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = int(trainer.global_step)
        if step % self.log_every == 0 and _is_rank_zero(trainer):
            rec = {"step": step, "epoch": int(trainer.current_epoch), **self._metrics(trainer, val=False)}
            lrs = [g["lr"] for opt in trainer.optimizers for g in opt.param_groups]
            if lrs:
                rec["lr"] = float(lrs[0])
            self.history["train"].append(rec)

    def on_validation_end(self, trainer, pl_module) -> None:
        # after the module's own on_validation_epoch_end, so whole-split values logged there are included
        if trainer.sanity_checking or not _is_rank_zero(trainer):
            return
        self.history["val"].append({"step": int(trainer.global_step), "epoch": int(trainer.current_epoch),
                                    **self._metrics(trainer, val=True)})

    def flush(self, trainer=None, status: Optional[str] = None, **extra: Any) -> None:
        if trainer is not None and not _is_rank_zero(trainer):
            return
        if status is not None:
            self.history["status"] = status
        if trainer is not None:
            self.history["final_step"] = int(trainer.global_step)
        self.history["wall_time_s"] = self.history.get("wall_time_s_before", 0.0) + (time.time() - self._t0)
        self.history.update(extra)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(self.history, self.run_dir / HISTORY_FILE)

    def on_train_start(self, trainer, pl_module) -> None:
        self.flush(trainer, status="running")

    def on_train_end(self, trainer, pl_module) -> None:
        self.flush(trainer, status="completed")

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        status = "diverged" if isinstance(exception, NonFiniteTraining) else "failed"
        self.flush(trainer, status=status, error=f"{type(exception).__name__}: {exception}")


# --- non-finite guard --------------------------------------------------------------------------


class NonFiniteTraining(MotionLabError):
    """Training stopped: too many optimizer steps in a row had non-finite gradients, loss or buffers."""


def _grads_finite(params: List[torch.Tensor]) -> bool:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return True
    norms = torch._foreach_norm(grads) if hasattr(torch, "_foreach_norm") else [g.norm() for g in grads]
    return bool(torch.isfinite(torch.stack([n.float() for n in norms])).all())


def first_nonfinite(named_tensors: Any) -> Optional[str]:
    """The name of the first floating-point tensor of ``(name, tensor)`` pairs holding NaN/Inf, else ``None``."""
    for name, t in named_tensors:
        if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex()):
            if not bool(torch.isfinite(t.detach()).all()):
                return name
    return None


def scaler_handles_overflow(precision: str) -> bool:
    """True where a GradScaler runs (``16-mixed``): it skips steps with inf/NaN gradients itself and lowers
    its scale, so such gradients are routine overflow, not a sign of a diverging run."""
    return str(precision) == "16-mixed"


def step_is_bad(loss_finite: bool, grads_finite: bool, precision: str = "32", buffers_finite: bool = True) -> bool:
    """Whether a training step counts as a bad (non-finite) step for :class:`NonFiniteGuard`.

    A non-finite loss or non-finite buffers (e.g. an EMA codebook poisoned by a NaN batch) are always bad.
    Non-finite gradients are bad except under ``16-mixed``, where the GradScaler's overflow skips are
    expected and only a non-finite loss means trouble.
    """
    if not loss_finite or not buffers_finite:
        return True
    if scaler_handles_overflow(precision):
        return False
    return not grads_finite


class NonFiniteGuard(Callback):
    """Skip every step whose loss, gradients or buffers turn NaN/Inf; stop after ``max_bad_steps`` in a row.

    * Gradients are checked in ``on_before_optimizer_step`` (after backward, after AMP unscaling and, under
      DDP, after the gradient all-reduce, so every rank decides alike): on a bad step every gradient is set
      to ``None``, so the optimizer leaves those weights and their moments untouched. Under ``16-mixed`` the
      GradScaler already skips overflowing steps: they are left to it and not counted (see :func:`step_is_bad`).
    * Buffers (EMA codebooks, running statistics) change in the forward pass, where skipping the optimizer
      step does not help: the floating-point buffers are copied before each batch and, when any of them is
      non-finite after the step, all buffers are put back from that copy and the step counts as bad.
    * A batch whose returned loss is non-finite counts as bad.

    ``max_bad_steps`` consecutive bad batches raise :class:`NonFiniteTraining` before anything is saved,
    so no checkpoint ever holds corrupted weights. ``precision`` is the trainer's resolved precision
    (``None``: read from the trainer at setup).
    """

    def __init__(self, max_bad_steps: int = 5, recorder: Optional[RunRecorder] = None,
                 precision: Optional[str] = None) -> None:
        self.max_bad_steps = max(1, int(max_bad_steps))
        self.recorder = recorder
        self.precision = precision
        self.bad_in_row = 0
        self.skipped = 0
        self._grads_bad = False
        self._buffers: Optional[Dict[str, torch.Tensor]] = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.precision is None:
            self.precision = str(getattr(trainer, "precision", "32"))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._grads_bad = False
        self._buffers = {n: b.detach().clone() for n, b in pl_module.named_buffers()}

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        params = [p for g in optimizer.param_groups for p in g["params"]]
        if not _grads_finite(params):
            self._grads_bad = True
            if not scaler_handles_overflow(self.precision or "32"):
                for p in params:
                    p.grad = None

    def _restore_buffers(self, pl_module, bad: str, step: int) -> None:
        snap = self._buffers or {}
        with torch.no_grad():
            for name, b in pl_module.named_buffers():
                old = snap.get(name)
                if old is None or old.shape != b.shape or old.dtype != b.dtype:
                    raise NonFiniteTraining(
                        f"training stopped at step {step}: buffer {bad} became non-finite and buffer {name} "
                        f"cannot be restored from its copy taken before the step (it was added or reshaped). "
                        f"The last checkpoint is intact; check the data for NaN values.")
                b.copy_(old)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = int(trainer.global_step)
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        loss_ok = not (isinstance(loss, torch.Tensor) and not bool(torch.isfinite(loss.detach()).all()))
        bad_buffer = first_nonfinite(pl_module.named_buffers())
        if bad_buffer is not None:
            self._restore_buffers(pl_module, bad_buffer, step)
            log.warning("non-finite buffer %s at step %d: buffers restored from before the step", bad_buffer, step)
        self._buffers = None
        if not step_is_bad(loss_ok, not self._grads_bad, self.precision or "32", bad_buffer is None):
            self.bad_in_row = 0
            return
        self.bad_in_row += 1
        self.skipped += 1
        log.warning("non-finite loss/gradients/buffers at step %d: step skipped (%d in a row, %d in all)",
                    step, self.bad_in_row, self.skipped)
        if self.recorder is not None:
            info = {"buffer": bad_buffer} if bad_buffer is not None else {}
            self.recorder.note("skipped_step", trainer, in_a_row=self.bad_in_row, **info)
        pl_module.log("train/skipped_steps", float(self.skipped), on_step=True, on_epoch=False)
        if self.bad_in_row >= self.max_bad_steps:
            raise NonFiniteTraining(
                f"training stopped at step {step}: {self.bad_in_row} optimizer steps in a row had non-finite "
                f"loss, gradients or buffers (each was skipped; no weights were changed by them). The last "
                f"checkpoint is intact. Try a lower train.lr, more train.warmup_steps, a smaller train.grad_clip, "
                f"train.precision=32, or check the data for NaN values."
            )

    def state_dict(self) -> Dict[str, Any]:
        return {"bad_in_row": self.bad_in_row, "skipped": self.skipped}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.bad_in_row = int(state.get("bad_in_row", 0))
        self.skipped = int(state.get("skipped", 0))


# --- random state ------------------------------------------------------------------------------


def get_rng_state() -> Dict[str, Any]:
    """torch / CUDA / numpy / Python random states as tensors, ints and lists (``weights_only``-safe)."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state: Dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
        "numpy_pos": int(np_state[2]),
        "numpy_has_gauss": int(np_state[3]),
        "numpy_gauss": float(np_state[4]),
        "python_version": int(py_state[0]),
        "python_state": list(py_state[1]),
        "python_gauss": py_state[2],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Inverse of :func:`get_rng_state`."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", state["numpy_keys"].numpy().astype(np.uint32), state["numpy_pos"],
                         state["numpy_has_gauss"], state["numpy_gauss"]))
    random.setstate((state["python_version"], tuple(state["python_state"]), state["python_gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class RandomStateKeeper(Callback):
    """One continuous random stream for training steps, saved in checkpoints.

    The states are captured at the end of every training batch and put back at the start of the next,
    so whatever draws random numbers in between (validation loaders, logging, checkpointing) does not
    change training; on resume the captured states come from the checkpoint. Under DDP every rank keeps
    its own stream; the checkpoint holds rank 0's, and other ranks re-seed from (seed, step, rank).
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)
        self._snapshot: Optional[Dict[str, Any]] = None
        self._rank = 0
        self._step_at_load: Optional[int] = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._rank = int(getattr(trainer, "global_rank", 0))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._step_at_load is not None and self._rank != 0:
            s = (self.seed * 1_000_003 + self._step_at_load) * 131 + self._rank
            torch.manual_seed(s)
            np.random.seed(s % (2**32))
            random.seed(s)
            self._snapshot = None
        elif self._snapshot is not None:
            set_rng_state(self._snapshot)
        self._step_at_load = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._snapshot = get_rng_state()

    def state_dict(self) -> Dict[str, Any]:
        return {"rng": self._snapshot} if self._snapshot is not None else {}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self._snapshot = state.get("rng")
        self._step_at_load = -1 if self._rank != 0 else None

    def on_train_start(self, trainer, pl_module) -> None:
        if self._step_at_load is not None:
            self._step_at_load = int(trainer.global_step)


# --- stages ------------------------------------------------------------------------------------


class StageSchedule(Callback):
    """Named values that change by training stage (e.g. teacher forcing 1 -> 0, free-run weight 0 -> 0.3).

    Before every training batch it sets ``pl_module.stage_values`` (dict) and ``pl_module.stage_label``,
    calls ``pl_module.on_stage_change(label, values)`` when the stage changes (if defined) and logs
    ``train/stage``. ``unit`` is ``"step"`` (global step) or ``"epoch"``. With ``interpolate`` a value
    present in two consecutive stages moves linearly between their starts (smooth transitions).
    """

    def __init__(self, stages: Sequence[StageConfig], unit: str = "step", interpolate: bool = False) -> None:
        if unit not in ("step", "epoch"):
            raise MotionLabError(f"stage unit must be 'step' or 'epoch', got {unit!r}")
        if not stages:
            raise MotionLabError("a stage schedule needs at least one stage")
        starts = [s.start for s in stages]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise MotionLabError(f"stage starts must increase strictly, got {starts}")
        self.stages = list(stages)
        self.unit = unit
        self.interpolate = interpolate
        self._label: Optional[str] = None

    def values_at(self, t: float) -> Tuple[int, str, Dict[str, float]]:
        """(stage index, label, values) at step/epoch ``t``; before the first start, the first stage."""
        i = 0
        for j, s in enumerate(self.stages):
            if t >= s.start:
                i = j
        stage = self.stages[i]
        values = dict(stage.values)
        if self.interpolate and i + 1 < len(self.stages) and t >= stage.start:
            nxt = self.stages[i + 1]
            a = (t - stage.start) / (nxt.start - stage.start)
            for k, v in stage.values.items():
                if k in nxt.values:
                    values[k] = float(v + a * (nxt.values[k] - v))
        return i, stage.label or f"stage{i + 1}", values

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        t = trainer.global_step if self.unit == "step" else trainer.current_epoch
        i, label, values = self.values_at(t)
        pl_module.stage_values = values
        pl_module.stage_label = label
        if label != self._label:
            self._label = label
            hook = getattr(pl_module, "on_stage_change", None)
            if callable(hook):
                hook(label, values)
            log.info("stage %s from %s %d: %s", label, self.unit, t, values)
        pl_module.log("train/stage", float(i), on_step=True, on_epoch=False)


# --- checkpoints -------------------------------------------------------------------------------


class LastCheckpoint(Checkpoint):
    """Write ``last.ckpt`` every ``every_n_steps`` optimizer steps and after the final step.

    It refuses to save state that is not finite: parameters, buffers, and the EMA-averaged model when
    weight averaging runs. A refused save is logged (and noted in ``history.json`` as
    ``checkpoint_refused``) and the last good checkpoint stays in place; a refused *final* save raises
    :class:`NonFiniteTraining`, so a run never ends "completed" with weights it could not keep. Being a
    ``Checkpoint`` it runs after every other callback at batch end (after the EMA update, the RNG capture
    and the non-finite guard).
    """

    def __init__(self, path, every_n_steps: int = 100, recorder: Optional[RunRecorder] = None) -> None:
        self.path = Path(path)
        self.every = max(1, int(every_n_steps))
        self.recorder = recorder
        self._saved_step = -1

    @staticmethod
    def _is_final(trainer) -> bool:
        step = trainer.global_step
        if trainer.max_steps is not None and trainer.max_steps > 0 and step >= trainer.max_steps:
            return True
        max_epochs = trainer.max_epochs
        return (max_epochs is not None and max_epochs > 0 and trainer.current_epoch >= max_epochs - 1
                and bool(trainer.fit_loop.epoch_loop.batch_progress.is_last_batch))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = int(trainer.global_step)
        if step == self._saved_step or step == 0:
            return
        final = self._is_final(trainer)
        if step % self.every == 0 or final:
            self.save(trainer, pl_module, final=final)

    @staticmethod
    def nonfinite_state(trainer, pl_module) -> Optional[str]:
        """Name of the first non-finite parameter or buffer of the module or of the EMA model, else ``None``."""
        bad = first_nonfinite(itertools.chain(pl_module.named_parameters(), pl_module.named_buffers()))
        if bad is not None:
            return bad
        for cb in getattr(trainer, "callbacks", ()):
            avg = getattr(cb, "_average_model", None)
            if isinstance(cb, EMAWeightAveraging) and avg is not None:
                bad = first_nonfinite(itertools.chain(avg.named_parameters(), avg.named_buffers()))
                if bad is not None:
                    return f"EMA model {bad}"
        return None

    def save(self, trainer, pl_module, final: bool = False) -> bool:
        """Write the checkpoint; ``False`` (and nothing written) when the state is not finite."""
        step = int(trainer.global_step)
        bad = self.nonfinite_state(trainer, pl_module)
        if bad is not None:
            kept = f"step {self._saved_step}" if self._saved_step > 0 else "the one already there, if any"
            msg = (f"refusing to checkpoint non-finite state ({bad}) at step {step}; the last good checkpoint "
                   f"({kept}) is kept")
            log.error(msg)
            if self.recorder is not None:
                self.recorder.note("checkpoint_refused", trainer, tensor=bad)
            if final:
                raise NonFiniteTraining(msg, file=self.path)
            return False
        trainer.save_checkpoint(str(self.path), weights_only=False)  # full state, for resuming
        self._saved_step = step
        if self.recorder is not None:
            self.recorder.flush(trainer)
        return True


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O that writes atomically and always reads with ``weights_only=True``."""

    def save_checkpoint(self, checkpoint: Dict[str, Any], path, storage_options: Optional[Any] = None) -> None:
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(self, path, map_location: Any = None, weights_only: Optional[bool] = None):
        return torch.load(path, map_location=map_location or "cpu", weights_only=True)


# --- schedule horizon --------------------------------------------------------------------------


def retarget_schedules(trainer, total: int, warmup: int) -> int:
    """Give every :class:`WarmupCosine` factor of the trainer's ``LambdaLR`` schedulers the length ``total``
    (and warmup ``min(warmup, total)``) and set the optimizers' current lr from it; returns how many changed.

    ``LambdaLR.load_state_dict`` restores the factor's saved fields, so a run resumed with a larger
    ``train.max_steps`` would otherwise keep decaying towards the old end.
    """
    changed = 0
    total = max(1, int(total))
    warmup = min(max(0, int(warmup)), total)
    for config in getattr(trainer, "lr_scheduler_configs", ()):
        sched = config.scheduler
        lambdas = getattr(sched, "lr_lambdas", None)
        if not lambdas or not any(isinstance(f, WarmupCosine) for f in lambdas):
            continue
        for f in lambdas:
            if isinstance(f, WarmupCosine) and (f.total, f.warmup) != (total, warmup):
                f.total, f.warmup = total, warmup
                changed += 1
        step = int(sched.last_epoch)
        for group, base, f in zip(sched.optimizer.param_groups, sched.base_lrs, lambdas):
            group["lr"] = base * f(step)
        sched._last_lr = [g["lr"] for g in sched.optimizer.param_groups]
    return changed


class ScheduleHorizon(Callback):
    """After a resume has restored the schedulers, stretch their :class:`WarmupCosine` factors to the current
    config's schedule length (``total_fn(trainer)``) and warmup (see :func:`retarget_schedules`)."""

    def __init__(self, total_fn, warmup: int) -> None:
        self.total_fn = total_fn
        self.warmup = int(warmup)

    def on_train_start(self, trainer, pl_module) -> None:  # runs after restore_training_state
        total = int(self.total_fn(trainer))
        if retarget_schedules(trainer, total, self.warmup):
            log.info("learning-rate schedule stretched to %d steps", total)


# --- EMA ---------------------------------------------------------------------------------------


def _n_averaged(avg) -> int:
    n = getattr(avg, "n_averaged", None)
    return int(n) if n is not None else 0


class BufferFollowingEMA(EMAWeightAveraging):
    """``EMAWeightAveraging`` over parameters only (``use_buffers=False``): buffers (EMA codebooks, running
    statistics) are copied from the raw model, never averaged, so the averaged model's codes match its
    usage statistics and reset codes are not blended.

    Until the first average is taken (``n_averaged == 0``, e.g. before ``train.ema_start_step``) validation
    and the end of fitting keep the raw weights instead of the untrained initial copy.
    """

    def __init__(self, decay: float, update_starting_at_step: Optional[int] = None) -> None:
        super().__init__(use_buffers=False, decay=decay, update_starting_at_step=update_starting_at_step)
        self._swapped = False

    def _has_average(self) -> bool:
        return self._average_model is not None and _n_averaged(self._average_model) > 0

    def _sync_buffers(self, pl_module) -> None:
        if self._average_model is None:
            return
        with torch.no_grad():
            for avg_b, cur_b in zip(self._average_model.module.buffers(), pl_module.buffers()):
                avg_b.copy_(cur_b.to(avg_b.device))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        self._sync_buffers(pl_module)

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self._swapped = self._has_average()
        if self._swapped:
            self._sync_buffers(pl_module)
            super().on_validation_epoch_start(trainer, pl_module)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if self._swapped:
            super().on_validation_epoch_end(trainer, pl_module)
        self._swapped = False

    def on_train_end(self, trainer, pl_module) -> None:
        if self._has_average():
            self._sync_buffers(pl_module)
            super().on_train_end(trainer, pl_module)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: Dict[str, Any]) -> None:
        self._sync_buffers(pl_module)
        super().on_save_checkpoint(trainer, pl_module, checkpoint)


def make_ema(decay: float, start_step: int = 0) -> Callback:
    """Lightning's ``EMAWeightAveraging`` of the parameters (:class:`BufferFollowingEMA`): checkpoints keep
    the EMA parameters with the raw buffers under ``state_dict`` (the raw state under
    ``current_model_state``); validation uses the EMA weights; after fitting the module holds them."""
    if not (0.0 < decay < 1.0):
        raise MotionLabError(f"train.ema_decay must lie in (0, 1), got {decay}")
    return BufferFollowingEMA(decay=decay, update_starting_at_step=start_step or None)


def progress_bar(kind: str, every_s: float = 5.0, stream: Any = None) -> Optional[Callback]:
    """The progress callback for ``train.progress`` on this output (``None`` for "silent"); see
    :func:`motionlab.train.progress.training_progress`, which also says whether it is Lightning's own bar."""
    from motionlab.train.progress import training_progress

    return training_progress(kind, every_s, stream)[0]


__all__ = [
    "HISTORY_FILE", "RunRecorder", "NonFiniteTraining", "NonFiniteGuard", "RandomStateKeeper", "StageSchedule",
    "LastCheckpoint", "AtomicCheckpointIO", "make_ema", "progress_bar", "get_rng_state", "set_rng_state",
    "BufferFollowingEMA", "ScheduleHorizon", "retarget_schedules", "step_is_bad", "scaler_handles_overflow",
    "first_nonfinite",
]
