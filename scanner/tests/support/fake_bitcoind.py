#!/usr/bin/env python3
"""A small stand-in for bitcoind's JSON-RPC, serving a regtest chain, for ElectrumX tests.

Stdlib only. Serves the regtest genesis block plus --blocks more blocks, each with one
coinbase transaction and valid regtest proof of work (bits 0x207fffff), on 127.0.0.1.
It answers the RPCs ElectrumX's daemon.py sends (getblockcount, getblockhash, getblock,
getnetworkinfo, getindexinfo, getrawmempool, getmempoolinfo, estimatesmartfee,
getrawtransaction, getblockheader, sendrawtransaction, ...), single or batched.

On start it prints one JSON line to stdout: {"port", "height", "genesis_hash", "tip_hash",
"tip_header"}. It exits by itself after --lifetime seconds or when its parent dies, so a
crashed test never leaves it behind.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGTEST_BITS = 0x207FFFFF
GENESIS_TIME = 1296688602
GENESIS_NONCE = 2
# The genesis coinbase is the same transaction on every Bitcoin network.
GENESIS_COINBASE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d"
    "0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66"
    "207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe55"
    "48271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba"
    "0b8d578a4c702b6bf11d5fac00000000"
)
REGTEST_GENESIS_HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


def dsha(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def hum(h):
    """Internal byte order -> the reversed hex bitcoind prints."""
    return h[::-1].hex()


def target(bits):
    exponent = bits >> 24
    mantissa = bits & 0xFFFFFF
    return mantissa << (8 * (exponent - 3))


def header(version, prev, merkle, ntime, bits, nonce):
    return struct.pack("<I32s32sIII", version, prev, merkle, ntime, bits, nonce)


def mine(version, prev, merkle, ntime, bits):
    t = target(bits)
    nonce = 0
    while True:
        h = header(version, prev, merkle, ntime, bits, nonce)
        if int.from_bytes(dsha(h), "little") <= t:
            return h
        nonce += 1


def script_num_push(n):
    """BIP-34 height push: minimal little-endian script number."""
    if n == 0:
        return b"\x00"
    out = bytearray()
    while n:
        out.append(n & 0xFF)
        n >>= 8
    if out[-1] & 0x80:
        out.append(0)
    return bytes([len(out)]) + bytes(out)


def coinbase(height):
    script_sig = script_num_push(height) + b"\x06" + b"fakebd"
    # OP_TRUE output: nobody's address.
    out_script = b"\x51"
    return (
        struct.pack("<I", 1)
        + b"\x01"
        + b"\x00" * 32
        + b"\xff\xff\xff\xff"
        + bytes([len(script_sig)])
        + script_sig
        + b"\xff\xff\xff\xff"
        + b"\x01"
        + struct.pack("<q", 50 * 100_000_000)
        + bytes([len(out_script)])
        + out_script
        + struct.pack("<I", 0)
    )


class Chain:
    def __init__(self, extra_blocks):
        self.blocks = []  # (hash_internal, header_bytes, [tx bytes])
        gtxid = dsha(GENESIS_COINBASE)
        gheader = header(1, b"\x00" * 32, gtxid, GENESIS_TIME, REGTEST_BITS, GENESIS_NONCE)
        assert hum(dsha(gheader)) == REGTEST_GENESIS_HASH, hum(dsha(gheader))
        self.blocks.append((dsha(gheader), gheader, [GENESIS_COINBASE]))
        for height in range(1, extra_blocks + 1):
            tx = coinbase(height)
            prev = self.blocks[-1][0]
            h = mine(0x20000000, prev, dsha(tx), GENESIS_TIME + 600 * height, REGTEST_BITS)
            self.blocks.append((dsha(h), h, [tx]))
        self.by_hash = {hum(b[0]): i for i, b in enumerate(self.blocks)}
        self.txs = {}
        for i, b in enumerate(self.blocks):
            for tx in b[2]:
                self.txs[hum(dsha(tx))] = (tx, i)

    def raw_block(self, i):
        _, h, txs = self.blocks[i]
        return h + bytes([len(txs)]) + b"".join(txs)


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def handle(chain, method, params):
    params = params or []
    tip = len(chain.blocks) - 1
    if method == "getblockcount":
        return tip
    if method == "getblockhash":
        h = params[0]
        if not 0 <= h <= tip:
            raise RpcError(-8, "Block height out of range")
        return hum(chain.blocks[h][0])
    if method in ("getblock", "getblockheader"):
        i = chain.by_hash.get(params[0])
        if i is None:
            raise RpcError(-5, "Block not found")
        verbose = params[1] if len(params) > 1 else True
        if method == "getblock" and verbose in (False, 0):
            return chain.raw_block(i).hex()
        if method == "getblockheader" and verbose in (False, 0):
            return chain.blocks[i][1].hex()
        info = {
            "hash": params[0],
            "height": i,
            "confirmations": tip - i + 1,
            "time": GENESIS_TIME + 600 * i,
            "tx": [hum(dsha(t)) for t in chain.blocks[i][2]],
        }
        if i > 0:
            info["previousblockhash"] = hum(chain.blocks[i - 1][0])
        if i < tip:
            info["nextblockhash"] = hum(chain.blocks[i + 1][0])
        return info
    if method == "getrawmempool":
        return []
    if method == "getnetworkinfo":
        return {"version": 310000, "subversion": "/Satoshi:31.0.0(fake-bitcoind)/", "protocolversion": 70016,
                "relayfee": 0.00001, "incrementalfee": 0.00001, "connections": 0, "warnings": ""}
    if method == "getindexinfo":
        info = {"synced": True, "best_block_height": tip}
        return {"txindex": info, "txospenderindex": info}
    if method == "getmempoolinfo":
        return {"loaded": True, "size": 0, "bytes": 0, "usage": 0, "maxmempool": 300000000,
                "mempoolminfee": 0.00001, "minrelaytxfee": 0.00001}
    if method == "estimatesmartfee":
        return {"feerate": 0.0002, "blocks": params[0] if params else 2}
    if method == "estimatefee":
        return 0.0002
    if method == "getrawtransaction":
        found = chain.txs.get(params[0])
        if found is None:
            raise RpcError(-5, "No such mempool or blockchain transaction")
        tx, height = found
        verbose = params[1] if len(params) > 1 else False
        if verbose in (False, 0):
            return tx.hex()
        return {"hex": tx.hex(), "txid": params[0], "blockhash": hum(chain.blocks[height][0]),
                "confirmations": tip - height + 1}
    if method in ("sendrawtransaction", "testmempoolaccept", "submitpackage"):
        raise RpcError(-22, "TX decode failed")
    if method == "gettxspendingprevout":
        return [{"txid": o.get("txid"), "vout": o.get("vout")} for o in (params[0] if params else [])]
    if method == "help":
        return "fake bitcoind"
    raise RpcError(-32601, "Method not found")


def answer(chain, req):
    rid = req.get("id") if isinstance(req, dict) else None
    try:
        if not isinstance(req, dict):
            raise RpcError(-32600, "Invalid Request")
        result = handle(chain, req.get("method"), req.get("params"))
        return {"result": result, "error": None, "id": rid}
    except RpcError as e:
        return {"result": None, "error": {"code": e.code, "message": e.message}, "id": rid}
    except (IndexError, KeyError, TypeError, ValueError) as e:
        return {"result": None, "error": {"code": -1, "message": str(e)}, "id": rid}


def make_handler(chain):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            try:
                req = json.loads(self.rfile.read(n))
                out = [answer(chain, r) for r in req] if isinstance(req, list) else answer(chain, req)
            except ValueError:
                out = {"result": None, "error": {"code": -32700, "message": "Parse error"}, "id": None}
            body = json.dumps(out).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def watchdog(lifetime):
    parent = os.getppid()
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--blocks", type=int, default=5, help="blocks on top of genesis")
    ap.add_argument("--lifetime", type=float, default=900, help="seconds before exiting by itself")
    args = ap.parse_args()
    chain = Chain(args.blocks)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(chain))
    server.daemon_threads = True
    threading.Thread(target=watchdog, args=(args.lifetime,), daemon=True).start()
    tip = len(chain.blocks) - 1
    print(json.dumps({"port": server.server_address[1], "height": tip, "genesis_hash": REGTEST_GENESIS_HASH,
                      "tip_hash": hum(chain.blocks[tip][0]), "tip_header": chain.blocks[tip][1].hex()}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
