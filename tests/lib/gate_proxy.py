#!/usr/bin/python3
"""gate_proxy.py: a TCP proxy with a gate, to hold a program at one step.

  gate_proxy.py --listen HOST:PORT --upstream HOST:PORT --gate FILE
                --port-file FILE [--held FILE] [--drop-older]

Forwards every connection to the upstream, byte for byte (HTTP, LDAPS,
anything). While the gate file exists, a new connection is accepted but
nothing is forwarded: the program on the other side waits in its call, at
a step a race test chooses, until the test removes the gate. Each held
connection appends a line to the held file, so the test knows the program
got there. Port 0 picks a free port; the one bound is written to the port
file. With --drop-older, each new connection closes the ones before it, as
a server does that drops idle connections: a client that keeps one open
finds it gone at its next request.
"""
import argparse
import asyncio
import os
import sys


def split(hostport):
    host, _, port = hostport.rpartition(":")
    return host, int(port)


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def serve(args):
    up_host, up_port = split(args.upstream)
    open_pairs = []

    async def handle(reader, writer):
        if args.drop_older:
            for pair in open_pairs:
                for w in pair:
                    w.close()
            open_pairs.clear()
        if os.path.exists(args.gate):
            if args.held:
                with open(args.held, "a") as f:
                    f.write("held\n")
            while os.path.exists(args.gate):
                await asyncio.sleep(0.02)
        try:
            up_reader, up_writer = await asyncio.open_connection(up_host, up_port)
        except OSError as e:
            print("gate_proxy: upstream %s: %s" % (args.upstream, e), file=sys.stderr)
            writer.close()
            return
        if args.drop_older:
            open_pairs.append((writer, up_writer))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    host, port = split(args.listen)
    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % bound)
    os.rename(tmp, args.port_file)
    async with server:
        await server.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--gate", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--held")
    p.add_argument("--drop-older", action="store_true")
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
