#!/usr/bin/env python3
"""The library against Hugging Face transformers + PEFT, measured side by side in one run on the same model and batch.

    .venv-hf/bin/python benchmarks/side_by_side.py [--model data/base] [--steps 100] [--warmup 20]

Runs, one after the other on a machine with nothing else running:
  1. `./flame bench` (one client with all cores, then two clients at once with one thread each),
  2. benchmarks/hf_peft_bench.py with 1 thread and with 2 threads (one process alone; its best per tier is kept),
  3. two hf_peft_bench.py processes at once, one thread each (the whole machine, as the federation uses it),
and prints tokens/s per tier for both and the ratio library / HF, for one process alone and for the whole machine.
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


def flame_bench(model, steps, warmup):
    out = subprocess.run([str(ROOT / "flame"), "bench", "--steps", str(steps), "--warmup", str(warmup),
                          "--skip-demo-round", "--ratio-batch", "0"] + (["--model", model] if model != "data/base" else []),
                         capture_output=True, text=True, check=True).stdout
    alone, machine = {}, {}
    section = None
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
    return alone, machine, out


def hf(args, model, threads, steps, warmup):
    cmd = HF + ["--model", model, "--threads", str(threads), "--steps", str(steps), "--warmup", str(warmup), "--json"]
    return cmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="data/base")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    alone, machine, raw = flame_bench(a.model, a.steps, a.warmup)
    hf_alone = {}
    for t in (1, 2):
        r = json.loads(subprocess.run(hf(a, a.model, t, a.steps, a.warmup), capture_output=True, text=True,
                                      check=True).stdout)
        for k, v in r["tiers"].items():
            if v["tokens_per_s"] > hf_alone.get(k, (0, 0))[0]:
                hf_alone[k] = (v["tokens_per_s"], t)
    procs = [subprocess.Popen(hf(a, a.model, 1, a.steps, a.warmup), stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [json.loads(p.communicate()[0]) for p in procs]
    hf_machine = {k: sum(o["tiers"][k]["tokens_per_s"] for o in outs) for k in outs[0]["tiers"]}
    print(f"model {a.model}, batch 32 x 13 tokens, LoRA r = 8, AdamW, {a.steps} timed steps after {a.warmup}; "
          f"{os.cpu_count()} cores")
    print("                 one process alone                          whole machine (2 clients / 2 processes)")
    print("   k   library tok/s   HF+PEFT tok/s (threads)   ratio      library tok/s   HF+PEFT tok/s   ratio")
    for k in ("8", "4", "2", "1"):
        la, (ha, t) = alone[k], hf_alone[k]
        lm, hm = machine[k], hf_machine[k]
        print(f"{k:>4} {la:15.0f} {ha:15.0f} ({t})          {la / ha:5.2f}x {lm:17.0f} {hm:15.0f}   {lm / hm:5.2f}x")


if __name__ == "__main__":
    main()
