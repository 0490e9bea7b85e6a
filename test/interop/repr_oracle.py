"""CPython's own float repr and json.dumps string escaping, for test/e2e/protocol-fastpaths-python.test.ts.

stdin: one JSON object {"floats": ["<16 hex digits: IEEE-754 bits, big-endian>", ...], "strings": ["...", ...]}
stdout: one JSON object {"repr": [repr(float)...], "ascii": [json.dumps(s)...], "utf8": [json.dumps(s, ensure_ascii=False)...]}
"""
import json
import struct
import sys

request = json.load(sys.stdin)
floats = [struct.unpack(">d", bytes.fromhex(bits))[0] for bits in request["floats"]]
strings = request["strings"]
answer = {
    "repr": [repr(x) for x in floats],
    "ascii": [json.dumps(s) for s in strings],
    "utf8": [json.dumps(s, ensure_ascii=False) for s in strings],
}
# ensure_ascii for the transport: lone surrogates in the utf8 answers survive as \ud8xx escapes.
sys.stdout.write(json.dumps(answer))
