"""A Subnet 58 miner on the REAL bittensor (10.x) Python axon, for test/e2e/validator-workers.test.ts:
the TypeScript validator's dendrite (in-process and in Redis worker processes) queries it.

It does what the Python Subnet 58 miner does: ProviderCheck answers the Polygon wallet, the
EIP-191 proof over "Bittensor Subnet 58 Miner: {hotkey}" signed with eth_account (as the
generation-A miner signs it) and the API URL; ProviderProbe makes one timed GET of the target
(any HTTP answer is reachable with its status; any failure is False, 0, 0). The blacklist lets
only the validator hotkey through, like the miner's metagraph check would on this subnet.

The hotkey comes from wallet files our `hs58 wallet create` code wrote (bittensor_wallet reads them).

With HS58_PY_MINER_SYNAPSES=ProviderProbe it is built like the HS58-subnet 2.1.1 miner: only
ProviderProbe is attached (a ProviderCheck gets the axon's 404) and it needs no Polygon key.

argv: wallet_path wallet_name hotkey_name port external_ip validator_hotkey api_url
env:  POLYGON_PRIVATE_KEY (unless ProviderProbe only), HS58_PY_MINER_SYNAPSES (default "ProviderCheck,ProviderProbe")
stdout: "@@HS58 " + JSON {"event": "ready", "port", "hotkey", "wallet"} when listening; after "stats"
on stdin: "@@HS58 " + JSON {"event": "stats", "ProviderCheck": n, "ProviderProbe": n, "dendrites": [uuid, ...]}
(the synapses it answered and the dendrite uuids they came from); it stops after "stop" on stdin (or EOF).
"""
import json
import os
import sys
import threading
import time
import typing

import bittensor as bt
import requests
from bittensor_wallet import Wallet
from eth_account import Account
from eth_account.messages import encode_defunct
from hs58_synapses import ProviderCheck, ProviderProbe, wait_for_port


def emit(obj):
    sys.stdout.write("@@HS58 " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    wallet_path, wallet_name, hotkey_name, port, external_ip, validator, api_url = sys.argv[1:8]
    port = int(port)
    wallet = Wallet(name=wallet_name, hotkey=hotkey_name, path=wallet_path)
    hotkey = wallet.hotkey.ss58_address
    synapses = os.environ.get("HS58_PY_MINER_SYNAPSES", "ProviderCheck,ProviderProbe").split(",")
    account = Account.from_key(os.environ["POLYGON_PRIVATE_KEY"]) if "ProviderCheck" in synapses else None
    proof = account.sign_message(encode_defunct(text=f"Bittensor Subnet 58 Miner: {hotkey}")).signature.hex() if account else None
    # The probe goes straight to the target. requests would otherwise honour ALL_PROXY / HTTP_PROXY
    # from the environment (CI machines set them to reach package registries) and a proxy's own
    # 403 would come back as the provider's status: this miner would then disagree with the others.
    http = requests.Session()
    http.trust_env = False
    served = {"ProviderCheck": 0, "ProviderProbe": 0}
    dendrites = set()
    lock = threading.Lock()

    def count(name, synapse):
        with lock:
            served[name] += 1
            dendrites.add(synapse.dendrite.uuid)

    def stats():
        with lock:
            emit({"event": "stats", **served, "dendrites": sorted(dendrites)})

    def check(synapse: ProviderCheck) -> ProviderCheck:
        count("ProviderCheck", synapse)
        synapse.polygon_wallet = account.address
        synapse.wallet_proof = proof
        synapse.api_url = api_url
        return synapse

    def probe(synapse: ProviderProbe) -> ProviderProbe:
        count("ProviderProbe", synapse)
        started = time.perf_counter()
        try:
            r = http.get(synapse.target_url, timeout=5, allow_redirects=True)
            synapse.probe_latency_ms = int((time.perf_counter() - started) * 1000)
            synapse.probe_status = r.status_code
            synapse.probe_reachable = True
        except Exception:  # noqa: BLE001 - any failure is "unreachable", as the Python miner answers
            synapse.probe_latency_ms = 0
            synapse.probe_status = 0
            synapse.probe_reachable = False
        return synapse

    def blacklist_check(synapse: ProviderCheck) -> typing.Tuple[bool, str]:
        return blacklist(synapse)

    def blacklist_probe(synapse: ProviderProbe) -> typing.Tuple[bool, str]:
        return blacklist(synapse)

    def blacklist(synapse) -> typing.Tuple[bool, str]:
        if synapse.dendrite is None or synapse.dendrite.hotkey != validator:
            return True, "Unrecognized hotkey"
        return False, "Hotkey recognized"

    axon = bt.Axon(wallet=wallet, port=port, ip=external_ip, external_ip=external_ip, external_port=port)
    if "ProviderCheck" in synapses:
        axon.attach(forward_fn=check, blacklist_fn=blacklist_check)
    axon.attach(forward_fn=probe, blacklist_fn=blacklist_probe)
    axon.start()
    wait_for_port(external_ip, port, 30)
    emit({"event": "ready", "port": port, "hotkey": hotkey, "wallet": account.address if account else None, "synapses": sorted(axon.forward_class_types)})
    for line in sys.stdin:
        if line.strip() == "stats":
            stats()
        elif line.strip() == "stop":
            break
    axon.stop()


if __name__ == "__main__":
    main()
