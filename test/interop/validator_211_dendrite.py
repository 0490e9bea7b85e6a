"""A validator built like HS58-subnet 2.1.1 querying miners with the REAL bittensor (10.x) dendrite,
for test/e2e/validator-python-211.test.ts: ProviderProbe only, every miner at once through
`dendrite(axons, synapse, timeout, deserialize=True)` (dicts back, as the 2.1.1 forward reads them),
then the 2.1 consensus and accuracy (scoring_oracle.py) per provider and the float32 mean per miner.
It also sends one ProviderCheck to the uids in "checkUids" (deserialize=False) to see the status a
2.1.1 miner gives a synapse it does not serve.

stdin: JSON {"walletPath", "walletName", "hotkey", "miners": [{"uid", "ip", "port", "hotkey"}],
"providers": [{"id", "probeUrl"}], "checkUids": [uid], "timeout": seconds}
stdout: "@@HS58 " + JSON {"validator": ss58, "probes": [{"id", "answers": {uid: {field: {"type", "value"}}},
"consensus": {...} | null}], "rewards": {uid: float}, "checks": {uid: {"status_code", "status_message"}}}
"""
import asyncio
import json
import sys

import bittensor as bt
import numpy as np
from bittensor.core.chain_data import AxonInfo
from bittensor.utils import networking
from bittensor_wallet import Wallet
from hs58_synapses import ProviderCheck, ProviderProbe
from scoring_oracle import accuracy, consensus


def typed(v):
    return {"type": type(v).__name__, "value": v}


async def run(job):
    networking.get_external_ip = lambda: "127.0.0.1"  # no network lookups in tests
    wallet = Wallet(name=job["walletName"], hotkey=job["hotkey"], path=job["walletPath"])
    dendrite = bt.Dendrite(wallet=wallet)
    miners = job["miners"]
    axons = [AxonInfo(version=0, ip=m["ip"], port=m["port"], ip_type=4, hotkey=m["hotkey"], coldkey=m["hotkey"]) for m in miners]
    sums = np.zeros(len(miners), dtype=np.float32)
    counted = 0
    probes = []
    for provider in job["providers"]:
        responses = await dendrite(axons=axons, synapse=ProviderProbe(target_url=provider["probeUrl"]), timeout=job["timeout"], deserialize=True)
        votes = [{"reachable": r.get("probe_reachable"), "status": r.get("probe_status"), "latency": r.get("probe_latency_ms")} for r in responses]
        cons = consensus(votes)
        probes.append({
            "id": provider["id"],
            "answers": {str(m["uid"]): {k: typed(v) for k, v in r.items()} for m, r in zip(miners, responses)},
            "consensus": cons,
        })
        if cons is None:
            continue
        for i, v in enumerate(votes):
            sums[i] += accuracy(v, cons, "2.1")
        counted += 1
    rewards = sums / counted if counted else np.zeros(len(miners), dtype=np.float32)
    checks = {}
    for m, axon in zip(miners, axons):
        if m["uid"] in job["checkUids"]:
            out = await dendrite.call(axon, ProviderCheck(), timeout=job["timeout"], deserialize=False)
            checks[str(m["uid"])] = {"status_code": out.dendrite.status_code, "status_message": out.dendrite.status_message}
    await dendrite.aclose_session()
    return {
        "validator": wallet.hotkey.ss58_address,
        "probes": probes,
        "rewards": {str(m["uid"]): float(r) for m, r in zip(miners, rewards)},
        "checks": checks,
    }


def main():
    job = json.loads(sys.stdin.readline())
    result = asyncio.run(run(job))
    sys.stdout.write("@@HS58 " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
