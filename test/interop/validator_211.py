"""The Python Subnet 58 validator of HS58-subnet 2.1.1, round by round, on recorded miner answers:
the reference the TypeScript validator on its defaults must match (test/e2e/validator-211-parity.test.ts
and test/e2e/validator-python-211.test.ts).

stdin: JSON {"netuid", "epochLength", "validatorUid", "providers": [...], "rounds": [{"block",
"epochBlockHash" | null, "hotkeys", "axonIps", "answers": {probeUrl: [[reachable, status, latency] | null per uid]}}]}
stdout: JSON {"bittensor", "numpy", "specVersion", "rounds": [{"sampled": [ids], "rewards": [..] | null,
"scores": [..], "weights": {"uids", "weights"} | null}]}

Per round, as the 2.1.1 validator does (docs: /work/shared/spec/hs58-reference.md, "Validator"):
sync (resync_metagraph: a uid whose hotkey changed is zeroed, the array resized) -> forward (providers
sorted by probeUrl, random.Random(sha256(epoch block hash)).sample(min(5, n)), seeded with the epoch
block when the hash is unknown; every uid but its own whose axon ip is not 0.0.0.0 is queried; consensus
and 2.1 accuracy per provider, float32 sums, mean over the probes with a consensus; none -> no update)
-> update_scores(rewards, uids) with alpha 0.3 in float32 -> set_weights: scores / sum for every uid,
handed to the SDK's convert_and_normalize_weights_and_uids (what subtensor.set_weights does), sent
with version_key = spec_version of "2.1.1". Consensus and accuracy come from scoring_oracle.py.
"""
import hashlib
import json
import os
import random
import sys

answer_out = sys.stdout
sys.stdout = sys.stderr  # bittensor may print
os.environ.pop("USE_TORCH", None)

import numpy as np  # noqa: E402
from bittensor.utils import weight_utils  # noqa: E402

from scoring_oracle import accuracy, consensus  # noqa: E402

VERSION = "2.1.1"
PROBES_PER_ROUND = 5
ALPHA = 0.3


def spec_version(version):
    major, minor, patch = (int(x) for x in version.split("."))
    return 1000 * major + 10 * minor + patch


def sample(providers, block_hash, epoch_block):
    ordered = sorted(providers, key=lambda p: p["probeUrl"])
    try:
        if block_hash is None:
            raise LookupError("no block hash")
        seed = int(hashlib.sha256(block_hash.encode()).hexdigest(), 16)
    except Exception:  # noqa: BLE001 - the validator falls back to the block number
        seed = epoch_block
    return random.Random(seed).sample(ordered, min(PROBES_PER_ROUND, len(ordered)))


def deserialized(a):
    """What dendrite(..., deserialize=True) hands the validator: None fields for no answer."""
    if a is None:
        return {"reachable": None, "status": None, "latency": None}
    return {"reachable": a[0], "status": a[1], "latency": a[2]}


def forward(job, rnd):
    n = len(rnd["hotkeys"])
    miner_uids = [uid for uid in range(n) if uid != job["validatorUid"] and rnd["axonIps"][uid] != "0.0.0.0"]
    epoch_block = (rnd["block"] // job["epochLength"]) * job["epochLength"]
    chosen = sample(job["providers"], rnd["epochBlockHash"], epoch_block)
    sums = np.zeros(len(miner_uids), dtype=np.float32)
    counted = 0
    for provider in chosen:
        answers = rnd["answers"][provider["probeUrl"]]
        responses = [deserialized(answers[uid]) for uid in miner_uids]
        cons = consensus(responses)
        if cons is None:
            continue
        for i, r in enumerate(responses):
            sums[i] += accuracy(r, cons, "2.1")
        counted += 1
    rewards = None if counted == 0 else sums / counted
    return [p["id"] for p in chosen], miner_uids, rewards


def main():
    job = json.load(sys.stdin)
    scores = None
    hotkeys = None
    out = []
    for rnd in job["rounds"]:
        n = len(rnd["hotkeys"])
        if scores is None:
            scores = np.zeros(n, dtype=np.float32)
            hotkeys = list(rnd["hotkeys"])
        # resync_metagraph
        for uid in range(min(len(hotkeys), n)):
            if hotkeys[uid] != rnd["hotkeys"][uid]:
                scores[uid] = 0
        if len(scores) != n:
            resized = np.zeros(n, dtype=np.float32)
            k = min(len(scores), n)
            resized[:k] = scores[:k]
            scores = resized
        hotkeys = list(rnd["hotkeys"])
        sampled, miner_uids, rewards = forward(job, rnd)
        full_rewards = None
        if rewards is not None:
            # update_scores(rewards, miner_uids)
            scattered = np.zeros_like(scores)
            scattered[np.array(miner_uids, dtype=np.int64)] = rewards
            scores = ALPHA * scattered + (1 - ALPHA) * scores
            assert scores.dtype == np.float32
            full_rewards = [float(x) for x in scattered]
        weights = None
        norm = np.sum(scores)
        if norm > 0:
            raw = scores / norm
            uids, values = weight_utils.convert_and_normalize_weights_and_uids(np.arange(n), raw)
            weights = {"uids": [int(u) for u in uids], "weights": [int(w) for w in values]}
        out.append({"sampled": sampled, "rewards": full_rewards, "scores": [float(x) for x in scores], "weights": weights})
    import bittensor

    answer_out.write(json.dumps({"bittensor": bittensor.__version__, "numpy": np.__version__, "specVersion": spec_version(VERSION), "rounds": out}))
    answer_out.flush()


if __name__ == "__main__":
    main()
