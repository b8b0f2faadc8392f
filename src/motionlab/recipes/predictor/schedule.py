"""The guide's training schedule: teacher-forcing decay and ``freerun_stage_schedule``, checked.

:func:`validate_config` runs when a predictor config is built (``motionlab train``, ``tune``, ``ablate``):
what cannot run is a :class:`~motionlab.errors.MotionLabError` naming the key and listing the valid
choices (a stage past the last epoch, an unknown loss term or group, an adaptive method that does not
exist, ``range`` not ``[start, end]`` with ``1 <= start <= end``); the guide's design rules are
warnings (logged, and returned): the free-run weight never decreases, changes by at most 0.15 between
neighbouring stages, ends at 0.3 or more, and the ranges leave no gaps and do not overlap.
"""

from __future__ import annotations

import logging
from typing import Dict, List, Tuple

from motionlab.errors import MotionLabError, choices_error
from motionlab.recipes.predictor.config import PredictorConfig
from motionlab.recipes.predictor.losses import LOSS_GROUPS, LOSS_TERMS
from motionlab.recipes.predictor.model import PHASE_RATES
from motionlab.train.config import StageConfig

log = logging.getLogger("motionlab.predictor")

TF_MODES = ("epoch_linear", "step_linear", "constant")
ADAPTIVE_METHODS = ("none", "fixed", "uncertainty", "dwa", "gradnorm")
WEIGHT_KEYS = tuple(f"w_{t}" for t in LOSS_TERMS if t != "freerun") + ("freerun_weight",)
TRAINER_KEYS = WEIGHT_KEYS + ("freerun_horizon", "tf_max", "tf_min")
MAX_STEP = 0.15  # largest change of freerun_weight between neighbouring stages
MIN_FINAL = 0.3  # smallest freerun_weight of the last stage


def _epochs(cfg: PredictorConfig) -> int:
    return int(cfg.train.max_epochs) if cfg.train.max_epochs > 0 else 0


NOISE_PARTS = ("all", "pose")
FREERUN_MEASURES = ("state", "motion")


def validate_config(cfg: PredictorConfig) -> List[str]:
    """Check ``cfg`` (errors raise); return the guide-rule warnings (also logged)."""
    t = cfg.train
    if t.tf_mode not in TF_MODES:
        raise choices_error("teacher forcing mode", t.tf_mode, TF_MODES, place="train.tf_mode")
    if cfg.loss.freerun_measure not in FREERUN_MEASURES:
        raise choices_error("free-run measure", cfg.loss.freerun_measure, FREERUN_MEASURES, place="loss.freerun_measure")
    if t.noise_parts not in NOISE_PARTS:
        raise choices_error("noise part", t.noise_parts, NOISE_PARTS, place="train.noise_parts")
    if cfg.model.phase_rate not in PHASE_RATES:
        raise choices_error("phase rate", cfg.model.phase_rate, PHASE_RATES, place="model.phase_rate")
    if not cfg.model.control_clip >= 0:
        raise MotionLabError(f"model.control_clip must be >= 0 (0 = off), got {cfg.model.control_clip}",
                             place="model.control_clip")
    if not (0.0 <= t.tf_min <= 1.0 and 0.0 <= t.tf_max <= 1.0):
        raise MotionLabError(f"tf_max and tf_min must lie in [0, 1], got {t.tf_max}, {t.tf_min}", place="train.tf_max")
    if t.tf_mode != "constant" and t.tf_end_epoch < t.tf_start_epoch:
        raise MotionLabError(f"tf_end_epoch {t.tf_end_epoch} is before tf_start_epoch {t.tf_start_epoch}",
                             place="train.tf_end_epoch")
    a = t.adaptive
    if a.method not in ADAPTIVE_METHODS:
        raise choices_error("adaptive loss method", a.method, ADAPTIVE_METHODS, place="train.adaptive.method")
    for term in a.terms:
        if term not in LOSS_TERMS:
            raise choices_error("loss term", term, LOSS_TERMS, place="train.adaptive.terms")
    if a.method != "none" and not a.terms:
        raise MotionLabError(f"adaptive method {a.method!r} needs train.adaptive.terms (e.g. [fk_pos, rot_local, "
                             f"rot_delta]); valid terms: {', '.join(LOSS_TERMS)}", place="train.adaptive.terms")
    if len(set(a.terms)) != len(a.terms):
        raise MotionLabError(f"train.adaptive.terms repeats a term: {a.terms}", place="train.adaptive.terms")
    if cfg.loss.freerun_horizon < 1:
        raise MotionLabError("freerun_horizon must be at least 1 frame", place="loss.freerun_horizon")
    if cfg.data.window < 4:
        raise MotionLabError(f"data.window must be at least 4 frames, got {cfg.data.window}", place="data.window")
    return _validate_stages(cfg)


def _validate_stages(cfg: PredictorConfig) -> List[str]:
    stages = cfg.freerun_stage_schedule
    warnings: List[str] = []
    if not stages:
        return warnings
    epochs = _epochs(cfg)
    for i, s in enumerate(stages):
        place = f"freerun_stage_schedule[{i}]"
        a, b = s.range
        if a < 1 or b < a:
            raise MotionLabError(f"range must be [start, end] epochs with 1 <= start <= end, got {list(s.range)}",
                                 place=f"{place}.range")
        if epochs and b > epochs:
            raise MotionLabError(f"stage {s.label or i + 1!r} ends at epoch {b}, past train.max_epochs={epochs}; "
                                 f"shorten the range or raise train.max_epochs", place=f"{place}.range")
        for key, value in s.trainer.items():
            if key not in TRAINER_KEYS:
                raise choices_error("stage trainer key", key, TRAINER_KEYS, place=f"{place}.trainer")
            if key == "freerun_horizon" and value < 1:
                raise MotionLabError("freerun_horizon must be at least 1 frame", place=f"{place}.trainer.{key}")
        for group, weights in s.loss_groups.items():
            if group not in LOSS_GROUPS:
                raise choices_error("loss group", group, LOSS_GROUPS, place=f"{place}.loss_groups")
            for key in weights:
                if key not in WEIGHT_KEYS:
                    raise choices_error("loss weight", key, WEIGHT_KEYS, place=f"{place}.loss_groups.{group}")
                term = "freerun" if key == "freerun_weight" else key[2:]
                if term not in LOSS_GROUPS[group]:
                    home = next(g for g, terms in LOSS_GROUPS.items() if term in terms)
                    warnings.append(f"{place}.loss_groups.{group}: {key} belongs to the {home!r} group")
    order = sorted(range(len(stages)), key=lambda i: stages[i].range[0])
    if order != list(range(len(stages))):
        raise MotionLabError(f"stages must be listed in epoch order, got starts {[s.range[0] for s in stages]}",
                             place="freerun_stage_schedule")
    for i in range(1, len(stages)):
        prev, cur = stages[i - 1].range, stages[i].range
        if cur[0] == prev[0]:
            raise MotionLabError(f"stages {i} and {i + 1} both start at epoch {cur[0]}", place="freerun_stage_schedule")
        if cur[0] <= prev[1]:
            warnings.append(f"stage {stages[i].label or i + 1!r} starts at epoch {cur[0]} inside the previous stage "
                            f"(ends {prev[1]}): ranges overlap, the later stage wins")
        elif cur[0] > prev[1] + 1:
            warnings.append(f"epochs {prev[1] + 1}-{cur[0] - 1} are in no stage (the previous stage continues)")
    if stages[0].range[0] > 1:
        warnings.append(f"epochs 1-{stages[0].range[0] - 1} are before the first stage (it applies from epoch 1)")
    if epochs and stages[-1].range[1] < epochs:
        warnings.append(f"the last stage ends at epoch {stages[-1].range[1]} of {epochs} (it continues to the end)")
    fw = [stage_values(cfg, s).get("freerun_weight", cfg.loss.freerun_weight) for s in stages]
    for i in range(1, len(fw)):
        if fw[i] < fw[i - 1]:
            warnings.append(f"freerun_weight decreases from {fw[i - 1]} to {fw[i]} at stage {stages[i].label or i + 1!r}"
                            " (the guide: never lower it late in training)")
        if abs(fw[i] - fw[i - 1]) > MAX_STEP + 1e-9:
            warnings.append(f"freerun_weight jumps by {fw[i] - fw[i - 1]:+.3f} at stage {stages[i].label or i + 1!r} "
                            f"(the guide: at most {MAX_STEP} between stages)")
    if fw[-1] < MIN_FINAL:
        warnings.append(f"the last stage's freerun_weight is {fw[-1]} (the guide: at least {MIN_FINAL})")
    for w in warnings:
        log.warning("freerun_stage_schedule: %s", w)
    return warnings


def stage_values(cfg: PredictorConfig, stage) -> Dict[str, float]:
    """The named values a stage sets: its ``trainer`` entries, then its ``loss_groups`` weights."""
    values = {k: float(v) for k, v in stage.trainer.items()}
    for weights in stage.loss_groups.values():
        values.update({k: float(v) for k, v in weights.items()})
    return values


def stage_configs(cfg: PredictorConfig) -> List[StageConfig]:
    """The schedule as the engine's :class:`StageConfig` list (0-based epoch starts, for ``StageSchedule``)."""
    return [StageConfig(start=s.range[0] - 1, label=s.label or f"stage{i + 1}", values=stage_values(cfg, s))
            for i, s in enumerate(cfg.freerun_stage_schedule)]


def teacher_forcing_ratio(cfg: PredictorConfig, epoch: float, tf_max: float = None, tf_min: float = None) -> float:
    """Teacher-forcing probability at (1-based, possibly fractional) ``epoch``.

    ``constant``: ``tf_max``. ``epoch_linear``: ``tf_max`` until ``tf_start_epoch``, linear to ``tf_min`` at
    ``tf_end_epoch`` by whole epochs; ``step_linear``: the same line followed step by step (fractional epochs).
    A stage may override ``tf_max`` / ``tf_min``.
    """
    t = cfg.train
    hi = t.tf_max if tf_max is None else tf_max
    lo = t.tf_min if tf_min is None else tf_min
    if t.tf_mode == "constant":
        return float(hi)
    e = float(int(epoch)) if t.tf_mode == "epoch_linear" else float(epoch)
    if e <= t.tf_start_epoch:
        return float(hi)
    if e >= t.tf_end_epoch:
        return float(lo)
    a = (e - t.tf_start_epoch) / max(t.tf_end_epoch - t.tf_start_epoch, 1e-9)
    return float(hi + a * (lo - hi))


def group_shares(contrib: Dict[str, float]) -> Tuple[Dict[str, float], List[str]]:
    """Each group's share of the weighted total from per-term contributions, and the guide's band warnings
    (core > 80%, aux > 15%, long < 15%; the ideal is about 65 / 5 / 30)."""
    total = sum(abs(v) for v in contrib.values()) or 1.0
    shares = {g: sum(abs(contrib.get(t, 0.0)) for t in terms) / total for g, terms in LOSS_GROUPS.items()}
    notes = []
    if shares["core"] > 0.8:
        notes.append(f"core group is {100 * shares['core']:.0f}% of the loss (> 80%): raise the long group")
    if shares["aux"] > 0.15:
        notes.append(f"aux group is {100 * shares['aux']:.0f}% of the loss (> 15%): lower the aux weights")
    if shares["long"] < 0.15:
        notes.append(f"long group is {100 * shares['long']:.0f}% of the loss (< 15%): raise freerun_weight")
    return shares, notes
