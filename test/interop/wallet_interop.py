"""Drives the real bittensor_wallet for test/e2e/wallet-python.test.ts.

One process for the whole test: reads one JSON request per line on stdin, answers one
JSON line on stdout. Bytes travel as hex.
"""
import json
import sys

from bittensor_wallet import Keypair, Wallet
from eth_account import Account
from eth_account.messages import encode_defunct


def handle(req):
    op = req["op"]
    if op == "create":
        w = Wallet(name=req["name"], hotkey=req["hotkey"], path=req["path"])
        w.create_new_coldkey(n_words=12, use_password=False, overwrite=True, suppress=True)
        w.create_new_hotkey(n_words=12, use_password=False, overwrite=True, suppress=True)
        return {"hotkey": w.hotkey.ss58_address, "coldkey": w.coldkeypub.ss58_address}
    if op == "load":
        # Loads files written by someone else (our `wallet create` / `wallet import`).
        w = Wallet(name=req["name"], hotkey=req["hotkey"], path=req["path"])
        return {"hotkey": w.hotkey.ss58_address, "coldkey": w.coldkeypub.ss58_address}
    if op == "sign":
        w = Wallet(name=req["name"], hotkey=req["hotkey"], path=req["path"])
        return {"signature": w.hotkey.sign(bytes.fromhex(req["message"])).hex()}
    if op == "verify":
        kp = Keypair(ss58_address=req["ss58"])
        return {"ok": bool(kp.verify(bytes.fromhex(req["message"]), bytes.fromhex(req["signature"])))}
    if op == "from_private_key":
        kp = Keypair.create_from_private_key(req["privateKey"])
        return {"ss58": kp.ss58_address, "signature": kp.sign(bytes.fromhex(req["message"])).hex()}
    if op == "eth_sign":
        # What the generation-A Python miner does for its wallet proof.
        msg = encode_defunct(text=req["text"])
        return {"proof": Account.sign_message(msg, private_key=req["privateKey"]).signature.hex()}
    if op == "eth_recover":
        # What the generation-A Python validator does with a proof.
        msg = encode_defunct(text=req["text"])
        return {"address": Account.recover_message(msg, signature=req["proof"])}
    raise ValueError(f"unknown op {op}")


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        out = {"ok_": True, **handle(json.loads(line))}
    except Exception as e:  # reported to the test, which fails with it
        out = {"ok_": False, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
