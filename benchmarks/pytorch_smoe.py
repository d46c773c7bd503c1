#!/usr/bin/env python3
"""Training throughput of the embedded default model written in PyTorch eager, for comparison with `./flame bench`.

The same architecture as the Java library (OLMoE layout: RMSNorm, attention with q/k RMSNorm over the whole projection
and rotate-half RoPE, router softmax over all experts then top-k without renormalisation, SwiGLU experts), with the
base weights read from data/base/model.safetensors and frozen, a rank-8 LoRA (alpha 16) on gate/up/down of every
expert, AdamW on the LoRA only, cross-entropy on every next token. Experts run only on the tokens routed to them (the
usual eager loop: gather each expert's tokens, run its MLP, scatter-add the gated output back).

Run (Debian: apt-get install python3-torch; nothing else is needed):

    python3 benchmarks/pytorch_smoe.py [--batch 32] [--seq-len 22] [--steps 100] [--warmup 20] [--threads 2]

It prints ms per step and tokens per second at k = 8, 4, 2, 1. Use the same batch and sequence length as
`./flame bench` prints, and the same number of threads, to compare.
"""
import argparse
import json
import math
import struct
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent


def read_safetensors(path):
    """name -> float32 tensor, for F32/F16/BF16 files (the format: 8-byte header size, JSON header, raw data)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = data[start:end]
        if info["dtype"] == "F32":
            arr = np.frombuffer(buf, dtype="<f4")
        elif info["dtype"] == "F16":
            arr = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        out[name] = torch.from_numpy(arr.copy()).reshape(info["shape"])
    return out


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class SmoeLora:
    def __init__(self, cfg, w, rank, alpha, gen):
        self.cfg = cfg
        self.w = w
        self.scaling = alpha / rank
        self.lora = {}
        n = cfg["num_experts"]
        d = cfg["hidden_size"]
        i = cfg["intermediate_size"]
        dims = {"gate_proj": (d, i), "up_proj": (d, i), "down_proj": (i, d)}
        for layer in range(cfg["num_hidden_layers"]):
            for proj, (din, dout) in dims.items():
                bound = 1.0 / math.sqrt(din)
                a = ((torch.rand(n, rank, din, generator=gen) * 2 - 1) * bound).requires_grad_()
                b = torch.zeros(n, dout, rank).normal_(0, 0.01, generator=gen).requires_grad_()
                self.lora[(layer, proj)] = (a, b)
        # stacked frozen expert weights [N, out, in]
        self.experts = {}
        for layer in range(cfg["num_hidden_layers"]):
            for proj in dims:
                self.experts[(layer, proj)] = torch.stack([
                    w[f"model.layers.{layer}.mlp.experts.{j}.{proj}.weight"] for j in range(n)])

    def parameters(self):
        return [t for pair in self.lora.values() for t in pair]

    def proj(self, layer, proj, j, x):
        a, b = self.lora[(layer, proj)]
        return x @ self.experts[(layer, proj)][j].T + self.scaling * ((x @ a[j].T) @ b[j].T)

    def forward(self, tokens, k):
        cfg = self.cfg
        w = self.w
        eps = cfg["rms_norm_eps"]
        bsz, t = tokens.shape
        h = cfg["num_attention_heads"]
        kvh = cfg.get("num_key_value_heads", h)
        d = cfg["hidden_size"]
        hd = d // h
        pos = torch.arange(t, dtype=torch.float32)
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.outer(pos, inv)
        cos = torch.cat((ang, ang), -1).cos()
        sin = torch.cat((ang, ang), -1).sin()
        mask = torch.full((t, t), float("-inf")).triu(1)
        x = w["model.embed_tokens.weight"][tokens]
        for layer in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{layer}."
            u = rms_norm(x, w[p + "input_layernorm.weight"], eps)
            q = rms_norm(u @ w[p + "self_attn.q_proj.weight"].T, w[p + "self_attn.q_norm.weight"], eps)
            kk = rms_norm(u @ w[p + "self_attn.k_proj.weight"].T, w[p + "self_attn.k_norm.weight"], eps)
            v = u @ w[p + "self_attn.v_proj.weight"].T
            q = rope(q.view(bsz, t, h, hd).transpose(1, 2), cos, sin)
            kk = rope(kk.view(bsz, t, kvh, hd).transpose(1, 2), cos, sin)
            v = v.view(bsz, t, kvh, hd).transpose(1, 2)
            if kvh != h:
                kk = kk.repeat_interleave(h // kvh, dim=1)
                v = v.repeat_interleave(h // kvh, dim=1)
            att = (q @ kk.transpose(-1, -2)) / math.sqrt(hd) + mask
            o = (att.softmax(-1) @ v).transpose(1, 2).reshape(bsz, t, d)
            x = x + o @ w[p + "self_attn.o_proj.weight"].T
            u = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps).reshape(-1, d)
            probs = (u @ w[p + "mlp.gate.weight"].T).softmax(-1)
            gates, ids = probs.topk(k, dim=-1)
            out = torch.zeros_like(u)
            for j in range(cfg["num_experts"]):
                tok, slot = (ids == j).nonzero(as_tuple=True)
                if tok.numel() == 0:
                    continue
                xe = u[tok]
                hidden = F.silu(self.proj(layer, "gate_proj", j, xe)) * self.proj(layer, "up_proj", j, xe)
                ye = self.proj(layer, "down_proj", j, hidden) * gates[tok, slot].unsqueeze(-1)
                out = out.index_add(0, tok, ye)
            x = x + out.view(bsz, t, d)
        x = rms_norm(x, w["model.norm.weight"], eps)
        return x @ w["lm_head.weight"].T


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "data" / "base"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=22)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    cfg = json.loads((Path(args.model) / "config.json").read_text())
    w = read_safetensors(Path(args.model) / "model.safetensors")
    gen = torch.Generator().manual_seed(args.seed)
    tokens = torch.randint(0, cfg["vocab_size"], (args.batch, args.seq_len + 1), generator=gen)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    print(f"PyTorch {torch.__version__} eager, {torch.get_num_threads()} threads; batch {args.batch} x "
          f"{args.seq_len} tokens, LoRA r={args.rank} on gate/up/down of {cfg['num_experts']} experts x "
          f"{cfg['num_hidden_layers']} layers")
    print(f"{'k':>3} {'ms/step':>9} {'tokens/s':>10} {'vs k=8':>7}")
    ref = None
    for k in (8, 4, 2, 1):
        model = SmoeLora(cfg, w, args.rank, 2.0 * args.rank, torch.Generator().manual_seed(args.seed))
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
        for step in range(args.warmup + args.steps):
            if step == args.warmup:
                t0 = time.perf_counter()
            logits = model.forward(inputs, k)
            loss = F.cross_entropy(logits.reshape(-1, cfg["vocab_size"]), targets.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        ms = 1000 * (time.perf_counter() - t0) / args.steps
        ref = ref or ms
        print(f"{k:>3} {ms:>9.1f} {args.batch * args.seq_len * 1000 / ms:>10.0f} {ms / ref:>7.2f}")


if __name__ == "__main__":
    main()
