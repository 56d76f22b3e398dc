#!/usr/bin/env python3
"""Slowloris attackers for benches/load/slowloris.sh: N connections to 127.0.0.1:PORT, each
sending a partial request head and then one header byte every INTERVAL seconds, reconnecting
when the server closes it. Runs for SECONDS, then prints how many connects it made and the CPU
seconds it used (it shares the machine with the server and the good clients). On SIGUSR1 it
prints a line "mark connects=C sends=S" with the counts so far (connects, and bytes of the
trickle sent), so that a caller can count what fell in a window; on SIGINT it prints its counts
and stops early. Loopback only."""
import asyncio
import os
import signal
import sys
import time


async def attacker(port: int, interval: float, stop: float, counts: dict) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            counts["refused"] += 1
            await asyncio.sleep(0.5)
            continue
        counts["connects"] += 1
        try:
            writer.write(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            await writer.drain()
            while loop.time() < stop:
                await asyncio.sleep(interval)
                if reader.at_eof():
                    break
                writer.write(b"a")
                counts["sends"] += 1
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


async def main() -> None:
    port, n, interval, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    counts = {"connects": 0, "refused": 0, "sends": 0}
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGUSR1,
        lambda: print(f"mark connects={counts['connects']} sends={counts['sends']}", flush=True),
    )
    def report() -> None:
        print(f"connects={counts['connects']} refused={counts['refused']} cpu={time.process_time():.1f}", flush=True)

    def interrupted() -> None:
        report()
        os._exit(0)

    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupted)
    stop = asyncio.get_running_loop().time() + seconds
    tasks = []
    for _ in range(n):
        tasks.append(asyncio.create_task(attacker(port, interval, stop, counts)))
        await asyncio.sleep(0)  # spread the connects a little
    await asyncio.gather(*tasks, return_exceptions=True)
    report()


asyncio.run(main())
