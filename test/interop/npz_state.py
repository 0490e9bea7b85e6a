"""Python validator state files written by numpy itself, for test/unit/python-state.test.ts.

stdin: JSON {"dir": str, "files": [{"name": str, "kind": str, ...}]}; stdout: JSON {"numpy": version,
"files": {name: {"loaded": {...} | null, "ema": [float] | null}}}.

kinds:
  "state"       what HS58-subnet's save_state writes: np.savez(path, step=int, scores=float32 array,
                hotkeys=list of str); "compressed": true uses np.savez_compressed, "dtype" sets the
                scores dtype (default float32), "npy_version" [2, 0] / [3, 0] writes the members
                with numpy.lib.format.write_array(version=...) instead
  "object"      hotkeys saved as an object array (a pickle inside the .npy)
  "big_endian"  scores as >f4
  "two_d"       scores of shape (2, k)
  "no_step"     step left out
  "keep"        nothing written: the file is already there (for "next_round" on it)
For every file np.load can read without pickles, "loaded" is what load_state gets from it
(int(step), scores as floats, list(hotkeys)). With "next_round": {"hotkeys": [...], "rewards": [...],
"alpha": a}, "ema" is the scores after the Python validator's next round: load_state, then
resync_metagraph against those hotkeys (a changed hotkey's score is zeroed, the array resized),
then update_scores(rewards, all uids) in float32.
"""
import io
import json
import os
import sys
import zipfile

import numpy as np


def write_members(path, members, version, compressed):
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, mode="w", compression=method, allowZip64=True) as z:
        for key, value in members.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(value), version=tuple(version))
            z.writestr(key + ".npy", buf.getvalue())


def finite_or_text(x):
    """JSON has no NaN/Infinity: those go as their repr."""
    x = float(x)
    return x if np.isfinite(x) else repr(x)


def write(spec, path):
    kind = spec["kind"]
    if kind == "keep":
        return
    scores = np.array(spec.get("scores", [0.5, 0.25]), dtype=spec.get("dtype", "float32"))
    hotkeys = list(spec.get("hotkeys", ["5A", "5B"]))
    step = spec.get("step", 3)
    if kind == "state":
        if "npy_version" in spec:
            write_members(path, {"step": np.array(step), "scores": scores, "hotkeys": np.array(hotkeys)}, spec["npy_version"], spec.get("compressed", False))
        elif spec.get("compressed"):
            np.savez_compressed(path, step=step, scores=scores, hotkeys=hotkeys)
        else:
            np.savez(path, step=step, scores=scores, hotkeys=hotkeys)
    elif kind == "object":
        np.savez(path, step=step, scores=scores, hotkeys=np.array(hotkeys, dtype=object))
    elif kind == "big_endian":
        np.savez(path, step=step, scores=scores.astype(">f4"), hotkeys=hotkeys)
    elif kind == "two_d":
        np.savez(path, step=step, scores=scores.reshape(2, -1), hotkeys=hotkeys)
    elif kind == "no_step":
        np.savez(path, scores=scores, hotkeys=hotkeys)
    else:
        raise SystemExit(f"unknown kind {kind!r}")


def load_state(path):
    """BaseValidatorNeuron.load_state, without its blanket except."""
    state = np.load(path)
    return int(state["step"]), state["scores"], list(state["hotkeys"])


def next_round(path, spec):
    step, scores, hotkeys = load_state(path)
    new_hotkeys = spec["hotkeys"]
    # resync_metagraph: zero replaced hotkeys, resize to n
    for uid in range(min(len(hotkeys), len(new_hotkeys))):
        if hotkeys[uid] != new_hotkeys[uid]:
            scores[uid] = 0
    if len(scores) != len(new_hotkeys):
        resized = np.zeros(len(new_hotkeys), dtype=np.float32)
        k = min(len(scores), len(new_hotkeys))
        resized[:k] = scores[:k]
        scores = resized
    # update_scores with every uid
    rewards = np.asarray(spec["rewards"], dtype=np.float32)
    scattered = np.zeros_like(scores)
    scattered[np.arange(len(rewards))] = rewards
    alpha = spec["alpha"]
    scores = alpha * scattered + (1 - alpha) * scores
    return [float(x) for x in scores]


def main():
    job = json.load(sys.stdin)
    out = {}
    for spec in job["files"]:
        path = os.path.join(job["dir"], spec["name"])
        write(spec, path)
        entry = {"loaded": None, "ema": None}
        try:
            step, scores, hotkeys = load_state(path)
            entry["loaded"] = {"step": step, "scores": [finite_or_text(x) for x in np.ravel(scores)], "hotkeys": [str(h) for h in hotkeys], "dtype": scores.dtype.str}
        except Exception as err:  # noqa: BLE001 - recorded: which files numpy itself refuses
            entry["loaded"] = {"error": type(err).__name__}
        if "next_round" in spec:
            entry["ema"] = next_round(path, spec["next_round"])
        out[spec["name"]] = entry
    json.dump({"numpy": np.__version__, "files": out}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
