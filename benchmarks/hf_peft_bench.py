#!/usr/bin/env python3
"""Training speed of what a user would pick instead of the library: Hugging Face transformers' OlmoeForCausalLM with a
PEFT LoRA (r = 8, alpha 16) on its fused experts (target_parameters mlp.experts.gate_up_proj and down_proj), AdamW
on the LoRA, the base frozen; the same batch as `./flame bench` (32 sequences of 13 tokens), next-token loss.

    .venv-hf/bin/python benchmarks/hf_peft_bench.py [--model data/base] [--threads 1] [--batch 32] [--seq-len 13]
                                                    [--steps 100] [--warmup 20] [--tiers 8,4,2,1] [--json]
                                                    [--device cpu|cuda]

k is the router's top-k (config.num_experts_per_tok). Prints ms per step and tokens per second per k; --json prints
{"threads": T, "tiers": {"8": {"ms_per_step": ..., "tokens_per_s": ...}, ...}, "versions": {...}}.
"""
import argparse
import json
import resource
import time

import torch
import transformers
import peft
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, OlmoeForCausalLM


def bench(model_dir, k, threads, batch, seq_len, steps, warmup, seed=0, device="cpu"):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    config = AutoConfig.from_pretrained(model_dir)
    config.num_experts_per_tok = k
    model = OlmoeForCausalLM.from_pretrained(model_dir, config=config, torch_dtype=torch.float32).to(device)
    lora = LoraConfig(r=8, lora_alpha=16, target_modules=[],
                      target_parameters=["mlp.experts.gate_up_proj", "mlp.experts.down_proj"])
    model = get_peft_model(model, lora)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
    ids = torch.randint(0, config.vocab_size, (batch, seq_len)).to(device)

    def sync():  # a GPU runs asynchronously: wait for it before reading the clock
        if device != "cpu":
            torch.cuda.synchronize()
    def step():
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    for _ in range(warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    secs = (time.perf_counter() - t0) / steps
    return {"ms_per_step": 1000 * secs, "tokens_per_s": batch * seq_len / secs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="data/base")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=13)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--tiers", default="8,4,2,1")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    res = {}
    for k in [int(x) for x in a.tiers.split(",")]:
        res[str(k)] = bench(a.model, k, a.threads, a.batch, a.seq_len, a.steps, a.warmup, device=a.device)
    if a.json:
        print(json.dumps({"threads": a.threads, "device": a.device, "tiers": res, "peak_rss_mb": peak_mb(),
                          "peak_gpu_mb": peak_gpu_mb(a.device), "versions": {"torch": torch.__version__,
                          "transformers": transformers.__version__, "peft": peft.__version__}}))
    else:
        print(f"HF transformers {transformers.__version__} + PEFT {peft.__version__}, torch {torch.__version__}, "
              f"{a.threads} thread(s), batch {a.batch} x {a.seq_len} tokens, {a.steps} timed steps after {a.warmup}")
        print("   k    ms/step   tokens/s")
        for k, r in res.items():
            print(f"{k:>4} {r['ms_per_step']:10.2f} {r['tokens_per_s']:10.0f}")
        print(f"peak resident memory: {peak_mb():.0f} MB"
              + (f", peak GPU memory allocated: {peak_gpu_mb(a.device):.0f} MB" if a.device != "cpu" else ""))


def peak_gpu_mb(device):
    return torch.cuda.max_memory_allocated() / 2**20 if device != "cpu" else None


def peak_mb():
    """Peak resident memory of this process (ru_maxrss, KiB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
