"""Oracle for src/scoring/weights.ts: the real bittensor SDK's weight_utils (venv .venv-interop).

Reads {"cases": [...]} as JSON on stdin and writes {"results": [...]} on stdout; bittensor is
imported once for all cases. Case kinds:
  {"kind": "pipeline", "scores": [float], "uids": [int] | null, "n": int, "minAllowedWeights": int,
   "maxWeightsLimitU16": int, "excludeQuantile": int}
      process_weights_for_netuid (with a subtensor/metagraph that answer these hyperparameters,
      MaxWeightsLimit going through the SDK's own u16_normalized_float as subtensor.max_weight_limit
      does) then convert_weights_and_uids_for_emit, the way the subnet template calls them
  {"kind": "emit", "uids": [int], "weights": [float]}          convert_weights_and_uids_for_emit
  {"kind": "set_weights", "uids": [int], "weights": [float]}   convert_and_normalize_weights_and_uids
  {"kind": "sum32", "values": [float]}                         numpy float32 sum (pairwise)
Errors come back as {"error": <exception class>, "message": str}.
"""
import json
import math
import os
import sys

# bittensor may log to stdout: keep the real stdout for the answer only.
answer = sys.stdout
sys.stdout = sys.stderr
os.environ.pop("USE_TORCH", None)

from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
from bittensor.utils import u16_normalized_float  # noqa: E402
from bittensor.utils import weight_utils  # noqa: E402
from bittensor.utils.registration import use_torch  # noqa: E402

assert not use_torch(), "the oracle must run the numpy path"
# The SDK formats whole arrays into debug f-strings even with debug off; summarized printing
# makes that cheap and changes no computed value.
np.set_printoptions(threshold=4, edgeitems=1)


def floats(values):
    """JSON has no NaN/Infinity: send them as strings (the SDK does produce NaN on some inputs)."""
    return [v if math.isfinite(v) else repr(v) for v in values]


def error(err):
    return {"error": type(err).__name__, "message": str(err)}


def pipeline(case):
    n = case["n"]
    scores = np.array(case["scores"], dtype=np.float64)
    uids = np.array(case["uids"] if case["uids"] is not None else range(len(scores)), dtype=np.int64)
    subtensor = SimpleNamespace(
        min_allowed_weights=lambda netuid: case["minAllowedWeights"],
        max_weight_limit=lambda netuid: u16_normalized_float(case["maxWeightsLimitU16"]),
    )
    metagraph = SimpleNamespace(n=n)
    out = {}
    try:
        p_uids, p_weights = weight_utils.process_weights_for_netuid(
            uids=uids,
            weights=scores,
            netuid=58,
            subtensor=subtensor,
            metagraph=metagraph,
            exclude_quantile=case["excludeQuantile"],
        )
        out["processed"] = {"uids": [int(u) for u in p_uids.tolist()], "weights": floats(p_weights.tolist()), "dtype": str(p_weights.dtype)}
    except Exception as err:  # noqa: BLE001 - the test compares which cases raise
        out["processed"] = error(err)
        return out
    try:
        e_uids, e_weights = weight_utils.convert_weights_and_uids_for_emit(uids=p_uids, weights=p_weights)
        out["emitted"] = {"uids": e_uids, "weights": e_weights}
    except Exception as err:  # noqa: BLE001
        out["emitted"] = error(err)
    return out


def emit(case):
    try:
        uids, weights = weight_utils.convert_weights_and_uids_for_emit(
            uids=np.array(case["uids"], dtype=np.int64), weights=np.array(case["weights"], dtype=np.float64)
        )
        return {"uids": uids, "weights": weights}
    except Exception as err:  # noqa: BLE001
        return error(err)


def set_weights(case):
    try:
        uids, weights = weight_utils.convert_and_normalize_weights_and_uids(list(case["uids"]), list(case["weights"]))
        return {"uids": uids, "weights": weights}
    except Exception as err:  # noqa: BLE001
        return error(err)


def main():
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    results = []
    for case in request["cases"]:
        kind = case["kind"]
        if kind == "pipeline":
            results.append(pipeline(case))
        elif kind == "emit":
            results.append(emit(case))
        elif kind == "set_weights":
            results.append(set_weights(case))
        elif kind == "sum32":
            results.append(floats([float(np.array(case["values"], dtype=np.float32).sum())])[0])
        else:
            raise SystemExit(f"unknown case kind {kind!r}")
    import bittensor

    answer.write(json.dumps(allow_nan=False, obj={"bittensor": bittensor.__version__, "numpy": np.__version__, "results": results}))
    answer.flush()


main()
