"""The Python SDK's timelock encryption (bittensor_drand, Rust: the `tle` crate the chain uses) as a
peer for test/e2e/timelock-python.test.ts. Reads one JSON request on stdin, prints one JSON answer.

request: {
  "signature": hex of drand's signature of "round",  "round": int,
  "decrypt": [hex of SCALE(UserData{encrypted_data, reveal_round}), ...],   -> plaintexts (hex)
  "encrypt": [hex plaintext, ...],                                          -> SCALE(UserData) (hex), at "round"
  "commits": [{get_encrypted_commit_v2 keyword arguments, hotkey as hex}]   -> {"round", "length", "now"}
}
"""
import json
import sys
import time

import bittensor_drand as drand


def main():
    req = json.load(sys.stdin)
    sig = req["signature"]
    out = {
        "decrypted": [drand.decrypt_with_signature(bytes.fromhex(c), sig).hex() for c in req.get("decrypt", [])],
        "encrypted": [drand.encrypt_at_round(bytes.fromhex(p), req["round"])[0].hex() for p in req.get("encrypt", [])],
        "commits": [],
    }
    for case in req.get("commits", []):
        args = dict(case)
        args["hotkey"] = bytes.fromhex(args["hotkey"])
        before = time.time()
        commit, reveal_round = drand.get_encrypted_commit_v2(**args)
        out["commits"].append({"round": reveal_round, "length": len(commit), "before": before, "after": time.time()})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
