"""The JSON-RPC envelope over real HTTP: batches, malformed requests, error codes, concurrency."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest
import requests
from eth_account import Account
from web3 import Web3

pytestmark = pytest.mark.usefixtures("devnet_isolated")


def _post(url: str, body: Any, *, raw: bytes | None = None) -> requests.Response:
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=10)


def _rpc(url: str, method: str, params: list[Any] | None = None, rid: Any = 1) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params or []}
    answer: dict[str, Any] = _post(url, body).json()
    return answer


def test_single_request_echoes_id(devnet: Any) -> None:
    for rid in (7, "abc", None):
        answer = _rpc(devnet.rpc_url, "eth_chainId", rid=rid)
        assert answer == {"jsonrpc": "2.0", "id": rid, "result": hex(31071)}


def test_batch_answers_in_order_with_per_item_errors(devnet: Any) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "no_such_method", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0x12", "latest"]},
        42,
        {"jsonrpc": "2.0", "id": 5, "method": "eth_blockNumber"},
    ]
    answers = _post(devnet.rpc_url, batch).json()
    assert [a["id"] for a in answers] == [1, 2, 3, None, 5]
    assert answers[0]["result"] == hex(31071)
    assert answers[1]["error"]["code"] == -32601
    assert answers[2]["error"]["code"] == -32602
    assert answers[3]["error"]["code"] == -32600
    assert int(answers[4]["result"], 16) >= 0


def test_web3_batch_requests(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    with devnet_w3.batch_requests() as batch:
        batch.add(devnet_w3.eth.get_block("latest"))
        batch.add(devnet_w3.eth.get_balance(devnet_accounts[8].address))
        batch.add(devnet_w3.eth.get_transaction_count(devnet_accounts[8].address))
        block, balance, nonce = batch.execute()
    assert block["number"] == devnet_w3.eth.block_number
    assert balance == 10_000 * 10**18 and nonce == 0


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", -32700),
        (b"\xff\xfe\x00garbage", -32700),
        (b"", -32700),
        (b"[]", -32600),
        (b"42", -32600),
        (b'"eth_chainId"', -32600),
        (b'{"id": 1, "method": "eth_chainId"}', -32600),  # no jsonrpc member
        (b'{"jsonrpc": "2.0", "id": 1}', -32600),  # no method
        (b'{"jsonrpc": "2.0", "id": 1, "method": 12}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_nope", "params": []}', -32601),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": {"a": 1}}', -32602),
    ],
)
def test_malformed_requests_get_jsonrpc_errors(devnet: Any, raw: bytes, code: int) -> None:
    response = _post(devnet.rpc_url, None, raw=raw)
    assert response.status_code == 200
    answer = response.json()
    assert answer["jsonrpc"] == "2.0"
    assert answer["error"]["code"] == code
    assert "result" not in answer
    # the server is still alive
    assert _rpc(devnet.rpc_url, "eth_chainId")["result"] == hex(31071)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_getBalance", ["not-an-address", "latest"]),
        ("eth_getBalance", ["0x" + "00" * 20, "yesterday"]),
        ("eth_getBalance", ["0x" + "00" * 20, "0xzz"]),
        ("eth_getBalance", ["0x" + "00" * 20, "0x100000"]),  # future block
        ("eth_getBlockByNumber", [True, False]),
        ("eth_getBlockByHash", ["0x1234", False]),
        ("eth_getStorageAt", ["0x" + "00" * 20, "0x" + "f" * 70, "latest"]),
        ("eth_call", ["nope", "latest"]),
        ("eth_call", [{"to": "0x12"}, "latest"]),
        ("eth_call", [{"to": "0x" + "00" * 20}, "latest", {"0x" + "00" * 20: {}}]),
        ("eth_sendRawTransaction", ["0x"]),
        ("eth_sendRawTransaction", ["0xdeadbeef"]),
        ("eth_sendRawTransaction", [12]),
        ("eth_getLogs", [{"fromBlock": "0x0", "topics": ["0x12"]}]),
        ("eth_getLogs", [{"blockHash": "0x" + "11" * 32, "fromBlock": "0x0"}]),
        ("eth_feeHistory", ["0x2", "latest", [90, 10]]),
        ("evm_increaseTime", [-5]),
        ("evm_setNextBlockTimestamp", ["0x1"]),
        ("eth_getTransactionByHash", []),
    ],
)
def test_invalid_params_get_32602(devnet: Any, method: str, params: list[Any]) -> None:
    answer = _rpc(devnet.rpc_url, method, params)
    assert answer["error"]["code"] == -32602, answer
    assert answer["error"]["message"]


def test_http_level_misuse(devnet: Any) -> None:
    assert requests.get(devnet.rpc_url, timeout=10).status_code == 405
    host, port = devnet.rpc_url.removeprefix("http://").split(":")
    for head in (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    ):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(head)
            status_line = sock.recv(4096).split(b"\r\n", 1)[0]
        assert status_line.split()[1] in (b"411", b"413")
    # a client that promises a body and hangs up
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    assert _rpc(devnet.rpc_url, "eth_chainId")["result"] == hex(31071)


def test_revert_wire_format_matches_geth_and_anvil(devnet: Any) -> None:
    vault = devnet.contracts["VAULT"]
    withdraw = Web3.keccak(text="withdraw(uint256)")[:4].hex() + (10**30).to_bytes(32, "big").hex()
    call = {"from": "0x" + "ab" * 20, "to": vault, "data": "0x" + withdraw}
    for method, params in (("eth_call", [call, "latest"]), ("eth_estimateGas", [call])):
        error = _rpc(devnet.rpc_url, method, params)["error"]
        assert error["code"] == 3
        assert error["message"] == "execution reverted: InsufficientBalance"
        assert error["data"].startswith("0x08c379a0")
        reason = bytes.fromhex(error["data"][10:])
        assert b"InsufficientBalance" in reason


def test_anvil_and_evm_aliases(devnet: Any) -> None:
    url = devnet.rpc_url
    start = int(_rpc(url, "eth_blockNumber")["result"], 16)
    snap = _rpc(url, "anvil_snapshot")["result"]
    assert _rpc(url, "anvil_mine", ["0x3"])["result"] is None
    assert int(_rpc(url, "eth_blockNumber")["result"], 16) == start + 3
    assert _rpc(url, "evm_mine")["result"] == "0x0"
    assert _rpc(url, "anvil_revert", [snap])["result"] is True
    assert int(_rpc(url, "eth_blockNumber")["result"], 16) == start
    assert _rpc(url, "anvil_revert", [snap])["result"] is False  # consumed


def test_concurrent_clients_are_served_safely(devnet: Any, devnet_accounts: list[Any]) -> None:
    senders = devnet_accounts[1:7]
    per_sender = 5
    start_block = Web3(Web3.HTTPProvider(devnet.rpc_url)).eth.block_number
    errors: list[BaseException] = []
    hashes: list[bytes] = []
    lock = threading.Lock()
    stop_readers = threading.Event()

    def send_all(account: Any) -> None:
        try:
            w3: Any = Web3(Web3.HTTPProvider(devnet.rpc_url))
            acct = Account.from_key(account.private_key)
            nonce = w3.eth.get_transaction_count(acct.address)
            for i in range(per_sender):
                tx = {
                    "to": devnet_accounts[9].address,
                    "value": 1,
                    "gas": 21000,
                    "maxFeePerGas": 10 * 10**9,
                    "maxPriorityFeePerGas": 10**9,
                    "nonce": nonce + i,
                    "chainId": 31071,
                }
                tx_hash = w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)
                with lock:
                    hashes.append(bytes(tx_hash))
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)

    def read_loop() -> None:
        try:
            w3: Any = Web3(Web3.HTTPProvider(devnet.rpc_url))
            while not stop_readers.is_set():
                number = w3.eth.block_number
                block = w3.eth.get_block(number)
                assert block["number"] == number
                w3.eth.get_balance(devnet_accounts[9].address)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read_loop) for _ in range(2)]
    writers = [threading.Thread(target=send_all, args=(a,)) for a in senders]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    stop_readers.set()
    for thread in readers:
        thread.join(timeout=60)
    assert errors == []

    w3: Any = Web3(Web3.HTTPProvider(devnet.rpc_url))
    assert len(set(hashes)) == len(senders) * per_sender
    assert w3.eth.block_number == start_block + len(hashes)
    for tx_hash in hashes:
        assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1
    for number in range(start_block + 1, start_block + len(hashes) + 1):
        assert len(w3.eth.get_block(number)["transactions"]) == 1


@pytest.mark.parametrize(
    "raw",
    [b"[" * 200_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, b"[" * 65 + b"]" * 65],
)
def test_deeply_nested_json_is_a_parse_error_not_a_crash(devnet: Any, raw: bytes) -> None:
    # py-evm's dependencies raise the recursion limit to 100 000: without a depth check the
    # JSON decoder overflows the C stack and the whole process dies (segfault)
    answer = _post(devnet.rpc_url, None, raw=raw).json()
    assert answer["error"]["code"] == -32700
    assert _rpc(devnet.rpc_url, "eth_chainId")["result"] == hex(31071)


def test_nesting_inside_strings_and_moderate_depth_is_fine(devnet: Any) -> None:
    deep_string = "[" * 10_000  # brackets inside a JSON string do not nest anything
    answer = _rpc(devnet.rpc_url, "web3_sha3", ["0x" + deep_string.encode().hex()])
    assert answer["result"] == "0x" + Web3.keccak(text=deep_string).hex()
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []} for i in range(3)]
    answer_batch = _post(devnet.rpc_url, None, raw=json.dumps(batch).encode()).json()
    assert [a["result"] for a in answer_batch] == [hex(31071)] * 3


@pytest.mark.parametrize(
    ("method", "params", "most"),
    [
        ("eth_chainId", [1], 0),
        ("eth_blockNumber", ["latest"], 0),
        ("eth_getBalance", ["0x" + "00" * 20, "latest", "extra"], 2),
        ("eth_getTransactionCount", ["0x" + "00" * 20, "pending", 5], 2),
        ("eth_sendRawTransaction", ["0x00", "0x00"], 1),
        ("evm_snapshot", [1], 0),
        ("evm_revert", ["0x0", "0x1"], 1),
    ],
)
def test_too_many_params_get_32602(devnet: Any, method: str, params: list[Any], most: int) -> None:
    error = _rpc(devnet.rpc_url, method, params)["error"]
    assert error["code"] == -32602
    assert f"want at most {most}" in error["message"]


def test_huge_batch_is_refused_and_the_largest_is_served(devnet: Any) -> None:
    def batch(n: int) -> list[dict[str, Any]]:
        return [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(n)]

    too_big = _post(devnet.rpc_url, batch(1001)).json()
    assert too_big["error"]["code"] == -32600
    served = _post(devnet.rpc_url, batch(1000)).json()
    assert [a["id"] for a in served] == list(range(1000))


def test_other_http_methods_get_405(devnet: Any) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH", "HEAD"):
        response = requests.request(method, devnet.rpc_url, timeout=10)
        assert response.status_code == 405, method
        assert "POST" in response.headers["Allow"]
    assert requests.options(devnet.rpc_url, timeout=10).status_code == 204
    assert _rpc(devnet.rpc_url, "eth_chainId")["result"] == hex(31071)


def test_body_shorter_than_its_content_length_then_hang_up(devnet: Any) -> None:
    host, port = devnet.rpc_url.removeprefix("http://").split(":")
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(500)])
    # a client that sends a big request and leaves before the answer
    for _ in range(5):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
            sock.sendall(head.encode() + body.encode())
    # a Content-Length shorter than the body: the prefix is answered (a parse error here)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n" + body.encode())
        answer = b""
        while b"-32700" not in answer:  # headers and body may arrive in separate segments
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b"-32700" in answer
    assert _rpc(devnet.rpc_url, "eth_chainId")["result"] == hex(31071)


def test_time_controls_refuse_timestamps_beyond_uint64(devnet: Any) -> None:
    url = devnet.rpc_url
    for method, value in (("evm_increaseTime", 2**70), ("evm_setNextBlockTimestamp", 2**63)):
        assert _rpc(url, method, [hex(value)])["error"]["code"] == -32602
    assert _rpc(url, "evm_mine", [hex(2**64)])["error"]["code"] == -32602
    before = int(_rpc(url, "eth_blockNumber")["result"], 16)
    assert _rpc(url, "evm_mine")["result"] == "0x0"  # the clock was left alone
    block = _rpc(url, "eth_getBlockByNumber", ["latest", False])["result"]
    assert int(block["number"], 16) == before + 1
    assert int(block["timestamp"], 16) < 2**40
