#!/usr/bin/env python3
# The share of each DDP bucket's values that are fp16 subnormals once the fp16 hook divides them by 2 ranks, at
# steps 0, 3, 8 and 15 of the MLP's training (one process, the engine's own network, task, seed and SGD), against
# the values calibration sums (docs/validation.md item 31). usage, from the repository root:
#   /usr/bin/python3 data/runs/ddp-buckets-5g-2026-12-03/subnormals.py LR MOMENTUM   (the engine: 0.01 0.9)
import sys, importlib.util, torch
import torch.nn.functional as F
spec = importlib.util.spec_from_file_location("ddp_train", "tools/ddp_train.py")
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)


def initial_gradients(torch, m, workload):
    """What calibration summed before 2026-12-03: the gradients after one forward and backward pass at
    initialisation (seed 1, rank 0's first batch), in DDP's bucket order, the same on every rank."""
    import torch.nn.functional as F

    torch.manual_seed(1)
    model = m.build_network(torch, workload)
    x, y = m.TeacherTask(torch, m.input_shape(workload), workload["layers"][-1]["out"], 1, 0).batch(workload["batch"])
    F.cross_entropy(model(x), y).backward()
    return torch.cat([p.grad.flatten() for p in reversed(list(model.parameters()))])
torch.set_num_threads(1)
w = m.load_workload("data/workloads/train-mlp.toml")
wc = m.load_workload("data/workloads/train-cnn.toml")
def stats(name, g):
    h = (g / 2).to(torch.float16)
    a = (g / 2).abs()
    nz = a > 0
    sub = ((h.abs() < 2.0**-14) & (h != 0)).float().mean().item()
    zero_out = ((h == 0) & nz).float().mean().item()
    print(f"{name:32} n={g.numel():8} fp16 subnormal {100*sub:5.1f}%  flushed to 0 {100*zero_out:5.1f}%  median |g/2| {a.median().item():.2e}")
cal = torch.cat([initial_gradients(torch, m, w), initial_gradients(torch, m, wc)])
stats("calibration (MLP+CNN at init)", cal)
stats("calibration MLP part", initial_gradients(torch, m, w))
lr, mom, seed = float(sys.argv[1]), float(sys.argv[2]), 1
torch.manual_seed(seed)
model = m.build_network(torch, w)
opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom)
task = m.TeacherTask(torch, m.input_shape(w), w["layers"][-1]["out"], seed, 0)
x, y = task.batch(w["batch"])
ps = list(model.parameters())
for step in range(16):
    opt.zero_grad(set_to_none=False)
    F.cross_entropy(model(x), y).backward()
    if step in (0, 3, 8, 15):
        b0 = torch.cat([p.grad.flatten() for p in reversed(ps[2:])])
        b1 = torch.cat([p.grad.flatten() for p in reversed(ps[:2])])
        stats(f"step {step} bucket 0 (fc3, fc2)", b0)
        stats(f"step {step} bucket 1 (fc1)", b1)
    opt.step()
