#!/usr/bin/env python3
"""NoirCode's GPU jobs, run on a lent accelerator with PyTorch + transformers (never by the tests).

  golden   DIR... --out FILE       reference logits of Hugging Face transformers for models in our folders
  pretrain --data DIR --out DIR    the bundled model: FIM pre-training, the same objective as noir-train
  stune    --model DIR --out DIR [--keys DIR]   a mirror of `noir tune` (STuning) for the privacy/utility table

Every job checkpoints and resumes (run it again with the same --out), and prints progress with an ETA.
The C# engine remains the product: this file only computes faster what the engine computes, and everything it
writes is read back and evaluated by `noir` (see models/noir-coder-*/README.md).
"""
import argparse, json, math, os, random, shutil, sys, time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModelForCausalLM

IGNORE = -100
DEV = "cuda" if torch.cuda.is_available() else "cpu"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data: the FimSampler of sidecar/NoirCode.Core
class FimSampler:
    """Python port of NoirCode.Core.Training.FimSampler (same windows, FIM rates and orders)."""

    def __init__(self, docs, tok_path, seq):
        self.docs, self.seq = docs, seq
        self.lines = [d.split("\n") for d in docs]  # split once: documents are long, samples are many
        self.tok = Tokenizer.from_file(tok_path)
        sid = self.tok.token_to_id
        self.pre, self.suf, self.mid = sid("<|fim_prefix|>"), sid("<|fim_suffix|>"), sid("<|fim_middle|>")
        self.eos, self.pad = sid("<|endoftext|>"), sid("<|fim_pad|>")
        self.cum, total = [], 0
        for d in docs:
            total += len(d)
            self.cum.append(total)

    def enc(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids if text else []

    def pick(self, rng):
        import bisect
        return min(bisect.bisect_right(self.cum, int(rng.random() * self.cum[-1])), len(self.docs) - 1)

    def sample(self, rng, allow_fim=True):
        lines = self.lines[self.pick(rng)]
        first = rng.randrange(len(lines))
        budget, parts, n, last = self.seq * 4, [], 0, first
        while last < len(lines) and n + len(lines[last]) + 1 < budget:
            parts.append(lines[last] + "\n"); n += len(lines[last]) + 1; last += 1
        text = "".join(parts) or lines[first][:budget] + "\n"
        if allow_fim and rng.random() < 0.5 and len(text) > 8:
            pre, mid, suf = self.split(text, rng)
            p, s, m, complete = self.fit(self.enc(pre), self.enc(suf), self.enc(mid))
            ids = [self.pre, *p, self.suf, *s, self.mid] if rng.random() < 0.5 else [self.suf, *s, self.pre, *p, self.mid]
            ids += m + ([self.eos] if complete else [])
        else:
            ids = self.enc(text) + ([self.eos] if last >= len(lines) else [])
        ids = ids[: self.seq + 1]
        inp = ids[: self.seq] + [self.pad] * (self.seq - len(ids[: self.seq]))
        tgt = ids[1:] + [IGNORE] * (self.seq - len(ids[1:]))
        return inp, tgt

    def fit(self, p, s, m):
        """FitToWindow of the C# sampler: keep the middle and its end-of-text inside the window, trim the context."""
        room = self.seq + 1 - 4
        complete = len(m) <= room - 8
        if not complete:
            m = m[: max(1, room - 8)]
        context = max(0, room - len(m))
        s_keep = min(len(s), max(context // 2, context - len(p)))
        p_keep = min(len(p), context - s_keep)
        return p[len(p) - p_keep:], s[:s_keep], m, complete

    @staticmethod
    def split(text, rng):
        if rng.random() < 0.5:
            starts = [0] + [i + 1 for i in range(len(text) - 1) if text[i] == "\n"] + [len(text)]
            a = rng.randrange(len(starts) - 1)
            b = min(len(starts) - 1, a + 1 + (0 if rng.random() < 0.7 else rng.randrange(3)))
            return text[: starts[a]], text[starts[a]: starts[b]], text[starts[b]:]
        x, y = sorted((rng.randrange(len(text)), rng.randrange(len(text))))
        return text[:x], text[x:y], text[y:]


class SampleStream(torch.utils.data.IterableDataset):
    def __init__(self, sampler, seed):
        self.sampler, self.seed = sampler, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = random.Random(self.seed * 1000 + (info.id if info else 0))
        while True:
            i, t = self.sampler.sample(rng)
            yield torch.tensor(i), torch.tensor(t)


def read_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in f.read().split("\0") if d]


def loader(sampler, batch, seed):
    return iter(torch.utils.data.DataLoader(SampleStream(sampler, seed), batch_size=batch, num_workers=max(1, min(14, (os.cpu_count() or 2) - 2)),
                                            pin_memory=True, persistent_workers=True, prefetch_factor=4))


def heldout_batches(docs, tok_path, seq, n=64, seed=12345):
    """Plain-text windows of held-out modules (no FIM), fixed by the seed."""
    s, rng = FimSampler(docs, tok_path, seq), random.Random(seed)
    return [s.sample(rng, allow_fim=False) for _ in range(n)]


@torch.no_grad()
def heldout_loss(forward, batches, label_map=None):
    total, count = 0.0, 0
    for k in range(0, len(batches), 8):
        inp = torch.tensor([b[0] for b in batches[k:k + 8]], device=DEV)
        tgt = torch.tensor([b[1] for b in batches[k:k + 8]], device=DEV)
        if label_map is not None:
            inp, tgt = label_map[inp], torch.where(tgt == IGNORE, tgt, label_map[tgt.clamp(min=0)])
        with torch.autocast(DEV, dtype=torch.bfloat16):
            logits = forward(inp)
        total += F.cross_entropy(logits.float().flatten(0, 1), tgt.flatten(), ignore_index=IGNORE, reduction="sum").item()
        count += (tgt != IGNORE).sum().item()
    return total / count


class Progress:
    def __init__(self, total, start_step):
        self.total, self.start, self.t0 = total, start_step, time.time()

    def report(self, step, extra):
        done = step - self.start
        rate = done / max(time.time() - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        log(f"step {step}/{self.total} {extra} eta {eta / 60:.1f} min")


def save_hf(model, src_dir, out_dir, tied):
    """Writes a Hugging Face folder in bfloat16, with our config and tokenizer files."""
    os.makedirs(out_dir, exist_ok=True)
    sd = {k: v.detach().to(torch.bfloat16).contiguous().cpu() for k, v in model.state_dict().items() if "rotary" not in k}
    if tied:
        sd.pop("lm_head.weight", None)
    save_file(sd, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    cfg = json.load(open(os.path.join(src_dir, "config.json")))
    cfg["torch_dtype"] = "bfloat16"
    json.dump(cfg, open(os.path.join(out_dir, "config.json"), "w"), indent=2)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src_dir, f), out_dir)


def atomic_torch_save(obj, path):
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


# ---------------------------------------------------------------- pretrain
def pretrain(a):
    torch.manual_seed(a.seed)
    base = os.path.join(a.data, "base")
    cfg = AutoConfig.from_pretrained(base)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa").to(DEV)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), fused=DEV == "cuda")
    os.makedirs(a.out, exist_ok=True)
    ckpt = os.path.join(a.out, "checkpoint.pt")
    state = {"step": 0, "tokens": 0, "total_steps": None, "seconds": 0.0, "history": []}
    if os.path.exists(ckpt):
        c = torch.load(ckpt, map_location=DEV, weights_only=False)
        model.load_state_dict(c["model"]); opt.load_state_dict(c["opt"]); state = c["state"]
        log(f"resumed at step {state['step']}")
    train = FimSampler(read_docs(os.path.join(a.data, "train.txt")), os.path.join(base, "tokenizer.json"), a.seq)
    held = heldout_batches(read_docs(os.path.join(a.data, "heldout.txt")), os.path.join(base, "tokenizer.json"), a.seq)
    it = loader(train, a.batch, a.seed + state["step"])
    fwd = torch.compile(model) if a.compile else model
    log(f"{n_params:,} parameters, {len(train.docs)} documents, batch {a.batch} x {a.seq}")
    t_start, deadline = time.time(), time.time() + a.minutes * 60
    prog = None

    def lr_at(step, total):
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        frac = min(1.0, (step - a.warmup) / max(1, total - a.warmup))
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    def checkpoint():
        state["seconds"] += time.time() - t_mark[0]; t_mark[0] = time.time()
        atomic_torch_save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt)

    t_mark, last_ckpt = [time.time()], time.time()
    while True:
        step = state["step"]
        if step == 10:
            t_start = time.time()  # the first steps include workers' start-up
        if state["total_steps"] is None and step == 40:
            per_step = (time.time() - t_start) / 30
            state["total_steps"] = min(a.max_steps, int(a.minutes * 60 / per_step * 0.97))
            log(f"{per_step * 1000:.0f} ms/step: planning {state['total_steps']} steps")
        total = state["total_steps"] or a.max_steps
        if step >= total or (state["total_steps"] and time.time() > deadline):
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total)
        inp, tgt = next(it)
        inp, tgt = inp.to(DEV, non_blocking=True), tgt.to(DEV, non_blocking=True)
        with torch.autocast(DEV, dtype=torch.bfloat16):
            logits = fwd(input_ids=inp).logits
        loss = F.cross_entropy(logits.float().flatten(0, 1), tgt.flatten(), ignore_index=IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["tokens"] += inp.numel()
        if state["step"] % 200 == 0:
            model.eval(); h = heldout_loss(lambda x: model(input_ids=x).logits, held); model.train()
            state["history"].append({"step": state["step"], "tokens": state["tokens"], "train_loss": round(loss.item(), 4), "heldout_loss": round(h, 4)})
            if prog is None:
                prog = Progress(total, 0)
            prog.total = total
            prog.report(state["step"], f"loss {loss.item():.3f} held-out {h:.3f} tokens {state['tokens'] / 1e6:.0f}M")
        if time.time() - last_ckpt > 120:
            checkpoint(); last_ckpt = time.time()
    checkpoint()
    model.eval()
    h = heldout_loss(lambda x: model(input_ids=x).logits, held)
    save_hf(model, base, os.path.join(a.out, "model"), tied=cfg.tie_word_embeddings)
    summary = {"parameters": n_params, "steps": state["step"], "tokens": state["tokens"], "seconds": round(state["seconds"]),
               "batch": a.batch, "seq": a.seq, "lr": a.lr, "heldout_loss": round(h, 4), "history": state["history"],
               "device": torch.cuda.get_device_name() if DEV == "cuda" else "cpu", "torch": torch.__version__}
    json.dump(summary, open(os.path.join(a.out, "summary.json"), "w"), indent=2)
    log(f"done: held-out loss {h:.4f} after {state['tokens'] / 1e6:.0f}M tokens")


# ---------------------------------------------------------------- golden logits
def golden(a):
    """Logits of transformers for fixed token ids, per model folder, into one JSON file of fixtures."""
    out = {"transformers": __import__("transformers").__version__, "torch": torch.__version__, "models": {}}
    for d in a.models:
        model = AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager").eval()
        cfg = model.config
        g = torch.Generator().manual_seed(5)
        ids = torch.randint(0, cfg.vocab_size, (1, a.tokens), generator=g)
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0]
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        texts = ["def add(a, b):\n    return a + b\n", "class Point:\n\tx: int = 0  # café ✓\n", "if __name__ == '__main__':\r\n    main()"]
        out["models"][os.path.basename(d.rstrip("/"))] = {
            "input_ids": ids[0].tolist(),
            "logits_rows": [0, a.tokens // 2, a.tokens - 1],
            "logits": [logits[i].tolist() for i in (0, a.tokens // 2, a.tokens - 1)],
            "argmax": logits.argmax(-1).tolist(),
            "tokenizer": [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts],
        }
        log(f"{d}: {cfg.model_type}, logits {tuple(logits.shape)}")
    json.dump(out, open(a.out, "w"))


# ---------------------------------------------------------------- STuning mirror
def stune(a):
    """Split fine-tuning as SplitFineTuner does: the client's encoder and decoder blocks, final norm and untied head
    train fully on LTokenizer indices with the INDVocab table fixed; a LoRA (rank 8, α 16, on q and v) trains on
    the middle blocks; per-sample losses are averaged. Without --keys it is fClean (public embedding, no permutation).
    Writes tuned.safetensors: the tuned client tensors and the LoRA."""
    torch.manual_seed(a.seed)
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32, attn_implementation="sdpa").to(DEV)
    cfg = model.config
    L, enc, dec = cfg.num_hidden_layers, a.split[0], a.split[1]
    middle = list(range(enc, L - dec))
    emb = model.model.embed_tokens.weight
    model.lm_head.weight = torch.nn.Parameter(emb.detach().clone())  # untie: the head keeps the public rows
    perm = torch.arange(cfg.vocab_size, device=DEV)
    if a.keys:
        t = load_file(os.path.join(a.keys, "keys.safetensors"))
        with torch.no_grad():
            emb.copy_(t["indvocab.embedding"].float())
        perm = t["ltokenizer.permutation"].long().to(DEV)
    emb.requires_grad_(False)
    client = [p for i in [*range(enc), *range(L - dec, L)] for p in model.model.layers[i].parameters()]
    client += list(model.model.norm.parameters()) + [model.lm_head.weight]
    for i in middle:
        for p in model.model.layers[i].parameters():
            p.requires_grad_(False)
    d, rank, alpha = cfg.hidden_size, 8, 16.0
    lora = {}
    for i in middle:
        attn = model.model.layers[i].self_attn
        for name in ("q_proj", "v_proj"):
            lin = getattr(attn, name)
            A = torch.nn.Parameter(((torch.rand(rank, d, device=DEV) * 2 - 1) / math.sqrt(d)))
            B = torch.nn.Parameter(torch.zeros(lin.out_features, rank, device=DEV))
            lora[(i, name)] = (A, B)
            lin.register_forward_hook(lambda m, x, y, A=A, B=B: y + F.linear(F.linear(x[0], A), B) * (alpha / rank))
    cloud = [p for ab in lora.values() for p in ab]
    if a.label_protection == "forward-only":
        # SplitFineTuner's default (docs/privacy.md §9.3): no label's gradient crosses the boundary, so the decoder
        # sees the middle's output detached and the encoder and the LoRA do not train.
        def detach_boundary(module, args, kwargs):
            if args:
                return (args[0].detach(),) + tuple(args[1:]), kwargs
            return args, {**kwargs, "hidden_states": kwargs["hidden_states"].detach()}
        model.model.layers[L - dec].register_forward_pre_hook(detach_boundary, with_kwargs=True)
    opt_c = torch.optim.AdamW(client, lr=a.lr, weight_decay=0.0)
    opt_s = torch.optim.AdamW(cloud, lr=a.cloud_lr)
    os.makedirs(a.out, exist_ok=True)
    ckpt = os.path.join(a.out, "checkpoint.pt")
    state = {"step": 0, "losses": [], "seconds": 0.0}
    if os.path.exists(ckpt):
        c = torch.load(ckpt, map_location=DEV, weights_only=False)
        for p, v in zip(client + cloud, c["params"]):
            p.data.copy_(v)
        opt_c.load_state_dict(c["opt_c"]); opt_s.load_state_dict(c["opt_s"]); state = c["state"]
        log(f"resumed at step {state['step']}")
    tok = os.path.join(a.model, "tokenizer.json")
    train = FimSampler(read_docs(os.path.join(a.data, "train.txt")), tok, a.seq)
    held = heldout_batches(read_docs(os.path.join(a.data, "heldout.txt")), tok, a.seq)
    it = loader(train, a.batch, a.seed + state["step"])
    fwd = lambda x: model(input_ids=x).logits
    before = heldout_loss(fwd, held, perm)
    log(f"tuning split {enc},{dec} ({'keys ' + a.keys if a.keys else 'fClean'}); held-out loss before {before:.3f}")
    prog, t0, last = Progress(a.steps, state["step"]), time.time(), time.time()
    while state["step"] < a.steps:
        decay = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * state["step"] / a.steps))  # cosine to 10%
        for g in opt_c.param_groups: g["lr"] = a.lr * decay
        for g in opt_s.param_groups: g["lr"] = a.cloud_lr * decay
        inp, tgt = next(it)
        inp, tgt = inp.to(DEV), tgt.to(DEV)
        inp, tgt = perm[inp], torch.where(tgt == IGNORE, tgt, perm[tgt.clamp(min=0)])
        with torch.autocast(DEV, dtype=torch.bfloat16):
            logits = fwd(inp)
        per_tok = F.cross_entropy(logits.float().flatten(0, 1), tgt.flatten(), ignore_index=IGNORE, reduction="none").view(tgt.shape)
        mask = (tgt != IGNORE).float()
        loss = ((per_tok * mask).sum(1) / mask.sum(1).clamp(min=1)).mean()  # the average of per-sample losses
        opt_c.zero_grad(set_to_none=True); opt_s.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(client, 1.0)
        opt_c.step(); opt_s.step()
        state["step"] += 1
        state["losses"].append(round(loss.item(), 4))
        if state["step"] % 250 == 0 or state["step"] == a.steps:
            model.eval(); h = heldout_loss(fwd, held, perm); model.train()
            state.setdefault("heldout", []).append([state["step"], round(h, 4)])
            prog.report(state["step"], f"loss {loss.item():.3f} held-out {h:.3f}")
        if time.time() - last > 120 or state["step"] == a.steps:
            state["seconds"] += time.time() - t0; t0 = time.time(); last = time.time()
            atomic_torch_save({"params": [p.detach() for p in client + cloud], "opt_c": opt_c.state_dict(), "opt_s": opt_s.state_dict(), "state": state}, ckpt)
    model.eval()
    after = heldout_loss(fwd, held, perm)
    names = {id(p): n for n, p in model.named_parameters()}
    summary = {"keys": a.keys, "split": a.split, "label_protection": a.label_protection, "steps": state["step"], "batch": a.batch, "seq": a.seq, "lr": a.lr, "cloud_lr": a.cloud_lr,
               "heldout_loss_before": round(before, 4), "heldout_loss_after": round(after, 4), "seconds": round(state["seconds"]),
               "losses_every_100": state["losses"][::100], "heldout_curve": state.get("heldout", [])}
    # One file: the tuned client tensors in bfloat16 under HF names, and the middle blocks' LoRA (float32, PEFT
    # names under "adapter/"), so that `noir-train assemble-tuned` builds the client shard and the endpoint state.
    tensors = {names[id(p)]: p.detach().to(torch.bfloat16).contiguous().cpu() for p in client}
    tensors.update({f"adapter/model.layers.{i}.self_attn.{n}.lora_{k}.weight": t.detach().float().contiguous().cpu()
                    for (i, n), (A, B) in lora.items() for k, t in (("A", A), ("B", B))})
    save_file(tensors, os.path.join(a.out, "tuned.safetensors"), metadata={"summary": json.dumps(summary), "rank": str(rank), "alpha": str(alpha)})
    json.dump(summary, open(os.path.join(a.out, "summary.json"), "w"), indent=2)
    print(json.dumps(summary))
    log(f"done: held-out loss {before:.3f} -> {after:.3f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("golden"); g.add_argument("models", nargs="+"); g.add_argument("--out", required=True); g.add_argument("--tokens", type=int, default=24)
    t = sub.add_parser("pretrain")
    t.add_argument("--data", required=True); t.add_argument("--out", required=True); t.add_argument("--minutes", type=float, default=7)
    t.add_argument("--batch", type=int, default=64); t.add_argument("--seq", type=int, default=1024); t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--warmup", type=int, default=300); t.add_argument("--max-steps", type=int, default=10**9); t.add_argument("--seed", type=int, default=7)
    t.add_argument("--compile", action="store_true")
    s = sub.add_parser("stune")
    s.add_argument("--model", required=True); s.add_argument("--data", required=True); s.add_argument("--out", required=True); s.add_argument("--keys")
    s.add_argument("--split", type=lambda v: tuple(int(x) for x in v.split(",")), default=(1, 4)); s.add_argument("--steps", type=int, default=2000)
    s.add_argument("--batch", type=int, default=32); s.add_argument("--seq", type=int, default=512); s.add_argument("--lr", type=float, default=5e-4)
    s.add_argument("--cloud-lr", type=float, default=1e-3); s.add_argument("--seed", type=int, default=11)
    s.add_argument("--label-protection", choices=("forward-only", "none"), default="forward-only",
                   help="forward-only (noir tune's default): no label's gradient reaches the middle or the encoder; none: the exact gradient")
    a = p.parse_args()
    {"golden": golden, "pretrain": pretrain, "stune": stune}[a.cmd](a)


if __name__ == "__main__":
    main()
