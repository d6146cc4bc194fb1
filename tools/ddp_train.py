#!/usr/bin/python3
"""The validation loop's independent engine: PyTorch DistributedDataParallel on the gloo backend.

Runs with Debian's own python3 (python3-torch), one process per rank under mpirun (as tools/emulated-cluster
starts it), one compute thread per rank (intra-op threads 1; BLAS is Debian's OpenBLAS, libopenblas0-pthread).

  ddp_train.py train     a real data-parallel SGD job on a workload TOML of linear and conv layers, through DDP
                         (buckets of 25 MiB after a first one of 1 MiB, overlapped with the backward pass), with
                         DDP's built-in reduction (fp32) or its fp16 compression hook (fp16); every step's total
                         time, its compute (up to the last gradient, and the optimizer) and the wait after it
                         appended to a run CSV in the schema bitscale train writes (engine pytorch-ddp), which
                         `bitscale validate` predicts (--time-buckets adds codec and communication times, at a
                         cost: see StepClock).
  ddp_train.py calibrate microbenchmarks of this engine on the cluster it runs on: gloo allreduce through
                         torch.distributed at a range of sizes, torch's layers at the workloads' shapes (forward +
                         backward), a GEMM, a memory copy, the fp16 hook's casts, and how compute and a collective
                         slow each other; written as a measurement file that `bitscale calibrate --from-engine`
                         fits into a cluster profile. The runs never enter it.

Exit codes as bitscale's: 0 success, 1 a failed run (a non-finite loss, replicas that disagree), 2 bad input
(one line on stderr naming the option, the value and the rule; no output file written).
"""
import os

# one compute thread per rank, before torch loads its thread pools
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import ctypes

# glibc's malloc hands every buffer above its mmap threshold back to the kernel when freed and page-faults it in
# again on the next step: measured here, a 3x3 convolution's forward + backward took 3-10 ms instead of 2.5, at
# random. The engine keeps its buffers, as a caching allocator would (PyTorch's CPU performance guide suggests
# one): buffers up to 32 MiB come from the heap, and the heap is not trimmed.
try:
    _libc = ctypes.CDLL("libc.so.6")
    _libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    _libc.mallopt(-1, 1 << 30)   # M_TRIM_THRESHOLD
except OSError:
    pass

import argparse
import datetime
import hashlib
import math
import socket
import statistics
import sys
import tempfile
import threading
import time
import tomllib

ENGINE = "pytorch-ddp"
RUN_CSV_HEADER = (
    "engine,run,workload,nodes,ranks,ranks_per_node,rate_mbit,cluster,precision,batch,bucket_bytes,"
    "first_bucket_bytes,buckets,parameters,steps,warmup_steps,step,loss,compute_s,codec_s,comm_s,wait_s,step_s,"
    "date,host,host_gflops_before,host_gflops_after"
)
MIB = 1024 * 1024
# the contention rounds (calibrate): the linear layer's batch, and the allreduce beside it, 2 MiB doubled up to 8 MiB
# while it runs under 30 ms alone (as bitscale calibrate's, docs/validation.md items 21 and 23)
CONTENTION_SAMPLES = 32
CONTENTION_MIN_BYTES, CONTENTION_MAX_BYTES, CONTENTION_MIN_SECONDS = 2 * MIB, 8 * MIB, 0.03
CONTENTION_SIZING = (f"{CONTENTION_MIN_BYTES // MIB} MiB, doubled up to {CONTENTION_MAX_BYTES // MIB} MiB while it "
                     f"ran under {CONTENTION_MIN_SECONDS * 1e3:g} ms alone")
PRECISIONS = ("fp32", "fp16")  # DDP's allreduce hook and its fp16 compression hook (bf16's needs CUDA in 1.13)


# DDP objects kept to the end of the process: torch 1.13 can deadlock destroying a DDP whose comm hook is Python
# (the reducer's destructor joins gloo's worker thread while holding the GIL, and that thread waits for the GIL
# to free a tensor of the hook's); main() leaves through os._exit once everything is written and flushed
_KEEP = []


class BadInput(Exception):
    """Bad input: reported as one line naming the field, exit 2."""


def fail_input(field, value, rule):
    raise BadInput(f"{field} '{value}': {rule}")


# ---------------------------------------------------------------------------------------------------------------
# workloads: the TOML files bitscale reads (data/workloads/train-*.toml), linear and conv layers only


def load_workload(path):
    if not os.path.isfile(path):
        fail_input("--workload", path, "is not a readable file")
    try:
        with open(path, "rb") as f:
            w = tomllib.load(f)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        fail_input("--workload", path, f"is not valid TOML ({e})")
    layers = w.get("layer")
    if not isinstance(layers, list) or not layers:
        fail_input("--workload", path, "has no [[layer]] tables")

    def whole(layer, key, default=None):
        v = layer.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > 1 << 20:
            fail_input(f"{path}: layer '{layer.get('name', '?')}' {key}", v, "must be a whole number 1..1048576")
        return v

    out = []
    for layer in layers:
        kind = layer.get("kind")
        name = layer.get("name")
        if not isinstance(name, str) or not name:
            fail_input(f"{path}: layer name", name, "every layer needs a name")
        if kind == "linear":
            out.append({"name": name, "kind": kind, "in": whole(layer, "in_features"),
                        "out": whole(layer, "out_features")})
        elif kind == "conv":
            hw = layer.get("input")
            if not (isinstance(hw, list) and len(hw) == 2):
                fail_input(f"{path}: layer '{name}' input", hw, "must be [height, width]")
            out.append({"name": name, "kind": kind, "in": whole(layer, "in_channels"),
                        "out": whole(layer, "out_channels"), "kernel": whole(layer, "kernel"),
                        "stride": whole(layer, "stride", 1),
                        "padding": layer.get("padding", 0) if isinstance(layer.get("padding", 0), int) else -1,
                        "hw": [whole({"name": name, "v": v}, "v") for v in hw]})
            if out[-1]["padding"] < 0 or out[-1]["padding"] > 1024:
                fail_input(f"{path}: layer '{name}' padding", layer.get("padding"), "must be a whole number 0..1024")
        else:
            fail_input(f"{path}: layer '{name}' kind", kind, "the DDP engine trains linear and conv layers only")
    batch = w.get("batch", 32)
    if not isinstance(batch, int) or batch < 1:
        fail_input(f"{path}: batch", batch, "must be a whole number >= 1")
    return {"path": path, "name": w.get("name", os.path.basename(path)), "layers": out, "batch": batch}


def build_blocks(torch, workload):
    """The workload's network as one block per layer: conv -> ReLU; flatten before the first linear after a
    conv; linear -> ReLU except the last (the network bitscale train builds; the elementwise layers hold no
    parameters). Returns [(layer name, nn.Sequential)]."""
    nn = torch.nn
    layers = workload["layers"]
    blocks = []
    shape = None  # (channels, h, w) while convolutions run
    for i, l in enumerate(layers):
        mods = []
        if l["kind"] == "conv":
            c, h, w = (l["in"], *l["hw"]) if shape is None else shape
            if c != l["in"] or [h, w] != l["hw"]:
                fail_input(f"{workload['path']}: layer '{l['name']}' input", f"{l['in']}x{l['hw']}",
                           f"does not follow the previous layer's output {c}x{[h, w]}")
            mods += [nn.Conv2d(l["in"], l["out"], l["kernel"], stride=l["stride"], padding=l["padding"]), nn.ReLU()]
            oh = (h + 2 * l["padding"] - l["kernel"]) // l["stride"] + 1
            ow = (w + 2 * l["padding"] - l["kernel"]) // l["stride"] + 1
            shape = (l["out"], oh, ow)
        else:
            if shape is not None:
                mods.append(nn.Flatten())
                if shape[0] * shape[1] * shape[2] != l["in"]:
                    fail_input(f"{workload['path']}: layer '{l['name']}' in_features", l["in"],
                               f"the convolutions give {shape[0] * shape[1] * shape[2]}")
                shape = None
            mods.append(nn.Linear(l["in"], l["out"]))
            if i + 1 < len(layers):
                mods.append(nn.ReLU())
        blocks.append((l["name"], nn.Sequential(*mods)))
    if layers[-1]["kind"] != "linear":
        fail_input(f"{workload['path']}: last layer", layers[-1]["name"], "must be linear (the classifier)")
    return blocks


def build_network(torch, workload):
    return torch.nn.Sequential(*(block for _, block in build_blocks(torch, workload)))


def input_shape(workload):
    first = workload["layers"][0]
    return (first["in"], *first["hw"]) if first["kind"] == "conv" else (first["in"],)


class TeacherTask:
    """A synthetic classification task: Gaussian inputs, labelled by a fixed random linear teacher; every rank
    has its own 16 batches and goes through them in turn (as bitscale train does), so the loss falls within tens
    of steps."""

    def __init__(self, torch, shape, classes, seed, rank):
        self.torch = torch
        self.shape = shape
        g = torch.Generator().manual_seed(seed ^ 0x7EAC4E5)
        features = math.prod(shape)
        self.teacher = torch.randn(classes, features, generator=g) / math.sqrt(features)
        self.gen = torch.Generator().manual_seed(seed * 1000003 + rank + 1)
        self.pool = {}
        self.drawn = 0

    def batch(self, n):
        key = (n, self.drawn % 16)
        self.drawn += 1
        if key not in self.pool:
            x = self.torch.randn(n, *self.shape, generator=self.gen)
            self.pool[key] = (x, (x.reshape(n, -1) @ self.teacher.T).argmax(dim=1))
        return self.pool[key]


# ---------------------------------------------------------------------------------------------------------------
# the process group: ranks from mpirun's environment, a file store on the shared file system


def world_from_env():
    env = os.environ
    rank = int(env.get("OMPI_COMM_WORLD_RANK", env.get("RANK", "0")))
    size = int(env.get("OMPI_COMM_WORLD_SIZE", env.get("WORLD_SIZE", "1")))
    node = env.get("BITSCALE_NODE") or socket.gethostname()
    return rank, size, node


def default_rendezvous():
    uri = os.environ.get("OMPI_MCA_orte_hnp_uri")
    if not uri:
        return None
    tag = hashlib.sha256(uri.encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"bitscale-ddp-{tag}")


class Group:
    """torch.distributed on gloo; knows the nodes (namespaces) the ranks run on."""

    def __init__(self, torch, rendezvous):
        import torch.distributed as dist

        self.dist = dist
        self.rank, self.size, self.node = world_from_env()
        self.dir = None
        if self.size > 1:
            rendezvous = rendezvous or default_rendezvous()
            if not rendezvous:
                fail_input("--rendezvous", "", "needed with more than one rank outside mpirun: a directory every rank sees")
            os.makedirs(rendezvous, exist_ok=True)
            self.dir = rendezvous
            # in an emulated cluster every node's link is eth0 in its namespace; alone on a host, loopback
            os.environ.setdefault("GLOO_SOCKET_IFNAME", "eth0" if os.environ.get("BITSCALE_NODE") else "lo")
            dist.init_process_group("gloo", init_method="file://" + os.path.join(rendezvous, "store"),
                                    rank=self.rank, world_size=self.size, timeout=datetime.timedelta(seconds=120))
            nodes = [None] * self.size
            dist.all_gather_object(nodes, self.node)
        else:
            nodes = [self.node]
        self.nodes = len(set(nodes))
        self.ranks_per_node = nodes.count(self.node)
        if any(nodes.count(n) != self.ranks_per_node for n in nodes):
            raise BadInput(f"ranks '{nodes}': every node must hold the same number of ranks")
        self.root = self.rank == 0

    def gather(self, obj):
        if self.size == 1:
            return [obj]
        out = [None] * self.size
        self.dist.all_gather_object(out, obj)
        return out

    def close(self):
        """Every rank done before any leaves; no destroy_process_group: the process ends in os._exit (_KEEP)."""
        if self.size > 1:
            self.dist.barrier()
            if self.root and self.dir:
                for f in os.listdir(self.dir):
                    try:
                        os.remove(os.path.join(self.dir, f))
                    except OSError:
                        pass
                try:
                    os.rmdir(self.dir)
                except OSError:
                    pass


# ---------------------------------------------------------------------------------------------------------------
# train


class StepClock:
    """What one step shows without slowing it. Always: when the last gradient was computed (a tensor hook on the
    first layer's parameters, on the autograd thread), so wait = the end of the backward pass after it (the last
    bucket's hook and every collective still out) and compute = the rest of the step. With --time-buckets, also
    DDP's communication hook wrapped: its time on the autograd thread (the fp16 cast: codec) and each bucket's
    collective from launch to result (comm); the wrapper's Python callback on gloo's thread needs the GIL, which
    slows the step (6.6 ms a step at 5 Gbit/s measured on the CNN), so it is for diagnosis, not for validation."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.hook_s = 0.0
        self.last_launch = 0.0
        self.last_grad = 0.0
        self.intervals = []

    def grad_ready(self, grad):
        self.last_grad = max(self.last_grad, time.perf_counter())
        return None  # the gradient unchanged

    def busy_s(self):
        """Union of the collectives' intervals: the communication stream's busy time."""
        total, end = 0.0, -math.inf
        for a, b in sorted(self.intervals):
            if b > end:
                total += b - max(a, end)
                end = b
        return total


def timed_hook(inner, clock):
    def hook(state, bucket):
        start = time.perf_counter()
        fut = inner(state, bucket)
        launched = time.perf_counter()
        clock.hook_s += launched - start
        clock.last_launch = launched

        def done(f):
            value = f.value()
            with clock.lock:
                clock.intervals.append((launched, time.perf_counter()))
            return value

        return fut.then(done)

    return hook


def existing_runs(path):
    """The rows already in the run CSV at `path` ("" for a new or empty file); bad input when it is not one."""
    existing = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            existing = f.read()
        header = existing.split("\n", 1)[0].rstrip("\r")
        if existing and header == RUN_CSV_HEADER.split(",host_gflops_before")[0]:
            fail_input("--out", path, "holds runs written before the host probe (no host_gflops columns): append to "
                       "a new file")
        if existing and header != RUN_CSV_HEADER:
            fail_input("--out", path, "is not a run CSV (its header differs)")
    return existing


def append_rows(path, rows):
    """Appends rows to a run CSV atomically: the old file and the new rows to a temporary file, renamed."""
    existing = existing_runs(path)
    write_atomically(path, (existing if existing else RUN_CSV_HEADER + "\n") + "".join(r + "\n" for r in rows))


def write_atomically(path, text):
    """`text` to a temporary file beside `path`, renamed into place: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".ddp-train-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def check_out_path(path, field="--out"):
    d = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        fail_input(field, path, "is a directory")
    if not os.path.isdir(d):
        fail_input(field, path, "its directory does not exist")


def positive(field, text, top, whole=False, zero=False):
    try:
        v = int(text) if whole else float(text)
    except ValueError:
        fail_input(field, text, "must be a whole number" if whole else "must be a number")
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero) or v > top:
        fail_input(field, text, f"must be {'>= 0' if zero else '> 0'} and <= {top:g}")
    return v


def parameter_bucket_plan(model, first_cap, cap):
    """DDP's bucketing once rebuilt after the first step: parameters in the order their gradients become ready
    (the reverse of the forward order), a bucket closed once it holds its cap (the first one first_cap); the
    buckets' sizes in bytes."""
    buckets, held, limit = [], 0, first_cap
    for p in reversed(list(model.parameters())):
        held += p.numel() * p.element_size()
        if held >= limit:
            buckets, held, limit = buckets + [held], 0, cap
    return buckets + ([held] if held else [])


def train(args):
    workload = load_workload(args.workload)
    if args.precision not in PRECISIONS:
        fail_input("--precision", args.precision, "valid for the DDP engine: " + ", ".join(PRECISIONS))
    steps = positive("--steps", args.steps, 1e6, whole=True)
    warmup = positive("--warmup-steps", args.warmup_steps, 1e6, whole=True, zero=True)
    if warmup >= steps:
        fail_input("--warmup-steps", args.warmup_steps, "must be less than --steps")
    batch = positive("--batch", args.batch, 1 << 20, whole=True) if args.batch else workload["batch"]
    bucket = positive("--bucket-mib", args.bucket_mib, 1e6) * MIB
    first_bucket = min(bucket, positive("--first-bucket-mib", args.first_bucket_mib, 1e6) * MIB)
    if first_bucket != min(bucket, MIB):
        fail_input("--first-bucket-mib", args.first_bucket_mib, "torch 1.13's DDP fixes its first bucket at 1 MiB")
    lr = positive("--lr", args.lr, 100)
    momentum = positive("--momentum", args.momentum, 0.999999, zero=True)
    seed = positive("--seed", args.seed, 1 << 62, whole=True, zero=True)
    rate = args.rate_mbit if args.rate_mbit is not None else os.environ.get("EMULATED_CLUSTER_RATE_MBIT", "0")
    rate = positive("--rate-mbit", rate, 1e7, zero=True)
    for field, value in (("--workload", args.workload), ("--cluster-name", args.cluster_name)):
        if any(ch in value for ch in ',"\n'):
            fail_input(field, value, "must not hold commas, quotes or line breaks (it is a CSV field)")
    check_out_path(args.out)
    existing_runs(args.out)  # before the run, not after it

    import torch
    import torch.nn.functional as F
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = build_network(torch, workload)  # the same weights on every rank: the same seed
    group = Group(torch, args.rendezvous)
    try:
        clock = StepClock()
        if group.size > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            net = DDP(model, bucket_cap_mb=bucket / MIB)
            _KEEP.append(net)  # never destroyed: see main()
            # fp32: DDP's built-in reduction (C++, no hook); fp16: its fp16 compression hook, as users run them
            if args.time_buckets:
                hook = default_hooks.fp16_compress_hook if args.precision == "fp16" else default_hooks.allreduce_hook
                net.register_comm_hook(None, timed_hook(hook, clock))
            elif args.precision == "fp16":
                net.register_comm_hook(None, default_hooks.fp16_compress_hook)
        else:
            net = model  # one rank: plain training, the baseline of a speedup
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        classes = workload["layers"][-1]["out"]
        task = TeacherTask(torch, input_shape(workload), classes, seed, group.rank)
        params = sum(p.numel() for p in model.parameters())
        buckets = len(parameter_bucket_plan(model, first_bucket, bucket)) if group.size > 1 else 1
        if group.root:
            print(f"# ddp_train: {workload['name']} ({params} parameters, {buckets} buckets), {group.size} rank(s) on "
                  f"{group.nodes} node(s), {args.precision}, batch {batch} per rank, torch {torch.__version__} gloo, "
                  f"{torch.get_num_threads()} thread", flush=True)
            print(f"  {'step':>5} {'loss':>9} {'compute s':>10} {'codec s':>10} {'comm s':>10} {'wait s':>10} "
                  f"{'step s':>10}", flush=True)
        for p in list(model.parameters())[:2] if group.size > 1 else []:  # the first layer's weight and bias
            p.register_hook(clock.grad_ready)
        # the host's speed (host_probe_gflops, the probe calibrate takes beside its layers), just before the first
        # step and just after the last: a host that drifted from its calibration shows
        probe_before = host_probe_gflops(torch, group)
        rows = []
        bad_step = None
        x, y = task.batch(batch)
        for step in range(steps):
            clock.reset()
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            backward_end = time.perf_counter()
            opt.step()
            step_s = time.perf_counter() - t0
            codec_s = clock.hook_s if args.time_buckets and args.precision != "fp32" else 0.0
            wait_s = max(0.0, backward_end - clock.last_grad) if clock.last_grad else 0.0
            if args.time_buckets:  # the hook's time after the last gradient is codec, not waiting
                wait_s = max(0.0, backward_end - max(clock.last_grad, clock.last_launch))
            row = (float(loss.item()), max(0.0, step_s - wait_s - codec_s), codec_s, clock.busy_s(), wait_s, step_s)
            if not math.isfinite(row[0]) and bad_step is None:
                bad_step = step
            rows.append(row)
            if group.root:
                print(f"  {step:>5} {row[0]:>9.4f} {row[1]:>10.4f} {row[2]:>10.4f} {row[3]:>10.4f} {row[4]:>10.4f} "
                      f"{row[5]:>10.4f}", flush=True)
            x, y = task.batch(batch)  # the next samples, outside the timed step

        probe_after = host_probe_gflops(torch, group)
        # replicas must hold the same weights, and every rank must have finished with a finite loss
        digest = hashlib.sha256(b"".join(p.detach().contiguous().numpy().tobytes() for p in model.parameters()))
        results = group.gather((digest.hexdigest(), bad_step))
        if any(b is not None for _, b in results):
            first = min(b for _, b in results if b is not None)
            if group.root:
                print(f"ddp_train: the loss is not finite from step {first} on (lower --lr)", file=sys.stderr)
            return 1
        if len({d for d, _ in results}) != 1:
            if group.root:
                print("ddp_train: the replicas' weights differ after the last step", file=sys.stderr)
            return 1
        if not group.root:
            return 0
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        host = group.node
        run = f"{today}-{host}-{time.time_ns()}-{os.getpid()}"
        csv = []
        for step, (loss_v, compute_s, codec_s, comm_s, wait_s, step_s) in enumerate(rows):
            csv.append(f"{ENGINE},{run},{args.workload},{group.nodes},{group.size},{group.ranks_per_node},{rate:g},"
                       f"{args.cluster_name},{args.precision},{batch},{bucket:.0f},{first_bucket:.0f},{buckets},"
                       f"{params},{steps},{warmup},{step},{loss_v:.6f},{compute_s:.6g},{codec_s:.6g},{comm_s:.6g},"
                       f"{wait_s:.6g},{step_s:.6g},{today},{host},{probe_before:.5g},{probe_after:.5g}")
        append_rows(args.out, csv)
        timed = [r[5] for r in rows[warmup:]]
        print(f"# median step {statistics.median(timed):.4f} s over {len(timed)} steps after {warmup} warm-up; loss "
              f"{rows[0][0]:.4f} -> {rows[-1][0]:.4f}; replicas agree; host GEMM {probe_before:.2f} GFLOP/s "
              f"before, {probe_after:.2f} after; appended to {args.out}", flush=True)
        return 0
    finally:
        group.close()


# ---------------------------------------------------------------------------------------------------------------
# calibrate


def fraction_while_overlapped(alone_s, together_s, overlap_s):
    """The fraction of its own speed a stream of work kept while another ran beside it for overlap_s: alone =
    f x overlap + (together - overlap), clamped to [0.01, 1]; 1 without overlap (bitscale's calibrate/fit.hpp)."""
    if not overlap_s > 0:
        return 1.0
    return min(1.0, max(0.01, (alone_s - together_s + overlap_s) / overlap_s))


def median_time(fn, iters, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def host_probe_gflops(torch, group):
    """The host probe, as bitscale's (calibrate/mpi_collectives.hpp) with torch's GEMM: every rank times the fp32
    GEMM 512^3 sustained (sustained_time: 5 blocks of at least 50 ms, so that ranks sharing a core get their fair
    share, not one scheduler slice or several by chance), all at once after a barrier; the median over ranks, in
    GFLOP/s. Calibration takes it before each of its three layer measurements and training before its first step and
    after its last: their ratio is the host's speed during a run against its calibration (bitscale validate)."""
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    if group.size > 1:
        group.dist.barrier()
    return statistics.median(group.gather(2 * 512 ** 3 / sustained_time(lambda: torch.mm(a, b)) / 1e9))


def sustained_time(fn, blocks=5, block_s=0.05, warmup=2):
    """The time of one call as a rank gets it over many scheduler slices: `fn` repeated for at least `block_s` per
    block, the block's mean, median over `blocks`. Ranks that share cores are time-sliced every few milliseconds; a
    single call shorter than that lands in one slice or several by chance, so its median swings between the core's
    whole speed and a fair share of it (the CNN's layers at 4 ranks on 2 cores: 39 to 52 ms in all between
    calibrations), while training runs its layers back to back and gets the fair share."""
    for _ in range(warmup):
        fn()
    means = []
    for _ in range(blocks):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= block_s:
                break
        means.append(elapsed / calls)
    return statistics.median(means)


def gradient_like(torch, n, seed):
    """Values distributed as bitscale's codec benchmarks draw them (kernels/error_stats.cpp gradient_like): blocks
    of 256 at a scale of 10^U(-8, 0); in a block 10% zeros, 1% fp32 subnormals, 9% Student-t (3) and 80% Laplace
    values at the scale, each of random sign."""
    gen = torch.Generator().manual_seed(seed)
    blocks = (n + 255) // 256
    scale = torch.pow(10.0, -8.0 + 8.0 * torch.rand(blocks, generator=gen, dtype=torch.float64))
    scale = scale.repeat_interleave(256)[:n]
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    laplace = -torch.log1p(-torch.rand(n, generator=gen, dtype=torch.float64))
    z = torch.randn(n, generator=gen, dtype=torch.float64)
    chi = sum(torch.randn(n, generator=gen, dtype=torch.float64) ** 2 for _ in range(3))
    student = z / torch.sqrt(chi / 3)
    v = torch.where(u < 0.20, scale * student, scale * laplace)
    v = torch.where(u < 0.11, torch.rand(n, generator=gen, dtype=torch.float64) * 2.0 ** -127, v)
    v = torch.where(u < 0.10, torch.zeros_like(v), v)
    sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
    return (sign * v).to(torch.float32)


def training_gradients(torch, workload, rank, step=15):
    """The gradients this rank computes at step `step` (from 0) of the workload's own training: train's defaults
    (seed 1, SGD at lr 0.01 with momentum 0.9, the workload's batch, this rank's own batches), one process, no
    averaging, in DDP's bucket order (the last layer first). Calibration sums and casts these: gloo's fp16 sum of
    training's gradients at step 15 took 15-35% longer than of the gradients at initialisation, which every rank
    held alike (docs/validation.md item 31). Step 15 is the last timed step of the grid's 16-step runs; each rank
    steps with its own gradient where DDP steps with their mean, which the values' statistics hardly feel."""
    import torch.nn.functional as F

    torch.manual_seed(1)
    model = build_network(torch, workload)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    task = TeacherTask(torch, input_shape(workload), workload["layers"][-1]["out"], 1, rank)
    for i in range(step + 1):
        opt.zero_grad(set_to_none=False)
        x, y = task.batch(workload["batch"])
        F.cross_entropy(model(x), y).backward()
        if i < step:
            opt.step()
    return torch.cat([p.grad.flatten() for p in reversed(list(model.parameters()))])


def layer_step(torch, module, x, needs_input_grad):
    """One forward + backward of one layer (with its ReLU) as training runs it: the input's gradient only
    where a layer below needs it."""
    x = x.detach().requires_grad_(needs_input_grad)
    grad = None

    def run():
        nonlocal grad
        module.zero_grad(set_to_none=False)
        y = module(x)
        if grad is None:
            grad = torch.randn_like(y)
        y.backward(grad)

    return run


def calibrate(args):
    workloads = [load_workload(w) for w in args.workloads.split(",")] if args.workloads else []
    sizes = []
    for s in args.sizes.split(","):
        sizes.append(positive("--sizes", s, 1 << 30, whole=True))
    if len(sizes) < 4:
        fail_input("--sizes", args.sizes, "needs at least 4 sizes to fit")
    bucket = positive("--bucket-mib", args.bucket_mib, 1e6) * MIB
    iters = positive("--iters", args.iters, 100000, whole=True)
    if iters < 5:
        fail_input("--iters", args.iters, "must be >= 5")
    warmup = positive("--warmup", args.warmup, 100000, whole=True, zero=True)
    check_out_path(args.out)

    import torch
    import torch.distributed  # noqa: F401

    torch.set_num_threads(1)
    torch.manual_seed(1)
    # the workloads' own buckets (DDP's plan at --bucket-mib, its first at 1 MiB), as fp32 and as the fp16 hook's
    # halves: timed beside --sizes, so that the link fit passes through the sizes training sends (the emulated
    # link's time is far from linear between the sizes around them: 262 KiB 3.7 ms, 512 KiB 8.1 ms)
    planned = sorted({max(4, n - n % 4) for w in workloads
                      for b in parameter_bucket_plan(build_network(torch, w), min(bucket, MIB), bucket)
                      for n in (b, b // 2)} - set(sizes))
    sizes = sorted(sizes + planned)
    group = Group(torch, args.rendezvous)
    dist = group.dist
    say = (lambda *a: print(*a, flush=True)) if group.root else (lambda *a: None)
    try:
        def slowest_median(times):
            """Per iteration the slowest rank's time, then the median, min and max over iterations."""
            if group.size > 1:
                t = torch.tensor(times, dtype=torch.float64)
                dist.all_reduce(t, op=dist.ReduceOp.MAX)
                times = t.tolist()
            return statistics.median(times), min(times), max(times)

        def over_ranks(value):
            """The median over ranks of a rate every rank measured at the same time."""
            return statistics.median(group.gather(value))

        say(f"# ddp_train calibrate: torch {torch.__version__} gloo, {group.size} rank(s) on {group.nodes} node(s), "
            f"{iters} iterations after {warmup} warm-up")
        # the values the engine will send (the speed of gloo's fp16 sum and of the hook's casts depends on them:
        # fp16 subnormals take a slower path, and gradients divided by the ranks are often subnormal in fp16): the
        # workloads' own gradients at training's 16th step, each rank its own, repeated to 2^22 values, else
        # gradient-like values (before 2026-12-03: the gradients at initialisation, the same on every rank)
        grads = [training_gradients(torch, w, group.rank) for w in workloads]
        if grads:
            g = torch.cat(grads)
            g = g.repeat((1 << 22) // g.numel() + 1)[: max(1 << 22, g.numel())].contiguous()
        else:
            g = gradient_like(torch, 1 << 22, seed=7)
        values = (f"the gradients of {', '.join(w['name'] for w in workloads)} at training's 16th step, each rank "
                  f"its own ({g.numel()} values)") if grads else f"{g.numel()} gradient-like values"

        def sent(n, dtype):
            """n values as DDP sends them: the gradients divided by the ranks; the fp16 hook casts them to fp16
            first and divides in fp16."""
            values = g.repeat(n // g.numel() + 1)[:n]
            return values / group.size if dtype == torch.float32 else values.to(dtype).div_(group.size)

        def time_layers():
            """The workloads' own layers at their default batch, forward + backward as training runs them, each
            repeated in 5 blocks of at least 50 ms after 2 warm-up passes (sustained_time), median over ranks; in
            order, as dicts of workload, name, layer, batch and seconds."""
            out = []
            for w in workloads:
                x = torch.randn(w["batch"], *input_shape(w))
                for i, (name, block) in enumerate(build_blocks(torch, w)):
                    seconds = over_ranks(sustained_time(layer_step(torch, block, x, i > 0)))
                    out.append({"workload": w["path"], "name": w["name"], "layer": name, "batch": w["batch"],
                                "seconds": seconds})
                    with torch.no_grad():
                        x = block(x)
            return out

        probe_early = host_probe_gflops(torch, group)
        early_layers = time_layers()

        collectives = []
        if group.size > 1:
            say(f"# allreduce of {values}, divided by the ranks")
            say(f"# {'op':>10} {'type':>5} {'bytes':>10} {'median us':>11} {'min us':>11} {'max us':>11}")
            for dtype, name, width in ((torch.float32, "fp32", 4), (torch.float16, "fp16", 2)):
                for size in sizes:
                    n = max(1, size // width)
                    src = sent(n, dtype)
                    t = torch.empty_like(src)
                    times = []
                    for i in range(warmup + iters):
                        t.copy_(src)  # the same values every time: a sum of sums would drift out of range
                        dist.barrier()
                        start = time.perf_counter()
                        dist.all_reduce(t)
                        if i >= warmup:
                            times.append(time.perf_counter() - start)
                    med, lo, hi = slowest_median(times)
                    collectives.append({"op": "allreduce", "type": name, "bytes": n * width, "median_s": med,
                                        "min_s": lo, "max_s": hi})
                    say(f"  {'allreduce':>10} {name:>5} {n * width:>10} {med * 1e6:>11.1f} {lo * 1e6:>11.1f} "
                        f"{hi * 1e6:>11.1f}")

        # the workloads' layers a second time, after the collectives, with the probe before them (a third at the
        # end: the median of the three is kept)
        probe_middle = host_probe_gflops(torch, group)
        middle_layers = time_layers()

        # host: every rank at once (what one rank gets while the others run)
        say("# host: copy, GEMM, layers and the fp16 hook's casts, every rank at the same time")
        big = torch.randn(16 * MIB)  # 64 MiB
        dst = torch.empty_like(big)
        memcpy = over_ranks(2 * big.numel() * 4 / median_time(lambda: dst.copy_(big), 5))
        a, b = torch.randn(512, 512), torch.randn(512, 512)
        gemm = over_ranks(2 * 512 ** 3 / median_time(lambda: torch.mm(a, b), 5))

        # the reference layers bitscale's own calibration measures: a linear 1024 -> 1024 on 256 samples and a
        # 3x3 convolution 64 -> 64 on 16x16, 32 samples, forward + backward (3x the forward FLOPs)
        lin = torch.nn.Sequential(torch.nn.Linear(1024, 1024), torch.nn.ReLU())
        lin_run = layer_step(torch, lin, torch.randn(256, 1024), True)
        lin_flops = 3 * 2 * 256 * 1024 * 1024
        lin_alone = median_time(lin_run, 31)
        conv = torch.nn.Sequential(torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU())
        conv_flops = 3 * 2 * 32 * 64 * 64 * 9 * 16 * 16
        conv_s = median_time(layer_step(torch, conv, torch.randn(32, 64, 16, 16), True), 5)
        linear_rate, conv_rate = over_ranks(lin_flops / lin_alone), over_ranks(conv_flops / conv_s)

        # contention as the timeline applies it: passes of the linear layer on CONTENTION_SAMPLES samples and one
        # allreduce started together on every rank (DDP's collectives run on gloo's threads beside the autograd
        # thread), each also timed alone in the same round; while both run (o = min of their times together) the
        # compute progresses at f_c of its speed and the allreduce at f_m of its own: t_c = f_c o + (t_c' - o),
        # t_m = f_m o + (t_m' - o). Once with fp32 values (DDP's own reduction) and once with what the fp16 hook
        # sends (gloo sums fp16 one value at a time: that collective keeps the cores busier, and compute and it
        # slow each other more). The layer's pass is short (a host's drift between the timings alone and together
        # counts t_c / o times in f_c), and the allreduce long enough to load the cores as a bucket does (its start
        # and end load them less than its middle): contention_bytes() (docs/validation.md items 21 and 23)
        lin_short = layer_step(torch, lin, torch.randn(CONTENTION_SAMPLES, 1024), True)

        def contention_bytes():
            """2 MiB, doubled up to 8 MiB while an fp32 allreduce of that size alone (the slowest rank's median of 3
            after a warm-up) runs under 30 ms: the same answer on every rank."""
            size = CONTENTION_MIN_BYTES
            while 2 * size <= CONTENTION_MAX_BYTES:
                t = torch.ones(size // 4)
                dist.all_reduce(t)  # warm-up
                times = []
                for _ in range(3):
                    dist.barrier()
                    start = time.perf_counter()
                    dist.all_reduce(t)
                    times.append(time.perf_counter() - start)
                slowest = torch.tensor([statistics.median(times)], dtype=torch.float64)
                dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
                if slowest.item() >= CONTENTION_MIN_SECONDS:
                    break
                size *= 2
            return size

        def joint_contention(allreduce):
            """(f_c, f_m): the medians of 5 rounds, then over ranks, each in [0.01, 1]."""
            dist.barrier()
            unit_s = median_time(lin_short, 3)
            dist.barrier()
            allreduce()  # warm-up
            comm_s = timed(allreduce)
            # enough passes of the layer to outlast the collective two and a half times over, the same on every rank
            units = torch.tensor([min(1000, max(2, math.ceil(2.5 * comm_s / max(unit_s, 1e-6))))], dtype=torch.int64)
            dist.all_reduce(units, op=dist.ReduceOp.MAX)
            units = int(units.item())

            def compute():
                for _ in range(units):
                    lin_short()

            f_c, f_m = [], []
            for _ in range(5):
                dist.barrier()
                t_c = timed(compute)
                dist.barrier()
                t_m = timed(allreduce)
                dist.barrier()
                both = {}
                start = time.perf_counter()

                def comm_thread():
                    allreduce()
                    both["comm"] = time.perf_counter() - start

                th = threading.Thread(target=comm_thread)
                th.start()
                try:
                    compute()
                finally:
                    both["compute"] = time.perf_counter() - start
                    th.join()
                o = min(both["compute"], both["comm"])
                f_c.append(fraction_while_overlapped(t_c, both["compute"], o))
                f_m.append(fraction_while_overlapped(t_m, both["comm"], o))
            return (min(1.0, max(0.01, over_ranks(statistics.median(f_c)))),
                    min(1.0, max(0.01, over_ranks(statistics.median(f_m)))))

        def timed(fn):
            start = time.perf_counter()
            fn()
            return time.perf_counter() - start

        # ranks out of step as training meets them: one training step of each workload's own network (forward,
        # loss, backward and the SGD update at its default batch; no collective) on every rank at once after a
        # barrier, the slowest rank's time over the mean, minus 1. A step's time moves from step to step on each
        # rank on its own, and the collective after it waits for the slowest rank; three passes of one layer
        # after a barrier, back to back, spread less than training's steps do (docs/validation.md item 24). In
        # three blocks, seconds apart (after each contention pair and after the codec): the host's speed moves
        # within a second or two. Without workloads: three passes of the linear layer
        import torch.nn.functional as F

        skew_steps = []
        for w in workloads if group.size > 1 else []:
            net = build_network(torch, w)
            opt = torch.optim.SGD(net.parameters(), lr=1e-4, momentum=0.9)
            x, y = TeacherTask(torch, input_shape(w), w["layers"][-1]["out"], 1, group.rank).batch(w["batch"])

            def one_step(net=net, opt=opt, x=x, y=y):
                opt.zero_grad(set_to_none=False)
                F.cross_entropy(net(x), y).backward()
                opt.step()

            one_step()  # warm-up: the optimizer's state, the allocator's first buffers
            skew_steps.append(one_step)
        if not skew_steps:
            skew_steps = [lambda: [lin_run() for _ in range(3)]]
        skews = []

        def skew_block(rounds=4):
            for work in skew_steps:
                for _ in range(rounds):
                    dist.barrier()
                    start = time.perf_counter()
                    work()
                    times = group.gather(time.perf_counter() - start)
                    skews.append(max(times) / (sum(times) / len(times)) - 1.0)

        during_comm, comm_during, rank_skew = 1.0, 1.0, 0.0
        fp16_contention = None
        comm_bytes = CONTENTION_MIN_BYTES
        if group.size > 1:
            comm_bytes = contention_bytes()
            buf = torch.randn(comm_bytes // 4)

            def allreduce():
                dist.all_reduce(buf)
                buf.div_(group.size)  # keep the values finite

            during_comm, comm_during = joint_contention(allreduce)
            skew_block()
            # as many bytes of fp16: the gradients divided by the ranks, as the hook sends them, the same values
            # every time
            src16 = sent(comm_bytes // 2, torch.float16)
            buf16 = torch.empty_like(src16)

            def allreduce16():
                buf16.copy_(src16)
                dist.all_reduce(buf16)

            fp16_contention = joint_contention(allreduce16)
            skew_block()

        # the fp16 hook's codec: the cast to fp16 with the division by the ranks, and the copy back to fp32, on
        # the values it will cast (above)
        say(f"# codec: DDP's fp16 hook on {values}")
        holder = {}

        def encode():
            holder["h"] = g.to(torch.float16).div_(group.size)

        encode()
        encode_s = median_time(encode, 5)
        decode_s = median_time(lambda: g.copy_(holder["h"]), 5)
        # one rate for both directions that gives their total time: 2 x bytes / (encode + decode), and each
        # direction's own (bytes read + written over its time): the cast with the division takes many times the copy
        # back (docs/calibration.md: 9 against 0.7 ms on 4 Mi values), and the timeline places them apart (the cast
        # before the collective, on the autograd thread, the copy after it)
        codec = over_ranks(2 * (4 + 2) * g.numel() / (encode_s + decode_s))
        codec_encode = over_ranks((4 + 2) * g.numel() / encode_s)
        codec_decode = over_ranks((4 + 2) * g.numel() / decode_s)
        if group.size > 1:
            skew_block()
            rank_skew = min(10.0, max(0.0, statistics.median(skews)))  # every rank holds the same values
        skew_work = (f"one training step of {', '.join(w['name'] for w in workloads)} (forward, loss, backward and "
                     f"the SGD update at the workload's default batch, no collective)" if workloads else
                     "three passes of the linear layer 1024 -> 1024 (256 samples)")
        skew_timing = (f"the slowest rank's time over the mean of every rank's for {skew_work}, started together "
                       f"after a barrier on every rank, minus 1; the median of {len(skews)} rounds in three blocks, "
                       f"seconds apart (after each contention pair and after the codec)")

        # the workloads' layers a third time: per layer the median of the three measurements is kept, which a
        # slowdown of the host for one of them (tens of seconds of another load) does not set, and which, unlike
        # the faster of two, is not biased fast: at two ranks on this host one measurement of the CNN's layers
        # spreads by about 10% (docs/calibration.md)
        probe_late = host_probe_gflops(torch, group)
        late = time_layers()
        layers = [{**a, "seconds": statistics.median((a["seconds"], b["seconds"], c["seconds"])),
                   "measured": (a["seconds"], b["seconds"], c["seconds"])}
                  for a, b, c in zip(early_layers, middle_layers, late)]
        # the spread of one measurement: per layer the sample deviation s of the three ln(seconds), whose median
        # is sigma sqrt(ln 2) (2 s^2 / sigma^2 is chi-square with 2 degrees of freedom, median 2 ln 2); the
        # median over layers, divided by sqrt(ln 2)
        spreads = sorted(statistics.stdev([math.log(t["seconds"]) for t in trio]) / math.sqrt(math.log(2))
                         for trio in zip(early_layers, middle_layers, late))
        layer_spread = spreads[len(spreads) // 2] if spreads else 0.0
        for l in layers:
            say(f"  layer {l['name']} {l['layer']:<8} batch {l['batch']:>4}: {l['seconds'] * 1e3:8.3f} ms forward + "
                f"backward")

        say(f"  memcpy {memcpy / 1e9:.2f} GB/s (read + written); GEMM fp32 512^3 {gemm / 1e9:.2f} GFLOP/s")
        say(f"  layers: linear 1024x1024 b256 {linear_rate / 1e9:.2f}, conv 3x3 64ch 16x16 b32 {conv_rate / 1e9:.2f} "
            f"GFLOP/s (forward + backward)")
        if group.size > 1:
            say(f"  linear ({CONTENTION_SAMPLES} samples) and a {comm_bytes / MIB:g} MiB allreduce started together: "
                f"the linear at {during_comm:.3f} of its rate alone, "
                f"the allreduce at {comm_during:.3f} of its speed alone; the slowest rank {100 * rank_skew:.1f}% "
                f"behind the mean over {len(skews)} rounds")
        else:
            say("  one rank: no collective beside the compute and no other rank, so no contention or rank skew timed")
        if fp16_contention:
            say(f"  the same with an allreduce of {comm_bytes / MIB:g} MiB of fp16: the linear at "
                f"{fp16_contention[0]:.3f}, the allreduce "
                f"at {fp16_contention[1]:.3f}")
        say(f"  fp16 hook casts {codec / 1e9:.3f} GB/s (read + written): to fp16 with the division "
            f"{codec_encode / 1e9:.3f}, back to fp32 {codec_decode / 1e9:.3f}")
        if not group.root:
            return 0
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
        cpu = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines = [
            "# measurements of the PyTorch DDP engine (tools/ddp_train.py calibrate); bitscale calibrate",
            "# --from-engine fits them into a cluster profile",
            f"engine = {q(ENGINE)}",
            f"library = {q('gloo')}",
            f"engine_version = {q('torch ' + torch.__version__)}",
            f"command = {q('tools/ddp_train.py calibrate ' + ' '.join(sys.argv[2:]))}",
            f"date = {q(today)}",
            f"host = {q(group.node)}",
            f"cpu = {q(cpu)}",
            f"ranks = {group.size}",
            f"nodes = {group.nodes}",
            f"memory_gib = {mem_kib / MIB / group.ranks_per_node!r}",
            f"codec_values = {q(values)}",
            f"collective_values = {q(values + (', divided by the ranks' if group.size > 1 else ''))}",
            *([f"rank_skew_timing = {q(skew_timing)}", f"contention_sizing = {q(CONTENTION_SIZING)}"]
              if group.size > 1 else []),
            f"layer_timing = {q('5 blocks of at least 50 ms of back-to-back passes after 2 warm-up passes, median block, measured before the collectives, after them and at the end, the median of the three kept')}",
            "",
            "[rates]",
            f"memcpy_bytes_per_s = {memcpy!r}",
            f"gemm_fp32_flops_per_s = {gemm!r}",
            f"linear_flops_per_s = {linear_rate!r}",
            f"conv_flops_per_s = {conv_rate!r}",
            f"compute_during_comm = {during_comm!r}",
            f"comm_during_compute = {comm_during!r}",
            f"rank_skew = {rank_skew!r}",
            f"layer_spread = {layer_spread!r}",
            f"probe_gflops_early = {probe_early!r}",
            f"probe_gflops_middle = {probe_middle!r}",
            f"probe_gflops_late = {probe_late!r}",
            f"contention_measured = {'true' if group.size > 1 else 'false'}",
            *([f"contention_bytes = {comm_bytes}", f"contention_samples = {CONTENTION_SAMPLES}"]
              if group.size > 1 else []),
            "",
            "[codecs]",
            f"fp16 = {codec!r}",
            "",
            "[codec_encode]",
            f"fp16 = {codec_encode!r}",
            "",
            "[codec_decode]",
            f"fp16 = {codec_decode!r}",
        ]
        if fp16_contention:
            lines += ["", "[contention.fp16]", f"compute_during_comm = {fp16_contention[0]!r}",
                      f"comm_during_compute = {fp16_contention[1]!r}"]
        for l in layers:
            lines += ["", "[[layer]]", f"workload = {q(l['workload'])}", f"layer = {q(l['layer'])}",
                      f"batch = {l['batch']}", f"seconds = {l['seconds']!r}",
                      *(f"seconds_{which} = {t!r}" for which, t in zip(("first", "second", "third"), l["measured"]))]
        for c in collectives:
            lines += ["", "[[collective]]", f"op = {q(c['op'])}", f"type = {q(c['type'])}", f"bytes = {c['bytes']}",
                      f"median_s = {c['median_s']!r}", f"min_s = {c['min_s']!r}", f"max_s = {c['max_s']!r}"]
        write_atomically(args.out, "\n".join(lines) + "\n")
        say(f"# wrote {args.out}")
        return 0
    finally:
        group.close()


def main(argv):
    p = argparse.ArgumentParser(prog="ddp_train.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="a real DDP training run, per-step times appended to a run CSV")
    t.add_argument("--workload", "-w", required=True, help="workload TOML of linear and conv layers")
    t.add_argument("--precision", "-p", default="fp32", help="fp32 (DDP's allreduce hook) or fp16 (its fp16 "
                   "compression hook)")
    t.add_argument("--batch", "-b", help="samples per rank and step (default: the workload's)")
    t.add_argument("--steps", default="12", help="training steps (default 12)")
    t.add_argument("--warmup-steps", default="3", help="first steps validate leaves out (default 3)")
    t.add_argument("--bucket-mib", default="25", help="DDP's bucket_cap_mb (default 25)")
    t.add_argument("--first-bucket-mib", default="1", help="DDP's first bucket: 1 (torch 1.13 fixes it at 1 MiB)")
    t.add_argument("--lr", default="0.01", help="learning rate (default 0.01)")
    t.add_argument("--momentum", default="0.9", help="SGD momentum (default 0.9)")
    t.add_argument("--seed", default="1", help="weights and data seed (default 1)")
    t.add_argument("--rate-mbit", help="the shaped rate, recorded (default $EMULATED_CLUSTER_RATE_MBIT, else 0)")
    t.add_argument("--cluster-name", default="", help="the profile validate predicts this run with (recorded)")
    t.add_argument("--rendezvous", help="a directory every rank sees, for the file store (default: from mpirun's "
                   "job, under the temporary directory)")
    t.add_argument("--time-buckets", action="store_true",
                   help="also time DDP's hook and each bucket's collective (codec_s, comm_s); its Python callback "
                   "slows the step (diagnosis only)")
    t.add_argument("--out", "-o", required=True, help="run CSV to append this run's rows to (atomically)")
    c = sub.add_parser("calibrate", help="microbenchmarks of this engine, for bitscale calibrate --from-engine")
    c.add_argument("--workloads", default="", help="comma-separated workload TOMLs whose layers to time")
    c.add_argument("--sizes", default="65536,131072,262144,524288,1048576,2097152,4194304",
                   help="allreduce sizes in bytes (comma-separated)")
    c.add_argument("--bucket-mib", default="25", help="DDP's bucket_cap_mb the runs use (default 25): the workloads' "
                   "buckets at it, in fp32 and fp16 bytes, are timed beside --sizes")
    c.add_argument("--iters", default="20", help="timed iterations per size (default 20)")
    c.add_argument("--warmup", default="3", help="untimed iterations first (default 3)")
    c.add_argument("--rendezvous", help="as for train")
    c.add_argument("--out", "-o", required=True, help="measurement file (TOML) to write")
    args = p.parse_args(argv)
    try:
        return train(args) if args.command == "train" else calibrate(args)
    except BadInput as e:
        print(f"ddp_train: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        print(f"ddp_train: {e} (install Debian's python3-torch; run with /usr/bin/python3)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    except SystemExit as e:  # argparse: --help (0) and its usage errors (2)
        code = e.code if isinstance(e.code, int) else 2
    except BaseException:  # a bug or a failed run: the traceback, exit 1
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown (see _KEEP)
