"""Training the FCN classifier from image-level labels only (the paper's weak supervision).

VGG16 FCN from ImageNet weights (fc6/fc7 reshaped from the fully connected layers, a new fc8) or
from scratch; BCE-with-logits on the globally max-pooled fc8 map; SGD with momentum 0.9, weight
decay 5e-4 and ×10 learning rate on fc8; horizontal flips and scale jitter; letterboxed square
inputs. Each epoch is validated on a stratified, seeded split; the best epoch (validation mAP) is
the checkpoint, every epoch is a row of a CSV log, and a resumable state is saved after each epoch.

After each epoch the files are written in one order: the log row, then the resume state (the
commit: model, optimiser, epoch, best score and the best epoch's record, in one atomic file), then
the checkpoint if this epoch is the best. A kill between the last two leaves a state whose best
epoch is its own epoch, so `--resume` writes the checkpoint from the state's model before going
on; a kill anywhere else leaves the previous or the new state whole. Each epoch draws its shuffles
from its own seed, so a resumed run trains exactly as one that was never stopped.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from napari_partial_style.core.errors import InputError, WeightsError
from napari_partial_style.core.images import as_source_image, resize_rgb, working_shape
from napari_partial_style.core.io.atomic import atomic_file, check_parent
from napari_partial_style.core.io.image_files import read_image_file
from napari_partial_style.core.nets.vgg import IMAGENET_MEAN, load_checkpoint
from napari_partial_style.core.options import leaves, shown
from napari_partial_style.core.params import MIN_TRAIN_SIZE, TrainParams
from napari_partial_style.core.progress import Progress, StageGenerator
from napari_partial_style.core.segment.canvas import canvas
from napari_partial_style.core.segment.classifier import save_checkpoint
from napari_partial_style.core.segment.fcn import FCNClassifier, copy_imagenet_weights
from napari_partial_style.core.train.datasets import Dataset

RESUME_FORMAT = "napari-partial-style training state"
RESUME_KEYS = {
    "classes": list,
    "epoch": int,
    "best": float,
    "model": dict,
    "optimizer": dict,
    "train_idx": torch.Tensor,
    "val_idx": torch.Tensor,
}
START_AGAIN = "start again with --overwrite"
RESUME_MAY_CHANGE = ("epochs",)  # a run can be continued for more epochs; every other setting is the run's
# Training memory per image for VGG16 at 224 px (activations and their gradients), scaled by area;
# plus weights, gradients and momentum of the 134 M parameters. Estimates, used to pick a batch size.
BYTES_PER_IMAGE_224 = 0.15e9
MODEL_BYTES = 3 * 4 * 134e6


def output_paths(out: Path) -> tuple[Path, Path, Path]:
    """The checkpoint, its CSV log and its resume state."""
    return out, out.with_suffix(".csv"), out.with_suffix(".resume.pt")


def check_outputs(out: Path, resume: bool = False, overwrite: bool = False) -> Path:
    """Refuse, before any work, an output that cannot be written or would replace a run's files."""
    out = Path(out)
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; give a checkpoint file name such as {out / 'classifier.pt'}.")
    check_parent(out)
    checkpoint, log, state = output_paths(out)
    existing = [p for p in (checkpoint, log, state) if p.exists()]
    if resume:
        if not state.is_file():
            again = "start again with --overwrite" if existing else "start without --resume"
            raise InputError(
                f"nothing to resume: {state} does not exist (no epoch of that run finished its state); {again}."
            )
        return out
    if existing and not overwrite:
        carry_on = "continue it with --resume, " if state.is_file() else ""
        raise InputError(
            f"{existing[0]} exists (from an earlier run); {carry_on}replace it with --overwrite, or "
            "choose another --out."
        )
    return out


def other_settings(saved: dict[str, Any], params: TrainParams) -> list[str]:
    """Each setting of `params` that differs from the saved run's, as "--lr: saved 0.001, given 0.01"."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "on" if value else "off"
        return "automatic" if value is None else shown(value)

    differ = []
    for leaf in leaves(TrainParams):
        if leaf.name in RESUME_MAY_CHANGE or leaf.name not in saved:
            continue
        before, now = saved[leaf.name], getattr(params, leaf.name)
        before = tuple(before) if isinstance(before, list) else before
        if before != now:
            differ.append(f"{leaf.flag}: saved {text(before)}, given {text(now)}")
    return differ


def stratified_split(targets: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation indices; each class (by first label) keeps its share in both."""
    rng = np.random.default_rng(seed)
    primary = targets.argmax(axis=1)
    train, val = [], []
    for c in np.unique(primary):
        members = rng.permutation(np.flatnonzero(primary == c))
        n_val = int(round(len(members) * val_fraction))
        if val_fraction > 0 and len(members) >= 2:
            n_val = min(max(n_val, 1), len(members) - 1)
        val += members[:n_val].tolist()
        train += members[n_val:].tolist()
    return np.sort(train), np.sort(val)


def auto_batch_size(size: int, device: torch.device) -> int:
    """The largest batch that fits half the free memory by the estimate above, 1 to 32."""
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
    else:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    per_image = BYTES_PER_IMAGE_224 * (size / MIN_TRAIN_SIZE) ** 2
    return int(np.clip((0.5 * free - MODEL_BYTES) // per_image, 1, 32))


def new_classifier(classes: list[str], vgg16_path: Path | None) -> FCNClassifier:
    """The FCN with ImageNet body, fc6 and fc7 (if a path is given) and a freshly initialised fc8.

    From scratch, convolutions get He initialisation (as torchvision initialises VGG): PyTorch's
    default keeps the signal too weak through 15 layers without normalisation to learn quickly."""
    model = FCNClassifier(classes, score_kind="sigmoid")
    if vgg16_path is not None:
        copy_imagenet_weights(model, vgg16_path, ("fc6", "fc7"))
    else:
        for conv in [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]:
            torch.nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            torch.nn.init.zeros_(conv.bias)
    torch.nn.init.normal_(model.head.fc8.weight, std=0.01)
    torch.nn.init.zeros_(model.head.fc8.bias)
    return model


def make_optimizer(model: FCNClassifier, params: TrainParams) -> torch.optim.SGD:
    head = list(model.head.fc8.parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    return torch.optim.SGD(
        [
            {"params": body, "lr": params.lr},
            {"params": head, "lr": params.lr * params.head_lr_factor},
        ],
        lr=params.lr,
        momentum=params.momentum,
        weight_decay=params.weight_decay,
    )


def letterbox(
    rgb: np.ndarray, size: int, scale: float = 1.0, flip: bool = False, rng: np.random.Generator | None = None
) -> np.ndarray:
    """The image with its long side at scale·size, flipped if asked, on the classifier's canvas
    (core/segment/canvas.py: the ImageNet mean every checkpoint normalises with); a larger image is
    cropped at random."""
    long_side = max(1, round(size * scale))
    img = resize_rgb(rgb, working_shape(rgb.shape[:2], long_side))
    if flip:
        img = img[:, ::-1]
    h, w = img.shape[:2]
    rng = rng or np.random.default_rng(0)
    top = int(rng.integers(0, h - size + 1)) if h > size else 0
    left = int(rng.integers(0, w - size + 1)) if w > size else 0
    return canvas(img[top : top + size, left : left + size], size, IMAGENET_MEAN)[0]


def loss_of(model: FCNClassifier, batch: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """BCE-with-logits on the globally max-pooled fc8 map."""
    return F.binary_cross_entropy_with_logits(model(batch).amax(dim=(2, 3)), targets)


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    order = np.argsort(-scores)
    hits = positives[order].astype(bool)
    if not hits.any():
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def evaluate(scores: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Accuracy (top class for single-label rows, all thresholds right for multi-label) and mAP."""
    single = targets.sum(axis=1) == 1
    correct = np.where(
        single, scores.argmax(axis=1) == targets.argmax(axis=1), np.all((scores > 0.5) == (targets > 0.5), axis=1)
    )
    aps = [average_precision(scores[:, c], targets[:, c]) for c in range(targets.shape[1])]
    return {
        "accuracy": float(correct.mean()),
        "map": float(np.nanmean(aps)) if not np.all(np.isnan(aps)) else float("nan"),
    }


class Trainer:
    """Holds everything a run needs, so it can be saved at any step and resumed."""

    def __init__(
        self,
        dataset: Dataset,
        params: TrainParams,
        out: Path,
        device: torch.device,
        vgg16_path: Path | None = None,
        resume: bool = False,
    ) -> None:
        self.dataset, self.params, self.out, self.device = dataset, params, Path(out), device
        _, self.log_path, self.resume_path = output_paths(self.out)
        self.batch_size = params.batch_size or auto_batch_size(params.size, device)
        self.images: dict[int, np.ndarray] = {}
        self.epoch = 0
        self.best = -float("inf")  # any first epoch is the best so far, whatever its loss
        self.best_record: dict[str, Any] | None = None  # the best epoch's `training` entry of the checkpoint
        if resume:
            self._load_resume()
            self._trim_log()
        else:
            torch.manual_seed(params.seed)
            self.model = new_classifier(dataset.classes, vgg16_path if params.pretrained else None).to(device)
            self.optimizer = make_optimizer(self.model, params)
            self.train_idx, self.val_idx = stratified_split(dataset.targets, params.val_fraction, params.seed)
        self.rng = np.random.default_rng([params.seed, self.epoch])

    def _load_resume(self) -> None:
        if not self.resume_path.is_file():
            raise InputError(f"nothing to resume: {self.resume_path} does not exist; start without --resume.")
        state = load_checkpoint(self.resume_path, "a training state", fix=START_AGAIN)
        if state.get("format") != RESUME_FORMAT:
            raise WeightsError(f"{self.resume_path} is not a {RESUME_FORMAT}; {START_AGAIN}.")
        wrong = [key for key, kind in RESUME_KEYS.items() if not isinstance(state.get(key), kind)]
        wrong += [] if isinstance(state.get("params", {}), dict) else ["params"]  # older states hold none
        if wrong:
            raise WeightsError(
                f"{self.resume_path} is damaged ({wrong[0]} is missing or of the wrong type); {START_AGAIN}."
            )
        if state["classes"] != self.dataset.classes:
            raise InputError(
                f"{self.resume_path} belongs to another run (classes {state['classes']}); "
                "start without --resume or use the same data."
            )
        differ = other_settings(state.get("params", {}), self.params)
        if differ:
            raise InputError(
                f"{self.resume_path} is a run with other settings ({'; '.join(differ)}); give its settings "
                f"to continue it (only --epochs may change), or {START_AGAIN}."
            )
        self.model = FCNClassifier(state["classes"], "sigmoid").to(self.device)
        self.optimizer = make_optimizer(self.model, self.params)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise WeightsError(
                f"{self.resume_path} does not fit the classifier ({str(exc).splitlines()[0]}); {START_AGAIN}."
            ) from exc
        self.epoch, self.best = state["epoch"], state["best"]
        self.best_record = state.get("best_record")
        # the batch size is part of the run: an automatic one may differ now that memory differs
        self.batch_size = (
            int(state.get("batch_size", self.batch_size)) if self.params.batch_size is None else self.batch_size
        )
        self.train_idx, self.val_idx = state["train_idx"].numpy(), state["val_idx"].numpy()
        self._finish_commit(state.get("best_epoch"))

    def _finish_commit(self, best_epoch: int | None) -> None:
        """The checkpoint of a state committed just before a kill: its best epoch is its own epoch,
        and the checkpoint may still hold an earlier one (or be missing)."""
        if best_epoch == self.epoch and self.best_record is not None:
            self._save_best()
        elif not self.out.is_file() and self.epoch > 0:
            raise InputError(
                f"{self.out}, the best epoch's checkpoint, is missing (moved or deleted) and the state "
                f"cannot rebuild it; {START_AGAIN}."
            )

    def save_resume(self) -> Path:
        """The whole state (after `self.epoch` complete epochs), written atomically: the commit."""
        state = {
            "format": RESUME_FORMAT,
            "classes": self.dataset.classes,
            "epoch": self.epoch,
            "best": self.best,
            "best_epoch": self.best_record["epoch"] if self.best_record else 0,
            "best_record": self.best_record,
            "batch_size": self.batch_size,
            "params": asdict(self.params),  # what --resume must be given again
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "train_idx": torch.from_numpy(np.asarray(self.train_idx)),
            "val_idx": torch.from_numpy(np.asarray(self.val_idx)),
        }
        with atomic_file(self.resume_path) as tmp:
            torch.save(state, tmp)
        return self.resume_path

    def _trim_log(self) -> None:
        """Keep only the log rows of the epochs the resume state holds: a run killed between
        logging an epoch and saving its state would otherwise log that epoch twice."""
        if not self.log_path.is_file():
            return
        with open(self.log_path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        kept = [row for row in rows if row.get("epoch", "").isdigit() and int(row["epoch"]) <= self.epoch]
        if len(kept) != len(rows):
            self._write_log(kept)

    def image(self, index: int) -> np.ndarray:
        if index not in self.images:
            source = as_source_image(read_image_file(self.dataset.paths[index]))
            # decoded once, kept at a bit over the training size as 8-bit to bound memory
            long_side = round(self.params.size * self.params.scale_jitter[1])
            rgb = source.resized(working_shape(source.shape, min(long_side, max(source.shape))))
            self.images[index] = np.round(rgb * 255).astype(np.uint8)
        return self.images[index].astype(np.float32) / 255.0

    def batch(self, indices: np.ndarray, augment: bool) -> tuple[torch.Tensor, torch.Tensor]:
        lo, hi = self.params.scale_jitter
        arrays = [
            letterbox(
                self.image(i),
                self.params.size,
                scale=float(self.rng.uniform(lo, hi)) if augment else 1.0,
                flip=bool(augment and self.rng.random() < 0.5),
                rng=self.rng,
            )
            for i in indices
        ]
        x = torch.from_numpy(np.stack(arrays).transpose(0, 3, 1, 2).copy()).to(self.device)
        y = torch.from_numpy(self.dataset.targets[indices]).to(self.device)
        return x, y

    def step(self, indices: np.ndarray, augment: bool) -> float:
        """One SGD step on the images at `indices`; returns the loss before the step."""
        self.model.train()
        x, y = self.batch(indices, augment)
        self.optimizer.zero_grad()
        loss = loss_of(self.model, x, y)
        if not torch.isfinite(loss):
            raise InputError(
                f"training diverged in epoch {self.epoch + 1} (the loss became {float(loss.detach())}); "
                f"lower --lr (now {self.params.lr:g}) and start again with --overwrite."
            )
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def validate(self) -> dict[str, float]:
        if len(self.val_idx) == 0:
            return {"val_loss": float("nan"), "accuracy": float("nan"), "map": float("nan")}
        self.model.eval()
        scores, losses = [], []
        with torch.no_grad():
            for start in range(0, len(self.val_idx), self.batch_size):
                x, y = self.batch(self.val_idx[start : start + self.batch_size], augment=False)
                logits = self.model(x).amax(dim=(2, 3))
                losses.append(float(F.binary_cross_entropy_with_logits(logits, y, reduction="sum")))
                scores.append(torch.sigmoid(logits).cpu().numpy())
        metrics = evaluate(np.concatenate(scores), self.dataset.targets[self.val_idx])
        return {"val_loss": sum(losses) / (len(self.val_idx) * len(self.dataset.classes)), **metrics}

    def run(self) -> StageGenerator[dict[str, Any]]:
        """Epochs from the saved one to `params.epochs`; yields a progress event per batch."""
        p = self.params
        n_batches = max(1, int(np.ceil(len(self.train_idx) / self.batch_size)))
        while self.epoch < p.epochs:
            started = time.perf_counter()
            self.rng = np.random.default_rng([p.seed, self.epoch])
            order = self.rng.permutation(self.train_idx)
            losses = []
            stage = f"epoch {self.epoch + 1}/{p.epochs}"
            for b in range(n_batches):
                losses.append(self.step(order[b * self.batch_size : (b + 1) * self.batch_size], p.augment))
                yield Progress(stage, b + 1, n_batches, values={"loss": float(np.mean(losses))})
            metrics = self.validate()
            self.epoch += 1
            row = {
                "epoch": self.epoch,
                "train_loss": float(np.mean(losses)),
                **metrics,
                "seconds": round(time.perf_counter() - started, 2),
            }
            self._log(row)
            score = metrics["map"] if not np.isnan(metrics["map"]) else -row["train_loss"]
            if score > self.best:
                self.best, self.best_record = score, self._record(row)
            self.save_resume()
            if self.best_record["epoch"] == self.epoch:
                self._save_best()
            yield Progress(stage, n_batches, n_batches, message=_describe(row))
        return {"checkpoint": str(self.out), "log": str(self.log_path), "epochs": self.epoch, "best": self.best}

    def _log(self, row: dict[str, Any]) -> None:
        rows = []
        if self.log_path.is_file() and self.epoch > 1:
            with open(self.log_path, newline="") as fh:
                rows = list(csv.DictReader(fh))
        self._write_log([*rows, row])

    def _write_log(self, rows: list[dict[str, Any]]) -> None:
        """The whole log, rewritten atomically (a few hundred rows at most)."""
        with atomic_file(self.log_path) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["epoch"])
            writer.writeheader()
            writer.writerows(rows)

    def _record(self, row: dict[str, Any]) -> dict[str, Any]:
        """What the checkpoint says of its training: the settings and this epoch's validation."""
        return {
            **{k: v for k, v in asdict(self.params).items() if k != "scale_jitter"},
            "batch_size": self.batch_size,
            "epoch": row["epoch"],
            "val_accuracy": row["accuracy"],
            "val_map": row["map"],
            "train_images": len(self.train_idx),
            "val_images": len(self.val_idx),
        }

    def _save_best(self) -> None:
        with atomic_file(self.out) as tmp:
            save_checkpoint(self.model, tmp, {"training": self.best_record})


def _describe(row: dict[str, Any]) -> str:
    return (
        f"train loss {row['train_loss']:.4f}, val loss {row['val_loss']:.4f}, "
        f"val accuracy {row['accuracy']:.3f}, val mAP {row['map']:.3f}"
    )
