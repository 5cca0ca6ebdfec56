"""Training past one process: ranks, the process group, sharding, reductions, the launcher.

``train(TrainConfig(..., nproc=N))`` (``ecg train --nproc N``) starts N local processes
(``torch.multiprocessing``, spawn) that rendezvous on 127.0.0.1 at a free port and train
one model with :class:`~torch.nn.parallel.DistributedDataParallel`: gloo on the CPU, NCCL
on CUDA devices (one GPU per rank, ``cuda:LOCAL_RANK``). ``torchrun --nproc-per-node N -m
ecg_cli.main train ...`` does the same with processes torchrun starts: :func:`current_ranks`
reads ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT``.

How a run is split (see :func:`ecgnet.train.train_epoch`):

- every rank builds the same epoch (jitter, top-up, shuffle from ``(seed, epoch)``) and
  takes its contiguous shard of each global batch (:func:`shard`); ``batch_size`` stays
  the *global* batch and must be a multiple of the number of processes;
- each rank's loss is its beats' share of the global batch mean (the class-weighted sum
  over its shard divided by the global batch's weight sum, times N), so that DDP's mean
  of the gradients is the gradient of the single-process loss;
- the epoch's loss sums and counts are all-reduced (:func:`all_reduce_sum`); rank 0
  validates, writes the run folder, calls the callbacks and shows the progress bars, and
  broadcasts the new state (:func:`broadcast_object`), so every rank stops together.

BatchNorm: on CUDA the model's BatchNorm layers become SyncBatchNorm (statistics of the
global batch). PyTorch's SyncBatchNorm does not run on the CPU, so on gloo each rank
normalises with its own shard's statistics (DDP copies rank 0's running statistics to
the others at every step); models without BatchNorm (``kachuee``, ``kachuee-rr``, the
paper's) train as one process would, within float32 reduction order.

Examples
--------
>>> current_ranks()
Ranks(rank=0, world_size=1, local_rank=0)
>>> shard(torch.arange(10), Ranks(rank=1, world_size=2))
tensor([5, 6, 7, 8, 9])
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence

import torch
import torch.distributed as dist
from torch import nn

from ecgseg.errors import EcgError, InputError

from .device import usable_cores
from .train_config import ConfigError, check_global_batch

if TYPE_CHECKING:  # pragma: no cover
    from .callbacks import TrainCallback
    from .train import RunResult
    from .train_config import TrainConfig

RENDEZVOUS_HOST = "127.0.0.1"
"""Where ``--nproc`` ranks meet (local processes only)."""


class DistributedError(EcgError):
    """A training process died or could not start; the other ranks were stopped."""


@dataclass(frozen=True)
class Ranks:
    """This process's place in a distributed run (``world_size`` 1: a single process)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes the run folder, logs and calls the callbacks."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """More than one process trains."""
        return self.world_size > 1


SINGLE = Ranks()


def environment_world_size() -> int:
    """``WORLD_SIZE`` as set by torchrun (or by :func:`launch` for its ranks); 1 if unset."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise InputError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number") from None


def current_ranks() -> Ranks:
    """The ranks of the initialised process group, else those of the environment, else one.

    Examples
    --------
    >>> current_ranks().world_size
    1
    """
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size(), local)
    world = environment_world_size()
    if world == 1:
        return SINGLE
    return Ranks(int(os.environ.get("RANK", "0")), world, local)


def init_process_group(ranks: Ranks, device: torch.device) -> None:
    """Join the process group (``env://``: ``MASTER_ADDR``/``MASTER_PORT``); gloo or NCCL."""
    if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
        raise InputError("WORLD_SIZE is set but MASTER_ADDR/MASTER_PORT are not; start the "
                         "ranks with torchrun or use --nproc")
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, rank=ranks.rank, world_size=ranks.world_size,
                            init_method="env://")


def rank_device(device: torch.device, ranks: Ranks) -> torch.device:
    """One GPU per rank (``cuda:LOCAL_RANK``); the CPU stays the CPU."""
    if device.type == "cuda" and ranks.active:
        torch.cuda.set_device(ranks.local_rank)
        return torch.device("cuda", ranks.local_rank)
    return device


def rank_threads(threads: Optional[int], ranks: Ranks) -> int:
    """CPU threads of a rank: ``threads`` if given, else the usable cores / world size."""
    return threads if threads is not None else max(1, usable_cores() // ranks.world_size)


def wrap_model(model: nn.Module, device: torch.device, ranks: Ranks) -> nn.Module:
    """The module the training steps call: ``model`` itself, or its DDP wrapper.

    The wrapper shares ``model``'s parameters; checkpoints keep saving ``model``.
    On CUDA, BatchNorm layers are converted to SyncBatchNorm first (in place).
    """
    if not ranks.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # children replaced in place
        return DistributedDataParallel(model, device_ids=[device.index])
    return DistributedDataParallel(model)


def shard(batch: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """This rank's contiguous part of a global batch (the parts, in rank order, are the batch).

    Parameters
    ----------
    batch : torch.Tensor
        ``(b,)`` indices of the global batch.
    ranks : Ranks

    Returns
    -------
    torch.Tensor
        ``ceil``/``floor`` of ``b / world_size`` indices (``torch.tensor_split``).
    """
    if not ranks.active:
        return batch
    return torch.tensor_split(batch, ranks.world_size)[ranks.rank]


def all_reduce_sum(values: Sequence[float], ranks: Ranks) -> List[float]:
    """Sums over the ranks of each value (float64); the values themselves for one process."""
    if not ranks.active:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64)
    dist.all_reduce(t)  # gloo reduces CPU tensors; NCCL would need them on the GPU
    return t.tolist()


def broadcast_object(obj: Any, ranks: Ranks) -> Any:
    """Rank 0's ``obj`` on every rank (pickled); ``obj`` itself for one process."""
    if not ranks.active:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def free_port(host: str = RENDEZVOUS_HOST) -> int:
    """A TCP port free on ``host`` right now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: this process gets SIGTERM when the process that started it dies."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:  # pragma: no cover
            pass


def _rank_main(rank: int, world_size: int, port: int, config: "TrainConfig",
               callbacks: list, results) -> None:
    """Entry point of a ``--nproc`` rank: train, send rank 0's result or an expected error."""
    _die_with_parent()
    os.environ.update(MASTER_ADDR=RENDEZVOUS_HOST, MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    from .train import train

    try:
        result = train(config, callbacks)
    except EcgError as exc:
        parameter = getattr(exc, "parameter", None)
        results.put(("error", rank, parameter, getattr(exc, "detail", str(exc))))
        _end_rank(1)
    except KeyboardInterrupt:
        _end_rank(130)
    if rank == 0:
        results.put(("result", rank, result, None))
    _end_rank(0)


def _end_rank(status: int) -> None:
    """End a rank process now, skipping the interpreter's and C++'s exit-time teardown.

    After ``destroy_process_group`` torch's background C++ threads (gloo, the store) can
    still be joinable when the process exits; their static destructors then call
    ``std::terminate`` ("terminate called without an active exception", SIGABRT, no
    Python frame left). Measured: 2 of 10 runs of the distributed resume test lost rank 1
    that way. Everything a rank must leave behind is written before this point (atomic
    files, the result already in the pipe of a ``SimpleQueue``).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def launch(config: "TrainConfig", callbacks: Iterable["TrainCallback"] = ()) -> "RunResult":
    """Train with ``config.nproc`` local processes; rank 0's :class:`RunResult`.

    The callbacks are pickled to rank 0 (they run there). The processes rendezvous on
    127.0.0.1 at a free port. A rank that fails ends the others; an expected error
    (:class:`~ecgseg.errors.EcgError`) is raised again here, any other failure as
    :class:`DistributedError`. Ctrl-C (``KeyboardInterrupt``) ends every rank.

    Raises
    ------
    ConfigError, InputError
        As :func:`ecgnet.train.train` (from whichever rank met it first).
    DistributedError
        A rank died (killed, crashed) or raised an unexpected exception.
    """
    import torch.multiprocessing as mp

    spawn = mp.get_context("spawn")
    results = spawn.SimpleQueue()
    port = free_port()
    context = mp.start_processes(_rank_main, args=(config.nproc, port, config, list(callbacks),
                                                   results),
                                 nprocs=config.nproc, join=False, start_method="spawn")
    failure: Optional[BaseException] = None
    try:
        while not context.join(timeout=0.5):
            pass
    except (mp.ProcessExitedException, mp.ProcessRaisedException) as exc:
        failure = exc
    finally:
        for p in context.processes:  # Ctrl-C or a failure: no rank outlives the call
            if p.is_alive():
                p.terminate()
        for p in context.processes:
            p.join(timeout=10)
            if p.is_alive():  # pragma: no cover
                p.kill()
    messages = []
    while not results.empty():
        messages.append(results.get())
    for kind, rank, a, b in messages:
        if kind == "error":
            raise (ConfigError(a, b) if a else InputError(b))
    for kind, rank, a, b in messages:
        if kind == "result" and failure is None:
            return a
    if isinstance(failure, mp.ProcessRaisedException):
        raise DistributedError(f"training rank {failure.error_index} failed; the other ranks "
                               f"were stopped:\n{failure}")
    if isinstance(failure, mp.ProcessExitedException):
        how = (f"was killed by signal {failure.signal_name}" if failure.signal_name
               else f"exited with status {failure.exit_code}")
        raise DistributedError(f"training rank {failure.error_index} {how}; the other ranks "
                               f"were stopped")
    raise DistributedError("the training ranks ended without a result")  # pragma: no cover


__all__ = ["DistributedError", "Ranks", "SINGLE", "all_reduce_sum", "broadcast_object",
           "current_ranks", "environment_world_size", "free_port",
           "init_process_group", "launch", "rank_device", "rank_threads", "shard",
           "wrap_model"]
