"""A lean Socket.IO client for counting many frames: asyncio, WebSocket transport only.

python-socketio's client costs more per received frame (a thread per connection, packet objects,
a handler call) than a server costs per sent frame, so a thousand of them on a 2-core machine
measure the clients rather than the server. This one speaks just what a benchmark needs of
Engine.IO 4 / Socket.IO 5 over a WebSocket - the handshake, connect with auth, one event with
an acknowledgement, answering pings - and hands every other text frame to a callback untouched.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

TEXT, CLOSE = 0x1, 0x8


class LeanSocket:
    """One connected, namespace-joined client; `on_frame(text)` gets each frame not handled here."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.acks: dict[int, asyncio.Future] = {}
        self.next_ack = 0
        self.on_frame: Callable[[str], None] = lambda text: None

    @classmethod
    async def connect(cls, url: str, auth: dict, timeout: float = 60) -> LeanSocket:
        parts = urlsplit(url)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        sock = cls(reader, writer)
        opened = await asyncio.wait_for(sock._read_text(), timeout)
        if not opened.startswith("0"):
            raise ConnectionError(f"no Engine.IO open packet: {opened[:80]}")
        sock.send("40" + json.dumps(auth))
        while True:
            packet = await asyncio.wait_for(sock._read_text(), timeout)
            if packet.startswith("40"):
                return sock
            if packet.startswith("44"):
                raise ConnectionRefusedError(packet[2:200])
            # anything else before the connect acknowledgement is not ours to count

    async def call(self, event: str, data: dict, timeout: float = 60):
        """Emit `event` with an acknowledgement id and wait for the acknowledgement's data."""
        ack_id, self.next_ack = self.next_ack, self.next_ack + 1
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        self.send(f"42{ack_id}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, timeout)

    def send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | TEXT, 0x80 | size)
        elif size < 65536:
            header = struct.pack("!BBH", 0x80 | TEXT, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | TEXT, 0x80 | 127, size)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))  # clients must mask
        self.writer.write(header + mask + masked)

    async def run(self) -> None:
        """Read until the connection closes: answer pings, settle acks, pass the rest on."""
        try:
            while True:
                text = await self._read_text()
                if text == "2":
                    self.send("3")  # Engine.IO ping -> pong
                elif text.startswith("43"):
                    ack_id, _, body = text[2:].partition("[")
                    future = self.acks.pop(int(ack_id), None)
                    if future is not None and not future.done():
                        future.set_result((json.loads("[" + body) or [None])[0])
                else:
                    self.on_frame(text)
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    async def _read_text(self) -> str:
        """The next complete text message (fragments joined; control frames handled)."""
        chunks = []
        while True:
            first, second = await self.reader.readexactly(2)
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(size)  # a server never masks
            opcode = first & 0x0F
            if opcode == CLOSE:
                raise ConnectionError("closed by the server")
            if opcode >= CLOSE:
                continue  # ping / pong frames: Engine.IO pings in its own packets, answered in run()
            chunks.append(payload)
            if first & 0x80:  # FIN
                return b"".join(chunks).decode()

    def close(self) -> None:
        self.writer.close()
