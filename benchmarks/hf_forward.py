#!/usr/bin/env python3
"""One forward pass of a checkpoint through Hugging Face transformers' own OlmoeForCausalLM (and optionally a PEFT
adapter on it), printing the JSON `./flame forward --json` prints, so that the library can be checked against the
implementation users run.

Run it with the environment scripts/hf-setup.sh builds from the local wheels:

    .venv-hf/bin/python benchmarks/hf_forward.py --model DIR --ids 1,5,9 [--top-k K] [--adapter PEFT_DIR]

stdout: {"logits": [vocab floats of the last position],
         "experts": [{"layer": l, "ids": [k experts, largest gate first], "weights": [their gates]}, ...]}
stderr: the versions of torch, transformers (and peft) used.
The experts come from transformers' router logits of the last position: softmax over all experts, top-k, divided by
their sum when norm_topk_prob is set (the gates the MoE block applies).
"""
import argparse
import json
import sys

import torch
import transformers
from transformers import AutoConfig, OlmoeForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--adapter", default=None, help="a PEFT adapter directory to load onto the model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="accepted for symmetry: the output is always JSON")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ids = [int(x) for x in a.ids.split(",")]
    config = AutoConfig.from_pretrained(a.model)
    if a.top_k is not None:
        config.num_experts_per_tok = a.top_k
    model = OlmoeForCausalLM.from_pretrained(a.model, config=config, torch_dtype=torch.float32)
    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    if a.adapter:
        import peft
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, a.adapter)
        versions["peft"] = peft.__version__
    model.eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_router_logits=True)
    logits = out.logits[0, -1].tolist()
    k = config.num_experts_per_tok
    experts = []
    for layer, rl in enumerate(out.router_logits):
        p = torch.softmax(rl.reshape(-1, rl.shape[-1])[-1].float(), dim=-1)
        g, e = torch.topk(p, k)
        if config.norm_topk_prob:
            g = g / g.sum()
        experts.append({"layer": layer, "ids": [int(i) for i in e], "weights": [float(x) for x in g]})
    print(json.dumps({"logits": logits, "experts": experts}))
    print("hf_forward: " + ", ".join(f"{k} {v}" for k, v in versions.items()), file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line on stderr, status 2, as the reference script
        print(f"hf_forward: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
