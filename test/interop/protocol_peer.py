"""Peer for test/e2e/protocol-python.test.ts: the REAL bittensor SDK (10.x) on the other end of
our wire codec (src/protocol). One interpreter does everything, because `import bittensor` is slow.

Protocol: one JSON job line on stdin. Every output line starts with "@@HS58 " (the SDK logs to
stdout too) followed by JSON:
  1. {"event": "results", ...}  the offline checks and the calls of a Python dendrite to our axon:
     - vectors: requests built by the SDK's own Dendrite.preprocess_synapse_for_request + to_headers()
       + json.dumps(model_dump()) (what aiohttp sends), for fixed nonce / uuid / keys
     - hashes: Synapse.body_hash of a synapse with required_hash_fields, per value set
     - verify: Keypair.verify of signatures our code made
     - lax / lax_headers: what a Python dendrite makes of a 200 body / of response headers
     - calls: Dendrite.call() against our TypeScript axon (job.ts_axon_port)
  2. {"event": "axon_ready", "port": .., "hotkey": ..}  a real bittensor Axon now serves
     ProviderProbe and ProviderCheck; the test sends it requests built by our encodeRequest
  3. after the line "finish" on stdin: {"event": "axon_log", "received": [...]}, then exit.
Big integers travel as decimal strings, floats as repr() text.
"""
import asyncio
import json
import os
import sys
import tempfile
import time
import typing

import bittensor as bt
from bittensor.core import settings
from bittensor.core.chain_data import AxonInfo
from bittensor.core.synapse import Synapse, TerminalInfo
from bittensor.utils import networking
from bittensor_wallet import Keypair, Wallet
from hs58_synapses import ProviderCheck, ProviderProbe, free_port, wait_for_port

# The Subnet 58 synapses, as the Python subnet declares them.


class Nope(bt.Synapse):
    """A synapse our TypeScript axon does not serve (expects 404)."""


class LaxProbe(bt.Synapse):
    """One field of each type, for the pydantic lax-mode table."""

    i: typing.Optional[int] = None
    b: typing.Optional[bool] = None
    s: typing.Optional[str] = None
    f: typing.Optional[float] = None


class HashedProbe(bt.Synapse):
    """A synapse WITH required_hash_fields, to check the body hash and py_str()."""

    text: str = ""
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    maybe: typing.Optional[str] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("text", "count", "ratio", "flag", "maybe")


SYNAPSES = {c.__name__: c for c in (ProviderCheck, ProviderProbe, Nope, LaxProbe, HashedProbe)}


# Messages go on their own pipe (fd 3) when the test opens one: the SDK's threads log to stdout
# and could cut into a long line there (a 146 KB results line was once split by a log line).
_MSG = os.fdopen(3, "w", encoding="utf-8") if os.environ.get("HS58_MSG_FD") == "3" else sys.stdout


def emit(obj):
    _MSG.write("@@HS58 " + json.dumps(obj) + "\n")
    _MSG.flush()


def py_value(v):
    """A Python value as {type, value} with exact text for numbers."""
    if v is None:
        return {"type": "NoneType", "value": None}
    if isinstance(v, bool):
        return {"type": "bool", "value": v}
    if isinstance(v, int):
        return {"type": "int", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": repr(v)}
    return {"type": type(v).__name__, "value": v}


def dendrite_for(keypair, ip, uuid):
    networking.get_external_ip = lambda: ip  # no network lookups in tests
    d = bt.Dendrite(wallet=keypair)
    d.uuid = uuid
    return d


def build_vector(v):
    kp = Keypair.create_from_uri(v["dendrite_uri"])
    d = dendrite_for(kp, v["dendrite_ip"], v["uuid"])
    syn = SYNAPSES[v["synapse"]](**v["fields"])
    target = AxonInfo(version=0, ip=v["axon_ip"], port=v["axon_port"], ip_type=4, hotkey=v["axon_hotkey"], coldkey=v["axon_hotkey"])
    real_time_ns = time.time_ns
    time.time_ns = lambda: int(v["nonce"])
    try:
        syn = d.preprocess_synapse_for_request(target, syn, v["timeout"])
    finally:
        time.time_ns = real_time_ns
    message = f"{syn.dendrite.nonce}.{syn.dendrite.hotkey}.{syn.axon.hotkey}.{syn.dendrite.uuid}.{syn.body_hash}"
    headers = syn.to_headers()  # aiohttp evaluates headers= before json=, as Dendrite.call does
    body = json.dumps(syn.model_dump())
    return {
        "headers": headers,
        "body": body,
        "body_hash": syn.body_hash,
        "message": message,
        "signature_valid": kp.verify(message, bytes.fromhex(syn.dendrite.signature[2:])),
        "version": settings.version_as_int,
    }


def hash_of(values):
    return HashedProbe(**values).body_hash


def verify(case):
    return Keypair(ss58_address=case["ss58"]).verify(case["message"].encode(), bytes.fromhex(case["signature"][2:]))


def lax_body(text):
    """What Dendrite.process_server_response does with a 200 body: cls(**json.loads(body))."""
    try:
        s = LaxProbe(**json.loads(text))
    except Exception as e:  # noqa: BLE001 - any exception makes the dendrite record 422
        return {"ok": False, "error": type(e).__name__}
    return {
        "ok": True,
        "i": py_value(s.i),
        "b": py_value(s.b),
        "s": py_value(s.s),
        "f": py_value(s.f),
        "timeout": py_value(s.timeout),
        "total_size": py_value(s.total_size),
        "axon_status_code": py_value(s.axon.status_code if s.axon else None),
        "axon_process_time": py_value(s.axon.process_time if s.axon else None),
        "axon_ip": py_value(s.axon.ip if s.axon else None),
        "dendrite_nonce": py_value(s.dendrite.nonce if s.dendrite else None),
    }


def lax_headers(headers):
    """What Dendrite.process_server_response does with the response headers: Synapse.from_headers."""
    try:
        s = Synapse.from_headers(headers)
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": type(e).__name__}
    return {"ok": True, "axon_status_code": py_value(s.axon.status_code), "axon_process_time": py_value(s.axon.process_time)}


def describe_call(s):
    return {
        "fields": {k: py_value(v) for k, v in s.deserialize().items()} if isinstance(s.deserialize(), dict) else None,
        "dendrite_status_code": py_value(s.dendrite.status_code),
        "dendrite_status_message": s.dendrite.status_message,
        "axon_status_code": py_value(s.axon.status_code),
        "axon_status_message": s.axon.status_message,
        "axon_process_time": py_value(s.axon.process_time),
        "axon_hotkey": s.axon.hotkey,
        "timeout": py_value(s.timeout),
    }


async def run_calls(job):
    alice = Keypair.create_from_uri("//Alice")
    d = dendrite_for(alice, "10.9.8.7", "hs58-python-dendrite")
    out = []
    for c in job["calls"]:
        port = c.get("port", job["ts_axon_port"])
        target = AxonInfo(version=0, ip="127.0.0.1", port=port, ip_type=4, hotkey=job["ts_axon_hotkey"], coldkey=job["ts_axon_hotkey"])
        syn = SYNAPSES[c["synapse"]](**c["fields"])
        result = await d.call(target, syn, timeout=c["timeout"], deserialize=False)
        out.append(describe_call(result))
    await d.aclose_session()
    return out


def start_axon(received):
    wallet = Wallet(name="hs58", hotkey="axon", path=tempfile.mkdtemp())
    wallet.create_coldkey_from_uri("//Bob", use_password=False, overwrite=True, suppress=True)
    wallet.create_hotkey_from_uri("//Bob", use_password=False, overwrite=True, suppress=True)
    alice = Keypair.create_from_uri("//Alice").ss58_address

    def probe(synapse: ProviderProbe) -> ProviderProbe:
        received.append({"synapse": "ProviderProbe", "target_url": synapse.target_url, "timeout": repr(synapse.timeout)})
        synapse.probe_latency_ms = 42
        synapse.probe_status = 402
        synapse.probe_reachable = True
        return synapse

    def check(synapse: ProviderCheck) -> ProviderCheck:
        received.append({"synapse": "ProviderCheck"})
        synapse.polygon_wallet = "0x" + "ab" * 20
        synapse.wallet_proof = "0x" + "cd" * 65
        synapse.api_url = "https://api.example/v1"
        return synapse

    def check_blacklist(synapse: ProviderCheck) -> typing.Tuple[bool, str]:
        if synapse.dendrite.hotkey != alice:
            return True, "Unrecognized hotkey"
        return False, "Hotkey recognized!"

    port = free_port()
    axon = bt.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=probe).attach(forward_fn=check, blacklist_fn=check_blacklist)
    axon.start()
    wait_for_port("127.0.0.1", port, 20)
    return axon, port, wallet.hotkey.ss58_address, list(axon.forward_class_types.keys())


def main():
    job = json.loads(sys.stdin.readline())
    results = {
        "event": "results",
        "version": settings.version_as_int,
        "vectors": [build_vector(v) for v in job["vectors"]],
        "hashes": [hash_of(v) for v in job["hashes"]],
        "verify": [verify(c) for c in job["verify"]],
        "lax": [lax_body(t) for t in job["lax"]],
        "lax_headers": [lax_headers(h) for h in job["lax_headers"]],
        "calls": asyncio.run(run_calls(job)),
    }
    emit(results)

    received = []
    axon, port, hotkey, served = start_axon(received)
    emit({"event": "axon_ready", "port": port, "hotkey": hotkey, "served": served})
    sys.stdin.readline()  # "finish"
    axon.stop()
    emit({"event": "axon_log", "received": received})


if __name__ == "__main__":
    main()
