#!/usr/bin/env python3
"""The library against Hugging Face transformers + PEFT, measured side by side in one run on the same model and batch.

    .venv-hf/bin/python benchmarks/side_by_side.py [--steps 100] [--warmup 20]
    .venv-hf/bin/python benchmarks/side_by_side.py --model DIR --batch 4 --seq-len 128 --steps 3 --warmup 1 \\
        [--hf-threads 2]

Runs, one after the other on a machine with nothing else running:
  1. `./flame bench` (one client with all cores; on the embedded model also two clients at once with one thread each),
  2. benchmarks/hf_peft_bench.py with each thread count of --hf-threads (one process alone; its best per tier is kept),
  3. on the embedded model, two hf_peft_bench.py processes at once, one thread each (the whole machine, as the
     federation uses it),
and prints tokens/s per tier for both and the ratio library / HF, for one process alone and (embedded model) for the
whole machine, with each side's peak resident memory when it reports one.

The embedded model (data/base) is benched on the demo's first training batch (32 sequences of 13 tokens); any other
checkpoint (e.g. `./flame init-model`'s) on --batch random sequences of --seq-len tokens, the same for both sides.
"""
import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HF = [sys.executable, str(ROOT / "benchmarks" / "hf_peft_bench.py")]
EMBEDDED = "data/base"


def flame_bench(a):
    cmd = [str(ROOT / "flame"), "bench", "--steps", str(a.steps), "--warmup", str(a.warmup), "--skip-demo-round",
           "--ratio-batch", "0"]
    if a.model != EMBEDDED:
        cmd += ["--model", a.model, "--batch", str(a.batch), "--seq-len", str(a.seq_len)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    alone, machine = {}, {}
    section = None
    peak = None
    for line in out.splitlines():
        if line.strip().startswith("k    ms/step   tokens/s  GFLOP/step"):
            section = alone if not alone else None
            continue
        if line.startswith("2 clients training at the same time"):
            section = machine
            continue
        m = re.match(r"\s+(\d+)\s+([\d.]+)\s+(\d+)", line)
        if m and section is not None:
            section[m.group(1)] = float(m.group(3))
        if line.startswith("large batch"):
            section = None
        m = re.match(r"peak resident memory: (\d+) MB", line)
        if m:
            peak = int(m.group(1))
    return alone, machine, peak


def hf(a, threads):
    return HF + ["--model", a.model, "--threads", str(threads), "--steps", str(a.steps), "--warmup", str(a.warmup),
                 "--batch", str(a.batch), "--seq-len", str(a.seq_len), "--json"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=EMBEDDED)
    ap.add_argument("--batch", type=int, default=None, help="sequences per step (default: 32 on the embedded model, "
                                                            "else 4)")
    ap.add_argument("--seq-len", type=int, default=None, help="tokens per sequence (default: 13 on the embedded "
                                                              "model, else 128)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--hf-threads", default="1,2", help="thread counts tried for HF + PEFT alone (default 1,2)")
    a = ap.parse_args()
    embedded = a.model == EMBEDDED
    a.batch = a.batch or (32 if embedded else 4)
    a.seq_len = a.seq_len or (13 if embedded else 128)
    alone, machine, lib_peak = flame_bench(a)
    hf_alone, hf_peak = {}, 0
    for t in [int(x) for x in a.hf_threads.split(",")]:
        r = json.loads(subprocess.run(hf(a, t), capture_output=True, text=True, check=True).stdout)
        hf_peak = max(hf_peak, r.get("peak_rss_mb") or 0)
        for k, v in r["tiers"].items():
            if v["tokens_per_s"] > hf_alone.get(k, (0, 0))[0]:
                hf_alone[k] = (v["tokens_per_s"], t)
    hf_machine = {}
    if machine:
        procs = [subprocess.Popen(hf(a, 1), stdout=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [json.loads(p.communicate()[0]) for p in procs]
        hf_machine = {k: sum(o["tiers"][k]["tokens_per_s"] for o in outs) for k in outs[0]["tiers"]}
    print(f"model {a.model}, batch {a.batch} x {a.seq_len} tokens, LoRA r = 8, AdamW, {a.steps} timed steps after "
          f"{a.warmup}; {os.cpu_count()} cores")
    if machine:
        print("                 one process alone                          whole machine (2 clients / 2 processes)")
        print("   k   library tok/s   HF+PEFT tok/s (threads)   ratio      library tok/s   HF+PEFT tok/s   ratio")
    else:
        print("                 one process alone")
        print("   k   library tok/s   HF+PEFT tok/s (threads)   ratio")
    for k in ("8", "4", "2", "1"):
        la, (ha, t) = alone[k], hf_alone[k]
        row = f"{k:>4} {la:15.1f} {ha:15.1f} ({t})          {la / ha:5.2f}x"
        if machine:
            lm, hm = machine[k], hf_machine[k]
            row += f" {lm:17.0f} {hm:15.0f}   {lm / hm:5.2f}x"
        print(row)
    if lib_peak is not None:
        print(f"peak resident memory: library {lib_peak if lib_peak is not None else '-'} MB, "
              f"HF + PEFT {hf_peak:.0f} MB")


if __name__ == "__main__":
    main()
