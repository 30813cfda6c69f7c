#!/usr/bin/env python3
"""A pymodbus TCP server for the interop test (tests/modbus_pymodbus.rs).

Usage: pymodbus_server.py PORT

Serves unit id 1 on 127.0.0.1:PORT with 200 holding registers and 200 coils and runs until it
is killed. The data blocks start at address 1 (pymodbus 3.16 rejects blocks at 0). Prints
`READY <port>` on stdout once the listener is up.
"""

import asyncio
import logging
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusTcpServer

try:  # pymodbus >= 3.10
    from pymodbus.datastore import ModbusDeviceContext as _Device

    def _context(device):
        return ModbusServerContext(devices={1: device}, single=False)

except ImportError:  # pymodbus 3.6 - 3.9
    from pymodbus.datastore import ModbusSlaveContext as _Device

    def _context(device):
        return ModbusServerContext(slaves={1: device}, single=False)

UNIT = 1
SIZE = 200


async def main(port: int) -> None:
    # The deprecation warnings of the 3.x datastore are noise here.
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    device = _Device(
        co=ModbusSequentialDataBlock(1, [False] * SIZE),
        hr=ModbusSequentialDataBlock(1, [0] * SIZE),
    )
    server = ModbusTcpServer(_context(device), address=("127.0.0.1", port))
    task = asyncio.create_task(server.serve_forever())
    # Tell the test when a connect will succeed.
    for _ in range(500):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            if task.done():
                task.result()  # raises why the server could not start
            await asyncio.sleep(0.01)
    print(f"READY {port}", flush=True)
    await task


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: pymodbus_server.py PORT")
    asyncio.run(main(int(sys.argv[1])))
