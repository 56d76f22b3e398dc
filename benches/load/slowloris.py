#!/usr/bin/env python3
"""Slowloris attackers for benches/load/slowloris.sh: N connections to 127.0.0.1:PORT, each
sending a partial request head and then one header byte every INTERVAL seconds, reconnecting
when the server closes it. Runs for SECONDS, then prints how many connects it made and the CPU
seconds it used (it shares the machine with the server and the good clients). Loopback only."""
import asyncio
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
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


async def main() -> None:
    port, n, interval, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    counts = {"connects": 0, "refused": 0}
    stop = asyncio.get_running_loop().time() + seconds
    tasks = []
    for _ in range(n):
        tasks.append(asyncio.create_task(attacker(port, interval, stop, counts)))
        await asyncio.sleep(0)  # spread the connects a little
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"connects={counts['connects']} refused={counts['refused']} cpu={time.process_time():.1f}")


asyncio.run(main())
