"""The REAL bittensor (10.x) Python axon serving ProviderCheck, for `npm run bench:axon`.

It gets what the Python Subnet 58 miner gives its axon: a blacklist (registered hotkey with a
validator permit, looked up in a 256-entry table), stake as priority, the SDK's default_verify
(nonce + sr25519 signature), and a forward that fills the three ProviderCheck fields.

argv[1]: the validator hotkey (SS58) the bench signs with.
stdout: one line "@@BENCH " + JSON {"port", "hotkey"} when listening; after the line "stop" on stdin,
{"max_rss_mb"} and exit.
"""
import json
import resource
import sys
import tempfile
import typing

import bittensor as bt
from bittensor_wallet import Wallet
from hs58_synapses import ProviderCheck, free_port, wait_for_port


def main():
    validator = sys.argv[1]
    wallet = Wallet(name="bench", hotkey="miner", path=tempfile.mkdtemp())
    wallet.create_coldkey_from_uri("//HS58BenchMiner", use_password=False, overwrite=True, suppress=True)
    wallet.create_hotkey_from_uri("//HS58BenchMiner", use_password=False, overwrite=True, suppress=True)

    # A metagraph stand-in: 256 hotkeys, the bench caller among them with a permit and stake.
    hotkeys = [f"unused-{i}" for i in range(256)]
    hotkeys[7] = validator
    permits = [i < 64 for i in range(256)]
    stake = [float(i) for i in range(256)]

    def forward(synapse: ProviderCheck) -> ProviderCheck:
        synapse.polygon_wallet = "0x" + "ab" * 20
        synapse.wallet_proof = "0x" + "cd" * 65
        synapse.api_url = "https://provider.example/v1"
        return synapse

    def blacklist(synapse: ProviderCheck) -> typing.Tuple[bool, str]:
        if synapse.dendrite is None or synapse.dendrite.hotkey is None:
            return True, "Missing dendrite or hotkey"
        if synapse.dendrite.hotkey not in hotkeys:
            return True, "Unrecognized hotkey"
        if not permits[hotkeys.index(synapse.dendrite.hotkey)]:
            return True, "Non-validator hotkey"
        return False, "Hotkey recognized"

    def priority(synapse: ProviderCheck) -> float:
        return stake[hotkeys.index(synapse.dendrite.hotkey)]

    port = free_port()
    axon = bt.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=forward, blacklist_fn=blacklist, priority_fn=priority)
    axon.start()
    wait_for_port("127.0.0.1", port, 30)
    sys.stdout.write("@@BENCH " + json.dumps({"port": port, "hotkey": wallet.hotkey.ss58_address}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    axon.stop()
    sys.stdout.write("@@BENCH " + json.dumps({"max_rss_mb": max_rss_mb}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
