"""The kernel's own floor: N trivial cells over ZMQ with no gateway.

Run with /usr/bin/python3 (it needs jupyter_client and ipykernel):
    /usr/bin/python3 bench/zmq_floor.py [N]
Prints one line: "<N> cells <ms> ms/cell".
"""
import sys
import time

from jupyter_client.manager import KernelManager


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        kc.execute_interactive("x = 0", timeout=60)
        for _ in range(20):  # warm up
            kc.execute_interactive("x += 1", timeout=60)
        start = time.perf_counter()
        for _ in range(n):
            # Waits for both the execute_reply and status idle, like a client.
            reply = kc.execute_interactive("x += 1", timeout=60, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok"
        elapsed = time.perf_counter() - start
        print(f"{n} cells {elapsed / n * 1000:.3f} ms/cell")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
