"""The REAL bittensor (10.x) Python dendrite querying our TypeScript miner, for
test/e2e/miner-python.test.ts. It also checks a ProviderCheck answer the way the Python
Subnet 58 validator does (eth_account recovers the signer of the wallet proof).

stdin: one JSON job {"port", "miner_hotkey", "calls": [...]}; each call has
  "uri" (dev key of the caller, e.g. "//Alice"), "synapse", "fields", "timeout",
  optional "nonce_ns" (a fixed time.time_ns() for the request, to replay or send stale nonces),
  optional "dendrite" (a label: calls with the same label share one Dendrite, i.e. one uuid;
  default: the uri).
stdout: one line "@@HS58 " + JSON {"results": [...]} (the SDK may log to stdout too).
"""
import asyncio
import json
import sys
import time

import bittensor as bt
from bittensor.core.chain_data import AxonInfo
from bittensor.utils import networking
from bittensor_wallet import Keypair
from eth_account import Account
from eth_account.messages import encode_defunct
from hs58_synapses import ProviderCheck, ProviderProbe


SYNAPSES = {"ProviderCheck": ProviderCheck, "ProviderProbe": ProviderProbe}


def typed(v):
    """A value with its Python type name, so the test sees int vs bool vs str."""
    return {"type": type(v).__name__, "value": v}


def proof_recovers(miner_hotkey, wallet, proof):
    """The Python validator's generation-A check."""
    if not wallet or not proof:
        return False
    message = encode_defunct(text=f"Bittensor Subnet 58 Miner: {miner_hotkey}")
    try:
        return Account.recover_message(message, signature=proof).lower() == wallet.lower()
    except Exception:  # noqa: BLE001 - a bad proof is simply not valid
        return False


async def run(job):
    networking.get_external_ip = lambda: "127.0.0.1"  # no network lookups in tests
    dendrites = {}
    target = AxonInfo(version=0, ip="127.0.0.1", port=job["port"], ip_type=4, hotkey=job["miner_hotkey"], coldkey=job["miner_hotkey"])
    results = []
    for c in job["calls"]:
        label = c.get("dendrite", c["uri"])
        d = dendrites.get(label)
        if d is None:
            d = dendrites[label] = bt.Dendrite(wallet=Keypair.create_from_uri(c["uri"]))
        syn = SYNAPSES[c["synapse"]](**c.get("fields", {}))
        real_time_ns = time.time_ns
        if "nonce_ns" in c:
            time.time_ns = lambda: int(c["nonce_ns"])
        try:
            out = await d.call(target, syn, timeout=c.get("timeout", 10.0), deserialize=False)
        finally:
            time.time_ns = real_time_ns
        fields = {k: typed(v) for k, v in out.deserialize().items()}
        entry = {
            "dendrite_status_code": out.dendrite.status_code,
            "dendrite_status_message": out.dendrite.status_message,
            "axon_status_code": out.axon.status_code,
            "fields": fields,
        }
        if c["synapse"] == "ProviderCheck":
            entry["proof_valid"] = proof_recovers(job["miner_hotkey"], out.polygon_wallet, out.wallet_proof)
        results.append(entry)
    for d in dendrites.values():
        await d.aclose_session()
    return results


def main():
    job = json.loads(sys.stdin.readline())
    results = asyncio.run(run(job))
    sys.stdout.write("@@HS58 " + json.dumps({"results": results}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
