#!/usr/bin/env python3
"""How far batching several clients into each engine operation could take the library on the embedded model, against
Hugging Face transformers + PEFT on the whole machine, in one run.

    .venv-hf/bin/python benchmarks/batching_bound.py [--copies 1,2,4,8] [--tiers 8,4,2,1] [--hf-steps 100]

Runs, one after the other, with nothing else on the machine:
  1. two benchmarks/hf_peft_bench.py processes at once, one thread each (the whole machine as HF + PEFT uses it;
     batch 32 x 13 tokens, r = 8, AdamW),
  2. for each COPIES, two benchmarks/StepTimes.java processes at once, one PyTorch thread each, under TCMalloc as
     ./flame runs: the demo's first training batch (32 sequences, 13 tokens) repeated COPIES times in one pass.

COPIES = 1 is one client per core as the federation trains today. COPIES = C is the work of C clients with such
batches in one pass but with one LoRA for all of them, so no real implementation of client batching (one merged LoRA
per client, per-client gathers and losses) could be faster: it bounds what batching clients can give. Prints, per
tier, milliseconds per client step (per copy of the batch, the mean of the two processes) and HF's time over it
(how many times the library's throughput HF's would be, whole machine against whole machine).
"""
import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def two_at_once(cmds, env=None):
    """Starts both commands, waits for both, returns their standard outputs."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
             for c in cmds]
    outs = [p.communicate()[0] for p in procs]
    for c, p in zip(cmds, procs):
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {' '.join(c)}")
    return outs


def hf(tiers, steps):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "hf_peft_bench.py"), "--threads", "1", "--tiers", tiers,
           "--steps", str(steps), "--json"]
    runs = [json.loads(o.strip().splitlines()[-1]) for o in two_at_once([cmd, cmd])]
    return {k: sum(r["tiers"][k]["ms_per_step"] for r in runs) / 2 for k in runs[0]["tiers"]}


def library(k, copies, env):
    steps = max(20, 100 // copies)
    cp = f"{ROOT}/cli/target/flame-cli.jar:{ROOT}/cli/target/deps/*"
    cmd = ["java", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
           f"-Dflame.home={ROOT}", "-cp", cp, str(ROOT / "benchmarks" / "StepTimes.java"), str(k), str(steps), "AUTO",
           str(copies)]
    ms = []
    for out in two_at_once([cmd, cmd], env):
        m = re.search(r"step ([\d.]+) ms", out)
        if not m:
            sys.exit("StepTimes printed no step time:\n" + out)
        ms.append(float(m.group(1)) / copies)
    return sum(ms) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", default="1,2,4,8")
    ap.add_argument("--tiers", default="8,4,2,1")
    ap.add_argument("--hf-steps", type=int, default=100)
    a = ap.parse_args()
    if not (ROOT / "cli" / "target" / "flame-cli.jar").exists():
        sys.exit("build the library first: mvn -o -q -B -DskipTests package -pl lib,cli -am")
    env = dict(os.environ, LD_PRELOAD=TCMALLOC, TCMALLOC_RELEASE_RATE="0") if Path(TCMALLOC).exists() \
        else dict(os.environ)
    tiers = [t.strip() for t in a.tiers.split(",")]
    copies = [int(c) for c in a.copies.split(",")]
    hf_ms = hf(a.tiers, a.hf_steps)
    lib = {(k, c): library(int(k), c, env) for c in copies for k in tiers}
    print("ms per client step on the whole machine (two processes of one thread; 32 sequences of 13 tokens a step);")
    print("library with C copies of the batch in one pass (one LoRA: a bound on batching C clients); HF / library")
    print("   k   HF+PEFT   " + "   ".join(f"C={c:<2} (x HF)" for c in copies))
    for k in tiers:
        cells = "   ".join(f"{lib[(k, c)]:5.1f} ({hf_ms[k] / lib[(k, c)]:4.2f})" for c in copies)
        print(f"{k:>4}   {hf_ms[k]:7.1f}   {cells}")


if __name__ == "__main__":
    main()
