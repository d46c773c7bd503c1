#!/usr/bin/env python3
"""Independent PyTorch reference of one OLMoE forward pass, for cross-checking `./flame forward --json`.

It reads a Hugging Face checkpoint directory (config.json, and model.safetensors or model.safetensors.index.json with
its shards; F32, F16, BF16 or F64 weights, all computed in float32) and follows the conventions of transformers'
OlmoeForCausalLM, written out here without the library:

  * config defaults as OlmoeConfig: num_key_value_heads = num_attention_heads, rms_norm_eps 1e-5, rope_theta 10000,
    norm_topk_prob false, tie_word_embeddings false; head_dim = hidden_size / num_attention_heads
  * RMSNorm(x) = weight * x / sqrt(mean(x^2) + eps), eps = rms_norm_eps, everywhere (input_layernorm before attention,
    post_attention_layernorm before the MoE block, q_norm and k_norm, model.norm before lm_head)
  * q_norm / k_norm act on the WHOLE q / k projection output (all heads together), before it is split into heads
  * RoPE in the rotate-half layout: inv_freq_i = theta^(-2i/head_dim), cos/sin repeated over both halves,
    x * cos + rotate_half(x) * sin with rotate_half(x) = [-x2, x1]
  * grouped key/value heads: query head h attends with key/value head h // (heads / kv_heads)
  * scores q k^T / sqrt(head_dim) with a causal mask, softmax in float32
  * router: softmax over ALL experts of W_router u in float32, then top-k; the selected probabilities are divided by
    their sum only when norm_topk_prob is true; experts are SwiGLU: down(silu(gate(u)) * up(u))
  * lm_head = model.embed_tokens when tie_word_embeddings is true and lm_head.weight is absent

Usage (Debian's python3-torch; nothing else needed; the output is exactly what `./flame forward --json` prints):

    /usr/bin/python3 benchmarks/reference_forward.py --model data/base --ids 1,5,9 [--top-k K] [--json]

stdout: {"logits": [vocab_size floats of the last position],
         "experts": [{"layer": l, "ids": [k experts, largest gate first], "weights": [their gates]}, ...]}
(experts of the last position). Errors go to stderr with exit status 2.

Cross-check in one line (exit status 1 when they disagree):

    ./flame forward --model DIR --ids 1,5,9 --json \
        | /usr/bin/python3 benchmarks/reference_forward.py --model DIR --ids 1,5,9 --compare -
"""
import argparse
import json
import math
import struct
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


class InputError(Exception):
    pass


def load_config(model_dir):
    path = model_dir / "config.json"
    if not path.is_file():
        raise InputError(f"{model_dir}: no config.json")
    cfg = json.loads(path.read_text())
    for key in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_experts", "num_experts_per_tok"):
        if key not in cfg:
            raise InputError(f"{path}: required key {key!r} is missing")
    defaults = {"num_key_value_heads": cfg["num_attention_heads"], "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                "norm_topk_prob": False, "tie_word_embeddings": False}
    for key, value in defaults.items():
        if cfg.get(key) is None:
            cfg[key] = value
    for key, allowed in (("clip_qkv", None), ("rope_scaling", None), ("attention_bias", False)):
        if cfg.get(key, allowed) != allowed:
            raise InputError(f"{path}: {key} = {cfg[key]!r} is not implemented by this reference (allowed: {allowed})")
    if cfg.get("hidden_act", "silu") != "silu":
        raise InputError(f"{path}: hidden_act = {cfg['hidden_act']!r}, only 'silu' is implemented")
    return cfg


def read_safetensors_file(path):
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len])
    body = bytearray(raw[8 + header_len:])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise InputError(f"{path}: tensor {name} has dtype {info['dtype']}, expected one of {sorted(DTYPES)}")
        start, end = info["data_offsets"]
        count = math.prod(info["shape"])
        flat = torch.frombuffer(body, dtype=dtype, count=count, offset=start) if count else torch.empty(0, dtype=dtype)
        if flat.numel() * flat.element_size() != end - start:
            raise InputError(f"{path}: tensor {name} spans {end - start} bytes, its shape {info['shape']} needs "
                             f"{flat.numel() * flat.element_size()}")
        tensors[name] = flat.to(torch.float32).reshape(info["shape"]).clone()
    return tensors


def load_weights(model_dir):
    single = model_dir / "model.safetensors"
    index = model_dir / "model.safetensors.index.json"
    if single.is_file():
        return read_safetensors_file(single)
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        weights = {}
        for shard in sorted(set(weight_map.values())):
            weights.update(read_safetensors_file(model_dir / shard))
        return weights
    raise InputError(f"{model_dir}: neither model.safetensors nor model.safetensors.index.json")


class RMSNorm:
    def __init__(self, weight, eps):
        self.weight = weight
        self.eps = eps

    def __call__(self, x):
        x32 = x.to(torch.float32)
        variance = x32.pow(2).mean(-1, keepdim=True)
        return self.weight * (x32 * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rotary_cos_sin(seq_len, head_dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    positions = torch.arange(seq_len, dtype=torch.float32)
    freqs = positions[:, None] * inv_freq[None, :]  # [T, head_dim / 2]
    emb = torch.cat((freqs, freqs), dim=-1)         # [T, head_dim]
    return emb.cos(), emb.sin()


def repeat_kv(x, n_rep):
    """[B, kv_heads, T, hd] -> [B, kv_heads * n_rep, T, hd], each key/value head repeated n_rep times in a row."""
    if n_rep == 1:
        return x
    b, kvh, t, hd = x.shape
    return x[:, :, None, :, :].expand(b, kvh, n_rep, t, hd).reshape(b, kvh * n_rep, t, hd)


def linear(x, weight):
    return x @ weight.t()


class Olmoe:
    def __init__(self, cfg, w):
        self.cfg = cfg
        self.w = w
        self.eps = cfg["rms_norm_eps"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg["num_key_value_heads"]
        self.head_dim = cfg["hidden_size"] // self.heads
        head = w.get("lm_head.weight")
        if head is None:
            if not cfg["tie_word_embeddings"]:
                raise InputError("lm_head.weight is missing and tie_word_embeddings is false")
            head = w["model.embed_tokens.weight"]
        self.lm_head = head

    def attention(self, p, x, cos, sin):
        w = self.w
        b, t, _ = x.shape
        q = RMSNorm(w[p + "self_attn.q_norm.weight"], self.eps)(linear(x, w[p + "self_attn.q_proj.weight"]))
        k = RMSNorm(w[p + "self_attn.k_norm.weight"], self.eps)(linear(x, w[p + "self_attn.k_proj.weight"]))
        v = linear(x, w[p + "self_attn.v_proj.weight"])
        q = q.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = v.view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        n_rep = self.heads // self.kv_heads
        k = repeat_kv(k, n_rep)
        v = repeat_kv(v, n_rep)
        scores = (q @ k.transpose(2, 3)) / math.sqrt(self.head_dim)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, torch.finfo(torch.float32).min)
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, self.heads * self.head_dim)
        return linear(ctx, w[p + "self_attn.o_proj.weight"])

    def moe(self, p, u, k):
        """u [n, d] -> (output [n, d], gates [n, k], ids [n, k])."""
        w = self.w
        router_probs = torch.softmax(linear(u, w[p + "mlp.gate.weight"]), dim=-1, dtype=torch.float32)
        gates, ids = torch.topk(router_probs, k, dim=-1)  # sorted, largest first
        if self.cfg["norm_topk_prob"]:
            gates = gates / gates.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(u)
        for token in range(u.shape[0]):
            for slot in range(k):
                e = p + f"mlp.experts.{int(ids[token, slot])}."
                x = u[token]
                gate = torch.nn.functional.silu(linear(x, w[e + "gate_proj.weight"]))
                hidden = gate * linear(x, w[e + "up_proj.weight"])
                out[token] += gates[token, slot] * linear(hidden, w[e + "down_proj.weight"])
        return out, gates, ids

    def forward(self, tokens, k):
        cfg = self.cfg
        w = self.w
        ids = torch.tensor([tokens], dtype=torch.long)
        b, t = ids.shape
        cos, sin = rotary_cos_sin(t, self.head_dim, cfg["rope_theta"])
        x = w["model.embed_tokens.weight"][ids]
        routes = []
        for layer in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{layer}."
            x = x + self.attention(p, RMSNorm(w[p + "input_layernorm.weight"], self.eps)(x), cos, sin)
            u = RMSNorm(w[p + "post_attention_layernorm.weight"], self.eps)(x).reshape(b * t, -1)
            out, gates, experts = self.moe(p, u, k)
            x = x + out.view(b, t, -1)
            routes.append((gates[-1], experts[-1]))
        h = RMSNorm(w["model.norm.weight"], self.eps)(x)
        logits = linear(h[0, -1], self.lm_head)
        return logits, routes


def parse_ids(text, vocab):
    try:
        tokens = [int(s) for s in text.split(",")]
    except ValueError:
        raise InputError(f"--ids {text!r}: expected comma-separated integers, e.g. 1,5,9") from None
    for i, tok in enumerate(tokens):
        if not 0 <= tok < vocab:
            raise InputError(f"--ids: token id {tok} (entry {i + 1}) is outside [0, {vocab - 1}]")
    return tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "data" / "base"))
    ap.add_argument("--ids", required=True)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--json", action="store_true", help="accepted for symmetry with ./flame forward; output is JSON")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--compare", metavar="FILE",
                    help="instead of printing the reference's JSON, compare it with the JSON of `./flame forward "
                         "--json` in FILE ('-': standard input): print the largest logit difference and whether the "
                         "experts match; exit status 1 if a logit differs by more than --rtol times the largest "
                         "|logit| or an expert id differs")
    ap.add_argument("--rtol", type=float, default=1e-4)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        model_dir = Path(args.model)
        if not model_dir.is_dir():
            raise InputError(f"--model {args.model}: no such directory")
        cfg = load_config(model_dir)
        tokens = parse_ids(args.ids, cfg["vocab_size"])
        k = cfg["num_experts_per_tok"] if args.top_k is None else args.top_k
        if not 1 <= k <= cfg["num_experts"]:
            raise InputError(f"--top-k = {k} is outside [1, num_experts = {cfg['num_experts']}]")
        model = Olmoe(cfg, load_weights(model_dir))
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with torch.no_grad():
        logits, routes = model.forward(tokens, k)
    result = {"logits": [float(v) for v in logits],
              "experts": [{"layer": layer, "ids": [int(i) for i in experts], "weights": [float(g) for g in gates]}
                          for layer, (gates, experts) in enumerate(routes)]}
    if args.compare is None:
        print(json.dumps(result))
        return 0
    try:
        text = sys.stdin.read() if args.compare == "-" else Path(args.compare).read_text()
        other = json.loads(text)
        other_logits = other["logits"]
        other_experts = other["experts"]
    except KeyError as e:
        print(f"error: --compare {args.compare}: no key {e} in it; expected the JSON of ./flame forward --json",
              file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError) as e:
        print(f"error: --compare {args.compare}: not the JSON of ./flame forward --json ({e})", file=sys.stderr)
        return 2
    return compare(result, other_logits, other_experts, args.rtol)


def compare(ref, logits, experts, rtol):
    """Prints how ./flame forward's logits and experts differ from the reference's; 0 if they agree, else 1."""
    if len(logits) != len(ref["logits"]) or len(experts) != len(ref["experts"]):
        print(f"shape mismatch: flame has {len(logits)} logits and {len(experts)} layers, the reference "
              f"{len(ref['logits'])} and {len(ref['experts'])}")
        return 1
    diffs = [abs(a - b) for a, b in zip(logits, ref["logits"])]
    worst = max(range(len(diffs)), key=diffs.__getitem__)
    scale = max(abs(v) for v in ref["logits"])
    ok = diffs[worst] <= rtol * scale
    print(f"logits: max |difference| {diffs[worst]:.3g} at token {worst} ({logits[worst]!r} vs "
          f"{ref['logits'][worst]!r}), {diffs[worst] / scale:.3g} of the largest |logit| {scale:.4g} "
          f"(allowed {rtol:g}): {'ok' if ok else 'DIFFERENT'}")
    for mine, theirs in zip(ref["experts"], experts):
        same = mine["ids"] == theirs["ids"]
        gate = max((abs(a - b) for a, b in zip(mine["weights"], theirs["weights"])), default=0.0)
        print(f"layer {mine['layer']}: experts {theirs['ids']} (flame) vs {mine['ids']} (reference): "
              f"{'same' if same else 'DIFFERENT'}; max gate difference {gate:.3g}")
        ok = ok and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
