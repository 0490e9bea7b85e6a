"""Oracle for src/scoring/sampler.ts: CPython's own `random` module, standard library only.

Reads {"cases": [...]} as JSON on stdin and writes {"results": [...]} on stdout, one result
per case, so that thousands of cases cost one interpreter start. Big integers travel as
decimal strings. Case kinds:
  {"kind": "ops", "seed": "<int>" | "blockHash": "0x..", "ops": [["sample", n, k] | ["getrandbits", k] | ["randbelow", n]]}
      one Random instance, the ops run in order (so the generator state carries over)
  {"kind": "seed", "blockHash": "0x.."}
  {"kind": "providers", "providers": [{"id": .., "probeUrl": ..}], "blockHash": str | null, "epochBlock": int, "count": int}
      what the Python validator (2.1.x) does: sorted by probeUrl, seed from the block hash
      (or the epoch block), sample min(count, n); returns the chosen ids
"""
import hashlib
import json
import random
import sys


def seed_of_hash(block_hash):
    return int(hashlib.sha256(block_hash.encode()).hexdigest(), 16)


def run_ops(case):
    seed = seed_of_hash(case["blockHash"]) if "blockHash" in case else int(case["seed"])
    rng = random.Random(seed)
    out = []
    for op in case["ops"]:
        name = op[0]
        try:
            if name == "sample":
                out.append(rng.sample(range(op[1]), op[2]))
            elif name == "getrandbits":
                out.append(str(rng.getrandbits(op[1])))
            elif name == "randbelow":
                out.append(rng._randbelow(op[1]))
            else:
                raise KeyError(name)
        except ValueError as err:
            out.append({"error": type(err).__name__, "message": str(err)})
    return out


def run_providers(case):
    providers = sorted(case["providers"], key=lambda p: p["probeUrl"])
    try:
        if case["blockHash"] is None:
            raise LookupError("no block hash")
        seed = seed_of_hash(case["blockHash"])
    except Exception:
        seed = case["epochBlock"]
    chosen = random.Random(seed).sample(providers, min(case["count"], len(providers)))
    return [p["id"] for p in chosen]


def main():
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # getrandbits(20000) has about 6000 digits
    request = json.loads(sys.stdin.buffer.read().decode("utf-8", "surrogatepass"))
    results = []
    for case in request["cases"]:
        kind = case["kind"]
        if kind == "ops":
            results.append(run_ops(case))
        elif kind == "seed":
            results.append(str(seed_of_hash(case["blockHash"])))
        elif kind == "providers":
            results.append(run_providers(case))
        else:
            raise SystemExit(f"unknown case kind {kind!r}")
    sys.stdout.write(json.dumps({"python": sys.version.split()[0], "results": results}))


main()
