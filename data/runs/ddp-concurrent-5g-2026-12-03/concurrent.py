#!/usr/bin/env python3
"""Two of DDP's bucket collectives at once, on gloo (docs/validation.md item 31): the MLP's two buckets (fc3 and
fc2's gradients, then fc1's), as its fp16 hook sends them (divided by the ranks, in fp16) or in fp32, timed
  alone        each bucket's allreduce by itself
  together     both launched at once (gloo runs them on its two threads), each one's time to its result
  beside fc1   the first bucket's allreduce launched, then fc1's forward and backward at batch 256 (the layer
               that runs beside it in training), then its result awaited
  as training  the first launched, fc1's pass, the second bucket cast (fp16: divided and cast) and launched, both
               results awaited: the order of a training step from the first launch on
every part after a barrier, 15 rounds after 3 warm-up, the median over rounds and then over ranks. Run on every
rank under tools/emulated-cluster, from the repository root:
  /usr/bin/python3 data/runs/ddp-concurrent-5g-2026-12-03/concurrent.py RENDEZVOUS_DIR [init|step15]
(init: the gradients at initialisation, as calibration sends; step15: those of training's 16th step)"""
import importlib.util
import statistics
import sys
import time

import torch
import torch.distributed as dist

spec = importlib.util.spec_from_file_location("ddp_train", "tools/ddp_train.py")
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)


def initial_gradients(torch, m, workload):
    """What calibration summed before 2026-12-03: the gradients after one forward and backward pass at
    initialisation (seed 1, rank 0's first batch), in DDP's bucket order, the same on every rank."""
    import torch.nn.functional as F

    torch.manual_seed(1)
    model = m.build_network(torch, workload)
    x, y = m.TeacherTask(torch, m.input_shape(workload), workload["layers"][-1]["out"], 1, 0).batch(workload["batch"])
    F.cross_entropy(model(x), y).backward()
    return torch.cat([p.grad.flatten() for p in reversed(list(model.parameters()))])


def main():
    torch.set_num_threads(1)
    group = m.Group(torch, sys.argv[1])
    w = m.load_workload("data/workloads/train-mlp.toml")
    values = sys.argv[2] if len(sys.argv) > 2 else "init"
    if values == "init":
        g = initial_gradients(torch, m, w)  # DDP's bucket order: fc3, fc2, then fc1
    else:  # the gradients of training's step 15 (one process, the engine's network, task, seed 1 and SGD)
        import torch.nn.functional as F
        torch.manual_seed(1)
        model = m.build_network(torch, w)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        xs, ys = m.TeacherTask(torch, m.input_shape(w), w["layers"][-1]["out"], 1, group.rank).batch(w["batch"])
        for _ in range(16):
            opt.zero_grad(set_to_none=False)
            F.cross_entropy(model(xs), ys).backward()
            if _ < 15:
                opt.step()
        g = torch.cat([p.grad.flatten() for p in reversed(list(model.parameters()))])
    n1 = 1024 * 784 + 1024  # fc1's weight and bias: the second bucket
    grads = [g[: g.numel() - n1].clone(), g[g.numel() - n1:].clone()]
    fc1 = m.build_blocks(torch, w)[0][1]
    x = torch.randn(w["batch"], *m.input_shape(w))
    layer = m.layer_step(torch, fc1, x, False)
    rounds, warmup = 15, 3

    def timed(fn):
        out = []
        for r in range(warmup + rounds):
            dist.barrier()
            res = fn()
            if r >= warmup:
                out.append(res)
        return out

    def med(rows, k):
        mine = statistics.median(row[k] for row in rows)
        return statistics.median(group.gather(mine))

    say = print if group.root else (lambda *a, **k: None)
    say(f"# concurrent: {group.size} ranks on {group.nodes} nodes, torch {torch.__version__} gloo; values {values}; buckets of "
        f"{grads[0].numel()} and {grads[1].numel()} values; medians over {rounds} rounds, then over ranks; ms")
    for precision in ("fp32", "fp16"):
        def wire(i):
            # as DDP's hooks do it: fp16_compress_hook casts, then divides in fp16; allreduce_hook divides
            return grads[i].to(torch.float16).div_(group.size) if precision == "fp16" else grads[i] / group.size

        sent = [wire(0), wire(1)]

        def alone(i):
            def fn():
                buf = sent[i].clone()
                t0 = time.perf_counter()
                dist.all_reduce(buf)
                return {"t": time.perf_counter() - t0}
            return fn

        def together():
            b0, b1 = sent[0].clone(), sent[1].clone()
            t0 = time.perf_counter()
            w0 = dist.all_reduce(b0, async_op=True)
            w1 = dist.all_reduce(b1, async_op=True)
            done = {}
            # whichever finishes first: poll both
            while len(done) < 2:
                for k, wk in (("b0", w0), ("b1", w1)):
                    if k not in done and wk.is_completed():
                        done[k] = time.perf_counter() - t0
                time.sleep(0.0002)
            w0.wait()
            w1.wait()
            return done

        def layer_alone():
            t0 = time.perf_counter()
            layer()
            return {"t": time.perf_counter() - t0}

        def beside():
            b0 = sent[0].clone()
            t0 = time.perf_counter()
            w0 = dist.all_reduce(b0, async_op=True)
            layer()
            t_layer = time.perf_counter() - t0
            w0.wait()
            return {"layer": t_layer, "b0": time.perf_counter() - t0}

        def as_training():
            b0 = sent[0].clone()
            t0 = time.perf_counter()
            w0 = dist.all_reduce(b0, async_op=True)
            layer()
            t_layer = time.perf_counter() - t0
            b1 = wire(1)  # the hook's work on the second bucket (fp16: the division and the cast)
            t_cast = time.perf_counter() - t0
            w1 = dist.all_reduce(b1, async_op=True)
            done = {}
            while len(done) < 2:
                for k, wk in (("b0", w0), ("b1", w1)):
                    if k not in done and wk.is_completed():
                        done[k] = time.perf_counter() - t0
                time.sleep(0.0002)
            w0.wait()
            w1.wait()
            done.update({"layer": t_layer, "cast": t_cast})
            return done

        a0, a1 = timed(alone(0)), timed(alone(1))
        tg = timed(together)
        la = timed(layer_alone)
        bs = timed(beside)
        tr = timed(as_training)
        ms = 1e3
        say(f"{precision}: alone b0 {ms * med(a0, 't'):.1f}, b1 {ms * med(a1, 't'):.1f}; together b0 "
            f"{ms * med(tg, 'b0'):.1f}, b1 {ms * med(tg, 'b1'):.1f}; fc1 pass alone {ms * med(la, 't'):.1f}; "
            f"b0 beside fc1: fc1 {ms * med(bs, 'layer'):.1f}, b0 {ms * med(bs, 'b0'):.1f}; as training: fc1 "
            f"{ms * med(tr, 'layer'):.1f}, cast to {ms * med(tr, 'cast'):.1f}, b0 {ms * med(tr, 'b0'):.1f}, b1 "
            f"{ms * med(tr, 'b1'):.1f}", flush=True)
    group.close()
    sys.stdout.flush()
    import os
    os._exit(0)  # no interpreter teardown, as tools/ddp_train.py leaves


if __name__ == "__main__":
    main()
