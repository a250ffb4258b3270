"""Classic CNN architectures in plain torch (random weights), with the structure of their torchvision versions.

Used to export real-model test cases and benchmark inputs; no weights are downloaded.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, width, 3, stride), conv_bn(width, width, 3, act=False))
        self.down = conv_bn(cin, width, 1, stride, act=False) if stride != 1 or cin != width else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.down(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out = width * 4
        self.body = nn.Sequential(conv_bn(cin, width, 1), conv_bn(width, width, 3, stride),
                                  conv_bn(width, out, 1, act=False))
        self.down = conv_bn(cin, out, 1, stride, act=False) if stride != 1 or cin != out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.down(x))


class ResNet(nn.Module):
    def __init__(self, block: type, layers: list[int], num_classes: int = 1000, in_ch: int = 3,
                 widths: tuple[int, ...] = (64, 128, 256, 512), stem: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(conv_bn(in_ch, stem, 7, 2), nn.MaxPool2d(3, 2, 1))
        blocks: list[nn.Module] = []
        cin = stem
        for i, (n, w) in enumerate(zip(layers, widths)):
            for j in range(n):
                blocks.append(block(cin, w, 2 if j == 0 and i > 0 else 1))
                cin = w * block.expansion
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def resnet18(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes)


class VGG(nn.Module):
    def __init__(self, cfg: tuple = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
                 num_classes: int = 1000, hidden: int = 4096, image: int = 224) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers.append(conv_bn(cin, int(v)))
                cin = int(v)
        self.features = nn.Sequential(*layers)
        side = image // 2 ** sum(v == "M" for v in cfg)
        self.classifier = nn.Sequential(nn.Linear(cin * side * side, hidden), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(self._cbr6(cin, hidden, 1))
        layers += [self._cbr6(hidden, hidden, 3, stride, hidden), nn.Conv2d(hidden, cout, 1, bias=False),
                   nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    @staticmethod
    def _cbr6(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [InvertedResidual._cbr6(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(InvertedResidual._cbr6(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int, bn_size: int = 4) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(True), nn.Conv2d(cin, bn_size * growth, 1, bias=False),
                                  nn.BatchNorm2d(bn_size * growth), nn.ReLU(True),
                                  nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], 1)


class DenseNet(nn.Module):
    def __init__(self, blocks: tuple[int, ...] = (6, 12, 24, 16), growth: int = 32, init: int = 64,
                 num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, init, 7, 2, 3, bias=False), nn.BatchNorm2d(init), nn.ReLU(True),
                                   nn.MaxPool2d(3, 2, 1)]
        c = init
        for i, n in enumerate(blocks):
            for _ in range(n):
                layers.append(DenseLayer(c, growth))
                c += growth
            if i != len(blocks) - 1:
                layers += [nn.BatchNorm2d(c), nn.ReLU(True), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2)]
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU(True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def densenet121(num_classes: int = 1000) -> DenseNet:
    return DenseNet((6, 12, 24, 16), 32, 64, num_classes)


class UNet(nn.Module):
    """Encoder-decoder with ConvTranspose upsampling and skip Concats."""

    def __init__(self, in_ch: int = 3, out_ch: int = 2, base: int = 16, depth: int = 3) -> None:
        super().__init__()
        chans = [base * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList([nn.Sequential(conv_bn(in_ch if i == 0 else chans[i - 1], chans[i]),
                                                 conv_bn(chans[i], chans[i])) for i in range(depth)])
        self.mid = nn.Sequential(conv_bn(chans[depth - 1], chans[depth]), conv_bn(chans[depth], chans[depth]))
        self.up = nn.ModuleList([nn.ConvTranspose2d(chans[i + 1], chans[i], 2, 2) for i in reversed(range(depth))])
        self.dec = nn.ModuleList([nn.Sequential(conv_bn(2 * chans[i], chans[i]), conv_bn(chans[i], chans[i]))
                                  for i in reversed(range(depth))])
        self.head = nn.Conv2d(chans[0], out_ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.mid(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], 1))
        return self.head(x)


def _divisible(v: float, d: int = 8) -> int:
    new = max(d, int(v + d / 2) // d * d)
    return new + d if new < 0.9 * v else new


class SqueezeExcite(nn.Module):
    """GlobalAveragePool, reduce Conv, activation, expand Conv, gate, Mul with the main path."""

    def __init__(self, c: int, squeeze: int, act: type = nn.ReLU, gate: type = nn.Hardsigmoid) -> None:
        super().__init__()
        self.reduce, self.act = nn.Conv2d(c, squeeze, 1), act()
        self.expand, self.gate = nn.Conv2d(squeeze, c, 1), gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.expand(self.act(self.reduce(s))))


def conv_bn_act(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: type | None = nn.ReLU
                ) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class MBConv(nn.Module):
    """Inverted residual with optional squeeze-excite (MobileNetV3, EfficientNet)."""

    def __init__(self, cin: int, exp: int, cout: int, k: int, stride: int, se: int, act: type, gate: type) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if exp != cin:
            layers.append(conv_bn_act(cin, exp, 1, act=act))
        layers.append(conv_bn_act(exp, exp, k, stride, exp, act))
        if se:
            layers.append(SqueezeExcite(exp, se, act if act is nn.SiLU else nn.ReLU, gate))
        layers.append(conv_bn_act(exp, cout, 1, act=None))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV3Small(nn.Module):
    SETTINGS = [(3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
                (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
                (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1), (5, 288, 96, True, "HS", 2),
                (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1)]

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_act(3, 16, 3, 2, act=nn.Hardswish)]
        cin = 16
        for k, exp, out, se, act, stride in self.SETTINGS:
            layers.append(MBConv(cin, exp, out, k, stride, _divisible(exp // 4) if se else 0,
                                 nn.Hardswish if act == "HS" else nn.ReLU, nn.Hardsigmoid))
            cin = out
        layers.append(conv_bn_act(cin, 576, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(576, 1024), nn.Hardswish(), nn.Dropout(0.2),
                                        nn.Linear(1024, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class EfficientNetB0(nn.Module):
    STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
              (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_act(3, 32, 3, 2, act=nn.SiLU)]
        cin = 32
        for expand, k, stride, out, n in self.STAGES:
            for i in range(n):
                layers.append(MBConv(cin, cin * expand, out, k, stride if i == 0 else 1, max(1, cin // 4), nn.SiLU,
                                     nn.Sigmoid))
                cin = out
        layers.append(conv_bn_act(cin, 1280, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class RegNetBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, group_width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn_act(cin, cout, 1), conv_bn_act(cout, cout, 3, stride, cout // group_width),
                                  conv_bn_act(cout, cout, 1, act=None))
        self.proj = conv_bn_act(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.proj(x))


class RegNetX200MF(nn.Module):
    def __init__(self, num_classes: int = 1000, widths: tuple[int, ...] = (24, 56, 152, 368),
                 depths: tuple[int, ...] = (1, 1, 4, 7), group_width: int = 8) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_act(3, 32, 3, 2)]
        cin = 32
        for w, d in zip(widths, depths):
            for i in range(d):
                layers.append(RegNetBlock(cin, w, 2 if i == 0 else 1, group_width))
                cin = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class GhostModule(nn.Module):
    def __init__(self, cin: int, cout: int, relu: bool = True) -> None:
        super().__init__()
        self.out = cout
        init = -(-cout // 2)
        act = nn.ReLU if relu else None
        self.primary = conv_bn_act(cin, init, 1, act=act)
        self.cheap = conv_bn_act(init, init, 3, groups=init, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.primary(x)
        return torch.cat([a, self.cheap(a)], 1)[:, :self.out]


class GhostBottleneck(nn.Module):
    def __init__(self, cin: int, mid: int, cout: int, k: int, stride: int, se: float) -> None:
        super().__init__()
        layers: list[nn.Module] = [GhostModule(cin, mid)]
        if stride > 1:
            layers.append(conv_bn_act(mid, mid, k, stride, mid, act=None))
        if se:
            layers.append(SqueezeExcite(mid, _divisible(mid * se, 4), nn.ReLU, nn.Hardsigmoid))
        layers.append(GhostModule(mid, cout, relu=False))
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            conv_bn_act(cin, cin, k, stride, cin, act=None), conv_bn_act(cin, cout, 1, act=None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class GhostNet(nn.Module):
    CFG = [(3, 16, 16, 0, 1), (3, 48, 24, 0, 2), (3, 72, 24, 0, 1), (5, 72, 40, 0.25, 2), (5, 120, 40, 0.25, 1),
           (3, 240, 80, 0, 2), (3, 200, 80, 0, 1), (3, 184, 80, 0, 1), (3, 184, 80, 0, 1), (3, 480, 112, 0.25, 1),
           (3, 672, 112, 0.25, 1), (5, 672, 160, 0.25, 2), (5, 960, 160, 0, 1), (5, 960, 160, 0.25, 1)]

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_act(3, 16, 3, 2)]
        cin = 16
        for k, mid, out, se, stride in self.CFG:
            layers.append(GhostBottleneck(cin, mid, out, k, stride, se))
            cin = out
        layers.append(conv_bn_act(cin, 960, 1))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Conv2d(960, 1280, 1), nn.ReLU(), nn.Flatten(), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(nn.functional.adaptive_avg_pool2d(self.features(x), 1))


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.dw(x).permute(0, 2, 3, 1))
        y = self.gamma * self.fc2(nn.functional.gelu(self.fc1(y)))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtAtto(nn.Module):
    def __init__(self, num_classes: int = 1000, dims: tuple[int, ...] = (40, 80, 160, 320),
                 depths: tuple[int, ...] = (2, 2, 6, 2)) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, dims[0], 4, 4), LayerNorm2d(dims[0], eps=1e-6)]
        for i, (dim, depth) in enumerate(zip(dims, depths)):
            if i:
                layers += [LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dim, 2, 2)]
            layers += [ConvNeXtBlock(dim) for _ in range(depth)]
        self.features = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.fc = nn.Linear(dims[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(self.features(x).mean((2, 3))))


class YoloConv(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int = 1, s: int = 1) -> None:
        super().__init__(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.SiLU())


class C2f(nn.Module):
    """CSP block of YOLOv8: a 1x1 Conv, Split in two, bottlenecks on the second half, Concat of every stage."""

    def __init__(self, cin: int, cout: int, n: int = 1, shortcut: bool = True) -> None:
        super().__init__()
        self.c = cout // 2
        self.cv1, self.cv2 = YoloConv(cin, 2 * self.c), YoloConv((2 + n) * self.c, cout)
        self.m = nn.ModuleList([nn.Sequential(YoloConv(self.c, self.c, 3), YoloConv(self.c, self.c, 3))
                                for _ in range(n)])
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).split((self.c, self.c), 1))
        for m in self.m:
            y.append(y[-1] + m(y[-1]) if self.shortcut else m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.cv1, self.cv2 = YoloConv(cin, cin // 2), YoloConv(cin // 2 * 4, cout)
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.pool(y[-1]))
        return self.cv2(torch.cat(y, 1))


class YoloV8n(nn.Module):
    """A YOLOv8n-style detector: C2f backbone, SPPF, upsampling neck with skip Concats, decoupled head."""

    def __init__(self, nc: int = 80, w: tuple[int, ...] = (16, 32, 64, 128, 256), reg_max: int = 16) -> None:
        super().__init__()
        self.b0, self.b1 = YoloConv(3, w[0], 3, 2), YoloConv(w[0], w[1], 3, 2)
        self.c1, self.b2 = C2f(w[1], w[1]), YoloConv(w[1], w[2], 3, 2)
        self.c2, self.b3 = C2f(w[2], w[2], 2), YoloConv(w[2], w[3], 3, 2)
        self.c3, self.b4 = C2f(w[3], w[3], 2), YoloConv(w[3], w[4], 3, 2)
        self.c4, self.sppf = C2f(w[4], w[4]), SPPF(w[4], w[4])
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.n1, self.n2 = C2f(w[4] + w[3], w[3], shortcut=False), C2f(w[3] + w[2], w[2], shortcut=False)
        self.d1, self.n3 = YoloConv(w[2], w[2], 3, 2), C2f(w[2] + w[3], w[3], shortcut=False)
        self.d2, self.n4 = YoloConv(w[3], w[3], 3, 2), C2f(w[3] + w[4], w[4], shortcut=False)
        box, cls = max(16, w[2] // 4, reg_max * 4), max(w[2], min(nc, 100))
        self.box = nn.ModuleList([nn.Sequential(YoloConv(c, box, 3), YoloConv(box, box, 3),
                                                nn.Conv2d(box, 4 * reg_max, 1)) for c in (w[2], w[3], w[4])])
        self.cls = nn.ModuleList([nn.Sequential(YoloConv(c, cls, 3), YoloConv(cls, cls, 3), nn.Conv2d(cls, nc, 1))
                                  for c in (w[2], w[3], w[4])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p3 = self.c2(self.b2(self.c1(self.b1(self.b0(x)))))
        p4 = self.c3(self.b3(p3))
        p5 = self.sppf(self.c4(self.b4(p4)))
        h4 = self.n1(torch.cat([self.up(p5), p4], 1))
        h3 = self.n2(torch.cat([self.up(h4), p3], 1))
        h4 = self.n3(torch.cat([self.d1(h3), h4], 1))
        h5 = self.n4(torch.cat([self.d2(h4), p5], 1))
        outs = [torch.cat([b(f), c(f)], 1) for f, b, c in zip((h3, h4, h5), self.box, self.cls)]
        return torch.cat([o.flatten(2) for o in outs], 2)


def randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give BatchNorm layers non-trivial statistics so that eval-mode exports are not identity BNs."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model.eval()


def export(model: nn.Module, path: str, shape: tuple[int, ...] = (1, 3, 224, 224), opset: int = 17,
           keep_bn: bool = False, dynamo: bool = False) -> None:
    """Export with the TorchScript exporter (`keep_bn` leaves BatchNormalization nodes unfolded) or with the
    torch.export-based exporter (`dynamo`, which writes opset 18 when it cannot convert down to `opset`)."""
    import contextlib
    import io
    import logging
    import warnings

    model = randomize_bn(model)
    with warnings.catch_warnings(), torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if dynamo:
            logging.disable(logging.WARNING)
            try:
                program = torch.onnx.export(model, (torch.randn(*shape),), None, opset_version=max(opset, 18),
                                            dynamo=True, input_names=["input"], output_names=["output"])
                program.save(path, external_data=False)
            finally:
                logging.disable(logging.NOTSET)
            return
        torch.onnx.export(model, torch.randn(*shape), path, opset_version=opset, dynamo=False,
                          input_names=["input"], output_names=["output"], do_constant_folding=not keep_bn,
                          training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL)
