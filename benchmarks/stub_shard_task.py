"""A stand-in for ``ecgseg.shards.process_record_to_shard`` that segments each MIT-BIH
record once per worker and then answers from that: the client's side of a ``--shards``
run without the workers' work.

``benchmarks/dask_scaling.py --stub`` puts :func:`cached_record_to_shard` in place of
``process_record_to_shard`` (in the client, before ``segment_database`` builds its task
function; the workers import this module by name). For a record ``repNNN/<base>`` the
worker segments and writes the shard of the first ``<base>`` it meets (a real result),
and for every other copy returns that light result again under the copy's name, shard
path and source-file names: the same objects, sizes and messages reach the client as
in a real run, at a fraction of the CPU, so that many records can be measured quickly.
Shards of the copies are not written (a virtual dataset maps onto them all the same).
"""

from __future__ import annotations

import copy
import os

_CACHE: dict = {}


def cached_record_to_shard(task, *, shards_dir: str, **kw):
    """``process_record_to_shard(task, ...)``, computed once per base record name."""
    from ecgseg.shards import process_record_to_shard, shard_path

    base = task.name.rsplit("/", 1)[-1]
    if base not in _CACHE:
        _CACHE[base] = (task.name, process_record_to_shard(task, shards_dir=shards_dir, **kw))
    first, res = _CACHE[base]
    out = copy.deepcopy(res)
    out.name = task.name
    out.sha256 = {k.replace(first, task.name, 1): v for k, v in res.sha256.items()}
    if out.shard is not None:
        out.shard = os.fspath(shard_path(shards_dir, task.name))
    return out
