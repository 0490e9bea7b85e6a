"""What the interop scripts share: the Subnet 58 synapses as the Python subnet declares them, and
the small socket helpers around a Python axon. Imported by the scripts beside it (their folder is
on sys.path when they run as `python test/interop/<script>.py`)."""
import socket
import time
import typing

import bittensor as bt


class ProviderCheck(bt.Synapse):
    polygon_wallet: typing.Optional[str] = None
    wallet_proof: typing.Optional[str] = None
    api_url: typing.Optional[str] = None

    def deserialize(self) -> typing.Dict[str, typing.Optional[str]]:
        return {"polygon_wallet": self.polygon_wallet, "wallet_proof": self.wallet_proof, "api_url": self.api_url}


class ProviderProbe(bt.Synapse):
    target_url: str = ""
    probe_latency_ms: typing.Optional[int] = None
    probe_status: typing.Optional[int] = None
    probe_reachable: typing.Optional[bool] = None

    def deserialize(self) -> typing.Dict[str, typing.Any]:
        return {
            "target_url": self.target_url,
            "probe_latency_ms": self.probe_latency_ms,
            "probe_status": self.probe_status,
            "probe_reachable": self.probe_reachable,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Returns once something accepts TCP connections on host:port, or after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
