#!/usr/bin/env python3
"""PyTorch reference of the eight MODELS.md networks and the train-step benchmark protocol of
`edu bench train` (run with Debian's /usr/bin/python3 and python3-torch).

    /usr/bin/python3 bench/pytorch_models.py --check                 # assert MODELS.md parameter counts
    /usr/bin/python3 bench/pytorch_models.py --model edu --size 128  # last stdout line: JSON result
"""
import argparse, json, math, resource, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(d, ci, co, k, bias):
    return (nn.Conv2d if d == 2 else nn.Conv3d)(ci, co, k, padding=k // 2, bias=bias)


def bn(d, c):
    return (nn.BatchNorm2d if d == 2 else nn.BatchNorm3d)(c)


def up(d, ci, co):
    return (nn.ConvTranspose2d if d == 2 else nn.ConvTranspose3d)(ci, co, 2, stride=2)


def down(d, x):
    return F.max_pool2d(x, 2) if d == 2 else F.max_pool3d(x, 2)


class ConvBlock(nn.Module):
    def __init__(self, d, ci, co):
        super().__init__()
        self.conv1, self.bn1 = conv(d, ci, co, 3, False), bn(d, co)
        self.conv2, self.bn2 = conv(d, co, co, 3, False), bn(d, co)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(self.bn2(self.conv2(x)), inplace=True)


class AttentionGate(nn.Module):
    def __init__(self, d, c):
        super().__init__()
        f = max(1, c // 2)
        self.wg, self.wg_bn = conv(d, c, f, 1, True), bn(d, f)
        self.wx, self.wx_bn = conv(d, c, f, 1, True), bn(d, f)
        self.psi, self.psi_bn = conv(d, f, 1, 1, True), bn(d, 1)

    def forward(self, g, x):
        a = F.relu(self.wg_bn(self.wg(g)) + self.wx_bn(self.wx(x)))
        return x * torch.sigmoid(self.psi_bn(self.psi(a)))


def gaussian(d, c, k):
    sigma = 0.3 * ((k - 1) / 2 - 1) + 0.8
    x = torch.arange(k, dtype=torch.float64) - (k - 1) / 2
    g = torch.exp(-x * x / (2 * sigma * sigma))
    g = g / g.sum()
    kern = g[:, None] * g[None, :] if d == 2 else g[:, None, None] * g[None, :, None] * g[None, None, :]
    kern = (kern / kern.sum()).float()
    return kern.expand(c, 1, *kern.shape).contiguous()


def fuse_kernel(d, c, g3, g5, g7, w, divisor):
    """The fused 7^d depthwise kernel delta + (1/divisor) sum_k w_k (delta - pad(G_k)): MDE passes its gains and 3,
    MdeLite its alpha and 1 (as Mde.FuseKernel does in C#)."""
    v = (c,) + (1,) * (d + 1)
    pad = lambda t, p: F.pad(t, (p,) * (2 * d)) if p else t
    centre = pad((1 + w.sum(0) / divisor).view(v), 3)
    blur = w[0].view(v) * pad(g3, 2) + w[1].view(v) * pad(g5, 1) + w[2].view(v) * g7
    return centre - blur / divisor


class Mde(nn.Module):
    def __init__(self, d, c):
        super().__init__()
        self.d, self.c = d, c
        self.kernel3 = nn.Parameter(gaussian(d, c, 3))
        self.kernel5 = nn.Parameter(gaussian(d, c, 5))
        self.kernel7 = nn.Parameter(gaussian(d, c, 7))
        self.gain = nn.Parameter(torch.ones(3, c))
        self.pointwise, self.bn = conv(d, c, c, 1, False), bn(d, c)

    def fused_kernel(self):
        return fuse_kernel(self.d, self.c, self.kernel3, self.kernel5, self.kernel7, self.gain, 3)

    def forward(self, e, u):
        k = self.fused_kernel().to(e.dtype)
        h = (F.conv2d if self.d == 2 else F.conv3d)(e, k, padding=3, groups=self.c)
        return F.relu(self.bn(self.pointwise(h)), inplace=True) + u


class MdeLite(nn.Module):
    """MODELS.md's MdeLite: h = e + sum_k alpha_k * (e - G_k * e), one depthwise convolution with the fused kernel
    delta + sum_k alpha_k (delta - pad(G_k)); alpha starts at 0 (identity)."""
    def __init__(self, d, c):
        super().__init__()
        self.d, self.c = d, c
        self.kernel3 = nn.Parameter(gaussian(d, c, 3))
        self.kernel5 = nn.Parameter(gaussian(d, c, 5))
        self.kernel7 = nn.Parameter(gaussian(d, c, 7))
        self.alpha = nn.Parameter(torch.zeros(3, c))

    def fused_kernel(self):
        return fuse_kernel(self.d, self.c, self.kernel3, self.kernel5, self.kernel7, self.alpha, 1)

    def forward(self, e):
        k = self.fused_kernel().to(e.dtype)
        return (F.conv2d if self.d == 2 else F.conv3d)(e, k, padding=3, groups=self.c)


def widths(base, depth):
    return [base * 2 ** i for i in range(depth + 1)]


class _Encoder(nn.Module):
    def __init__(self, d, cin, base, depth):
        super().__init__()
        self.d, self.depth = d, depth
        self.f = f = widths(base, depth)
        self.encoder = nn.ModuleList(ConvBlock(d, cin if i == 0 else f[i - 1], f[i]) for i in range(depth + 1))

    def encode(self, x):
        xs = []
        for i, b in enumerate(self.encoder):
            xs.append(b(x if i == 0 else down(self.d, xs[-1])))
        return xs


class UNetFamily(_Encoder):
    """unet, attention-unet, unet-mde, attention-unet-mde."""
    def __init__(self, d, cin, k, base, depth, gate, mde):
        super().__init__(d, cin, base, depth)
        f = self.f
        self.up = nn.ModuleList(up(d, f[i + 1], f[i]) for i in range(depth))
        if gate:
            self.gate = nn.ModuleList(AttentionGate(d, f[i]) for i in range(depth))
        if mde:
            self.mde = nn.ModuleList(Mde(d, f[i]) for i in range(depth))
        self.use_gate, self.use_mde = gate, mde
        self.decoder = nn.ModuleList(ConvBlock(d, f[i] if mde else 2 * f[i], f[i]) for i in range(depth))
        self.head = conv(d, f[0], k, 1, True)

    def forward(self, x):
        xs = self.encode(x)
        dd = xs[-1]
        for i in reversed(range(self.depth)):
            u = self.up[i](dd)
            s = self.gate[i](u, xs[i]) if self.use_gate else xs[i]
            dd = self.decoder[i](self.mde[i](s, u) if self.use_mde else torch.cat([s, u], 1))
        return self.head(dd)


class Nested(_Encoder):
    """unetpp (concatenation), edu (MDE on the mean of the dense skips), edu-dense (UNet++ with E_i = MdeLite_i(X[i,0])
    in place of X[i,0]) and edu-lean (X[i,j] = ConvBlock(2 f_i -> f_i)(cat(E_i, Up(X[i+1,j-1]))))."""
    def __init__(self, d, cin, k, base, depth, mode):
        super().__init__(d, cin, base, depth)
        f, self.mode = self.f, mode
        self.up, self.nodes = nn.ModuleDict(), nn.ModuleDict()
        if mode == "edu":
            self.mde = nn.ModuleDict()
        elif mode in ("edu-dense", "edu-lean"):
            self.mde = nn.ModuleList(MdeLite(d, f[i]) for i in range(depth))
        for j in range(1, depth + 1):
            for i in range(depth - j + 1):
                self.up[f"{i}_{j}"] = up(d, f[i + 1], f[i])
                if mode == "edu":
                    self.mde[f"{i}_{j}"] = Mde(d, f[i])
                ci = {"unetpp": (j + 1) * f[i], "edu": f[i], "edu-dense": (j + 1) * f[i], "edu-lean": 2 * f[i]}[mode]
                self.nodes[f"{i}_{j}"] = ConvBlock(d, ci, f[i])
        self.head = conv(d, f[0], k, 1, True)

    def forward(self, x):
        X = [[t] for t in self.encode(x)]
        if self.mode in ("edu-dense", "edu-lean"):
            E = [self.mde[i](X[i][0]) for i in range(self.depth)]
        for j in range(1, self.depth + 1):
            for i in range(self.depth - j + 1):
                u = self.up[f"{i}_{j}"](X[i + 1][j - 1])
                node = self.nodes[f"{i}_{j}"]
                if self.mode == "edu":
                    s = X[i][0] if j == 1 else sum(X[i][:j]) / j
                    X[i].append(node(self.mde[f"{i}_{j}"](s, u)))
                elif self.mode == "edu-dense":
                    X[i].append(node(torch.cat([E[i]] + X[i][1:j] + [u], 1)))
                elif self.mode == "edu-lean":
                    X[i].append(node(torch.cat([E[i], u], 1)))
                else:
                    X[i].append(node(torch.cat(X[i][:j] + [u], 1)))
        return self.head(X[0][self.depth])


def create(name, d, cin, k, base=None, depth=4):
    base = base or (16 if d == 3 else 32)
    return {
        "unet": lambda: UNetFamily(d, cin, k, base, depth, False, False),
        "attention-unet": lambda: UNetFamily(d, cin, k, base, depth, True, False),
        "unet-mde": lambda: UNetFamily(d, cin, k, base, depth, False, True),
        "attention-unet-mde": lambda: UNetFamily(d, cin, k, base, depth, True, True),
        "unetpp": lambda: Nested(d, cin, k, base, depth, "unetpp"),
        "edu": lambda: Nested(d, cin, k, base, depth, "edu"),
        "edu-dense": lambda: Nested(d, cin, k, base, depth, "edu-dense"),
        "edu-lean": lambda: Nested(d, cin, k, base, depth, "edu-lean"),
    }[name]()


TABLE = {  # MODELS.md: (2D cin1 K1), (2D cin3 K1), (3D cin4 K4)
    "unet": (7762465, 7763041, 5647732), "attention-unet": (7851197, 7851773, 5670344),
    "unet-mde": (7108385, 7108961, 5201972), "attention-unet-mde": (7197117, 7197693, 5224584),
    "unetpp": (9045249, 9045825, 6554084), "edu": (7887617, 7888193, 5781604),
    "edu-dense": (9086529, 9087105, 6673604), "edu-lean": (8773185, 8773761, 6438596),
}


def count(m):
    return sum(p.numel() for p in m.parameters())


def check():
    for name, cells in TABLE.items():
        got = (count(create(name, 2, 1, 1)), count(create(name, 2, 3, 1)), count(create(name, 3, 4, 4)))
        assert got == cells, f"{name}: {got} != {cells}"
        print(f"{name:20s} {got} ok")


def bce_dice(logits, y):
    bce = F.binary_cross_entropy_with_logits(logits, y)
    p, t = torch.sigmoid(logits).flatten(1), y.flatten(1)
    dice = (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)
    return bce + (1 - dice.mean())


def bench(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = create(a.model, a.dims, 1, 1, a.base)
    fmt = (torch.channels_last if a.dims == 2 else torch.channels_last_3d) if a.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)  # PyTorch's own recipe: weights and input in channels-last, the layers keep it
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    shape = (a.batch, 1) + (a.size,) * a.dims
    x = torch.randn(shape).contiguous(memory_format=fmt)
    y = (torch.randn(shape) > 0).float()
    times = []
    if a.infer:  # eval-mode float32 forward passes, no autograd (what `edu bench onnx` times)
        net.eval()
        with torch.no_grad():
            for i in range(a.warmup + a.steps):
                t0 = time.perf_counter()
                (net(x) > 0).sum().item()
                if i >= a.warmup:
                    times.append((time.perf_counter() - t0) * 1000)
    for i in range(0 if a.infer else a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = bce_dice(net(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB on Linux (= VmHWM)
    print(json.dumps({"model": a.model, "dims": a.dims, "batch": a.batch, "size": a.size, "threads": a.threads,
                      "device": "cpu", "parameters": count(net), "median_ms": round(statistics.median(times), 2),
                      "min_ms": round(min(times), 2), "max_ms": round(max(times), 2), "peak_rss_mb": round(rss, 1),
                      "memory_format": "channels-last" if a.channels_last else "channels-first", "torch": torch.__version__,
                      "mode": "infer" if a.infer else "train"}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--check", action="store_true")
    p.add_argument("--model", default="unet")
    p.add_argument("--dims", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--base", type=int, default=None)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--infer", action="store_true", help="time eval-mode forward passes instead of training steps")
    a = p.parse_args()
    check() if a.check else bench(a)
