#!/usr/bin/python3
"""Closed-loop load on a worker's SegmentationService.Segment from an independent client (Python grpcio).

Each of --clients threads sends one image per Segment call (a header, then the file in 1 MiB chunks) and
starts the next call as soon as the previous one ended, whatever its status; with --honour-retry it first
waits the `retry-after-ms` trailer of a RESOURCE_EXHAUSTED reply. Prints OK calls per second, p50/p99 of the
OK calls' latency and every other status by count; --json ends with one JSON line.

Needs Debian's python3-grpcio and python3-grpc-tools (stubs are generated from protos/ into a temp folder):
    /usr/bin/python3 bench/grpc_load.py --server 127.0.0.1:50051 --model lungs --image cxr.png --clients 32 --seconds 20
"""
import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time


def stubs(repo):
    from grpc_tools import protoc
    out = tempfile.mkdtemp(prefix="edu-grpc-load-")
    protos = os.path.join(repo, "protos")
    files = [os.path.join("edu", "v1", f) for f in ("common.proto", "segmentation.proto")]
    if protoc.main(["protoc", f"-I{protos}", f"--python_out={out}", f"--grpc_python_out={out}", *files]) != 0:
        sys.exit("protoc failed")
    for d in (os.path.join(out, "edu"), os.path.join(out, "edu", "v1")):
        open(os.path.join(d, "__init__.py"), "a").close()
    sys.path.insert(0, out)
    from edu.v1 import segmentation_pb2, segmentation_pb2_grpc, common_pb2
    return segmentation_pb2, segmentation_pb2_grpc, common_pb2


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="host:port")
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=120, help="deadline of each call (s)")
    parser.add_argument("--honour-retry", action="store_true", help="wait retry-after-ms (with jitter) after a busy reply")
    parser.add_argument("--shared-channel", action="store_true", help="one channel (one HTTP/2 connection) for every client")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import grpc
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    seg_pb2, seg_grpc, common_pb2 = stubs(repo)
    data = open(args.image, "rb").read()
    name = os.path.basename(args.image)
    chunk = 1 << 20

    def requests():
        yield seg_pb2.SegmentRequest(header=seg_pb2.SegmentHeader(model=args.model, outputs=[seg_pb2.OUTPUT_KIND_NIFTI]))
        for i in range(0, max(len(data), 1), chunk):
            part = data[i:i + chunk]
            yield seg_pb2.SegmentRequest(chunk=common_pb2.FileChunk(file_name=name, data=part, last=i + chunk >= len(data)))

    lock = threading.Lock()
    ok_latency = []
    codes = {}
    details = {}
    end = time.monotonic() + args.seconds
    shared = grpc.insecure_channel(args.server) if args.shared_channel else None

    def client(index):
        channel = shared or grpc.insecure_channel(args.server)
        stub = seg_grpc.SegmentationServiceStub(channel)
        rng = random.Random(index)
        while time.monotonic() < end:
            start = time.monotonic()
            code, wait = "OK", 0.0
            try:
                status = None
                for response in stub.Segment(requests(), timeout=args.timeout):
                    if response.WhichOneof("event") == "status":
                        status = response.status
                if status is None or not status.ok:
                    code = "NO_STATUS"
            except grpc.RpcError as e:
                code = e.code().name
                with lock:
                    details.setdefault(code, e.details())
                if e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and args.honour_retry:
                    hint = dict(e.trailing_metadata() or ()).get("retry-after-ms")
                    if hint is not None:
                        wait = int(hint) / 1000 * rng.uniform(0.5, 1.5)
            elapsed = time.monotonic() - start
            with lock:
                codes[code] = codes.get(code, 0) + 1
                if code == "OK":
                    ok_latency.append(elapsed)
            if wait > 0:
                time.sleep(min(wait, max(0.0, end - time.monotonic())))
        if shared is None:
            channel.close()

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - began
    ok = codes.get("OK", 0)
    result = {
        "clients": args.clients,
        "seconds": round(seconds, 1),
        "ok": ok,
        "ok_per_s": round(ok / seconds, 2),
        "p50_s": None if not ok_latency else round(percentile(ok_latency, 50), 3),
        "p99_s": None if not ok_latency else round(percentile(ok_latency, 99), 3),
        "codes": codes,
        "details": {k: v for k, v in details.items()},
    }
    print(f"{args.clients} clients, {seconds:.1f} s: {ok} OK ({result['ok_per_s']}/s), p50 {result['p50_s']} s, p99 {result['p99_s']} s; "
          + ", ".join(f"{k} {v}" for k, v in sorted(codes.items()) if k != "OK"))
    for k, v in details.items():
        print(f"  {k}: {v}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
