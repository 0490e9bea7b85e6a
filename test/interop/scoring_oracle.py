"""Reference values for src/scoring, computed the way the Python Subnet 58 validators do.

Reads {"cases": [...]} as JSON on stdin, writes {"results": [...]} on stdout.
The consensus/accuracy transcriptions follow docs/spec hs58-reference.md
(Forward steps 5-7) using Python's own Counter and statistics.median; every
array operation uses numpy float32 exactly as the validator's base class does
(scores, accuracy sums and rewards are np.float32 arrays).
"""
import json
import sys
from collections import Counter
from fractions import Fraction
from statistics import median

import numpy as np

MAX_LATENCY_DEVIATION = 2000


def consensus(responses):
    voters = [r for r in responses if r is not None and r.get("reachable") is not None]
    if not voters:
        return None
    lats = [r["latency"] for r in voters if r.get("latency") is not None and r["latency"] > 0]
    return {
        "reachable": Counter([r["reachable"] for r in voters]).most_common(1)[0][0],
        "status": Counter([r.get("status") for r in voters]).most_common(1)[0][0],
        "median": int(median(lats)) if lats else 0,
    }


def accuracy(r, cons, rule):
    if r is None or r.get("reachable") is None:
        return 0.0
    rm = float(r["reachable"] == cons["reachable"])
    sm = float(r.get("status") == cons["status"])
    lat = r.get("latency") or 0
    if rule == "2.1":
        if lat > 0:
            ls = 1.0 if lat < MAX_LATENCY_DEVIATION else 0.0
        else:
            ls = 0.0 if cons["reachable"] else rm
    else:
        if cons["median"] > 0 and lat > 0:
            ls = max(0.0, 1.0 - abs(lat - cons["median"]) / MAX_LATENCY_DEVIATION)
        else:
            ls = rm
    return 0.4 * rm + 0.3 * sm + 0.3 * ls


def probe_round(case):
    """2.1.x forward(): float32 accuracy sums over the probes with a consensus."""
    queried = case["queried"]
    sums = np.zeros(len(queried), dtype=np.float32)
    count = 0
    for probe in case["probes"]:
        by_uid = {r["uid"]: r for r in probe}
        responses = [by_uid.get(uid) for uid in queried]
        cons = consensus(responses)
        if cons is None:
            continue
        for i, resp in enumerate(responses):
            sums[i] += accuracy(resp, cons, case["rule"])
        count += 1
    if count == 0:
        return None
    rewards = sums / count
    out = [None] * case["n"]
    for i, uid in enumerate(queried):
        out[uid] = float(rewards[i])
    return out


def ema(case):
    """BaseValidatorNeuron.update_scores, round after round."""
    scores = np.array(case["scores"], dtype=np.float32)
    alpha = case["alpha"]
    for rewards in case["rounds"]:
        scattered = np.zeros_like(scores)
        scattered[np.arange(len(rewards))] = np.asarray(rewards)
        scores = alpha * scattered + (1 - alpha) * scores
        assert scores.dtype == np.float32
    return [float(x) for x in scores]


def normalize(case):
    """BaseValidatorNeuron.set_weights: scores / np.sum(scores), skipped when the sum is 0."""
    scores = np.array(case["scores"], dtype=np.float32)
    norm = np.sum(scores)
    if not norm > 0:
        return None
    return [float(x) for x in scores / norm]


def drain_v1(case):
    """Generation A forward(): claims summed as USDC floats event by event, float32 rewards."""
    claims = {}
    for address, amount in case["events"]:
        address = address.lower()
        claims[address] = claims.get(address, 0) + int(amount) / (10 ** 6)
    max_claims = (max(claims.values(), default=0) if claims else 0) or 1
    rewards = np.zeros(len(case["wallets"]), dtype=np.float32)
    for i, wallet in enumerate(case["wallets"]):
        if wallet is None:
            continue
        score = 0.4
        c = claims.get(wallet.lower(), 0)
        if c > 0 and max_claims > 0:
            score += 0.6 * (c / max_claims)
        rewards[i] = score
    return [float(x) for x in rewards]


def run(case):
    kind = case["kind"]
    if kind == "consensus":
        return consensus(case["responses"])
    if kind == "accuracy":
        return accuracy(case["response"], case["consensus"], case["rule"])
    if kind == "probe_round":
        return probe_round(case)
    if kind == "ema":
        return ema(case)
    if kind == "normalize":
        return normalize(case)
    if kind == "ratio":
        return float(Fraction(int(case["num"]), int(case["den"])))
    if kind == "drain_v1":
        return drain_v1(case)
    raise ValueError(f"unknown case kind {kind}")


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump({"results": [run(c) for c in cases]}, sys.stdout)


if __name__ == "__main__":
    main()
