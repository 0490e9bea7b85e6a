"""The REAL bittensor (10.x) Python axon for test/e2e/axon-python-differential.test.ts: the same
requests go to it and to our TypeScript axon, and both must answer with the same status.

It gets what our test axon gets: the miner hotkey from the same sr25519 seed, a blacklist over the
same metagraph table with our blacklist's rules and reasons (src/axon/blacklist.ts `judgeCaller`:
no hotkey, unregistered, no validator permit), stake as priority, the SDK's default_verify, and
forwards that fill fixed values (no network), the same values our test handlers return.

stdin, first line: JSON {"miner_seed": "0x<64 hex>", "neurons": [{"hotkey", "stake", "permit"}]}.
stdout: "@@HS58 " + JSON {"event": "ready", "port", "hotkey", "served"} once listening (the SDK
logs to stdout too, hence the prefix); it stops after the line "stop" on stdin (or EOF).
"""
import json
import sys
import types
import typing

import bittensor as bt
from bittensor_wallet import Keypair
from hs58_synapses import ProviderCheck, ProviderProbe, free_port, wait_for_port


def emit(obj):
    sys.stdout.write("@@HS58 " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    job = json.loads(sys.stdin.readline())
    keypair = Keypair.create_from_seed(job["miner_seed"])
    # The axon only needs wallet.hotkey (to sign its answers and verify with its own address).
    wallet = types.SimpleNamespace(hotkey=keypair, coldkeypub=keypair)
    neurons = {n["hotkey"]: n for n in job["neurons"]}

    def judge(synapse) -> typing.Tuple[bool, str]:
        # src/axon/blacklist.ts judgeCaller, with the validator permit required (our default).
        if synapse.dendrite is None or not synapse.dendrite.hotkey:
            return True, "Missing dendrite or hotkey"
        neuron = neurons.get(synapse.dendrite.hotkey)
        if neuron is None:
            return True, "Unrecognized hotkey"
        if not neuron["permit"]:
            return True, "Non-validator hotkey"
        return False, "Hotkey recognized"

    def stake(synapse) -> float:
        return float(neurons[synapse.dendrite.hotkey]["stake"])

    def check(synapse: ProviderCheck) -> ProviderCheck:
        synapse.polygon_wallet = "0x" + "ab" * 20
        synapse.wallet_proof = "0x" + "cd" * 65
        synapse.api_url = "https://provider.example/v1"
        return synapse

    def probe(synapse: ProviderProbe) -> ProviderProbe:
        synapse.probe_latency_ms = 7
        synapse.probe_status = 200
        synapse.probe_reachable = True
        return synapse

    def blacklist_check(synapse: ProviderCheck) -> typing.Tuple[bool, str]:
        return judge(synapse)

    def blacklist_probe(synapse: ProviderProbe) -> typing.Tuple[bool, str]:
        return judge(synapse)

    def priority_check(synapse: ProviderCheck) -> float:
        return stake(synapse)

    def priority_probe(synapse: ProviderProbe) -> float:
        return stake(synapse)

    port = free_port()
    axon = bt.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1", external_port=port)
    axon.attach(forward_fn=check, blacklist_fn=blacklist_check, priority_fn=priority_check)
    axon.attach(forward_fn=probe, blacklist_fn=blacklist_probe, priority_fn=priority_probe)
    axon.start()
    wait_for_port("127.0.0.1", port, 30)
    emit({"event": "ready", "port": port, "hotkey": keypair.ss58_address, "served": list(axon.forward_class_types.keys())})
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    axon.stop()


if __name__ == "__main__":
    main()
