"""Small torch models shared by the network importer tests (MLP, CNN, residual block, a wider op mix)."""

import torch
from torch import nn


def _randomise_batchnorm(model: nn.Module, gen: torch.Generator) -> nn.Module:
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) * 2 - 1)
            m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)
    return model.eval()


class Residual(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv2(torch.relu(self.bn1(self.conv1(x)))))


class Mixed(nn.Module):
    """Conv1d, GELU, SiLU, Sigmoid, Tanh, concat, avg pool, LayerNorm, sum and mean, softmax."""

    def __init__(self):
        super().__init__()
        self.conv_a = nn.Conv1d(3, 4, 3, padding=1)
        self.conv_b = nn.Conv1d(3, 4, 5, stride=1, padding=2, dilation=1)
        self.pool = nn.AvgPool1d(2)
        self.norm = nn.LayerNorm(8)
        self.fc = nn.Linear(8 * 8, 6)
        self.act = nn.GELU()

    def forward(self, x):
        h = torch.cat([self.act(self.conv_a(x)), nn.functional.silu(self.conv_b(x))], dim=1)
        h = self.norm(self.pool(h))
        h = torch.sigmoid(h) * torch.tanh(h)
        scale = h.sum(dim=2).mean(dim=1, keepdim=True)  # (N, 1): reductions over explicit axes
        return torch.softmax(self.fc(torch.flatten(h, 1)) * scale, dim=-1)


def models(seed: int = 0) -> dict[str, tuple[nn.Module, torch.Tensor]]:
    """name -> (eval-mode model, random input batch)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    mlp = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 5))
    cnn = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 10),
    )
    res = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), Residual(4), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    return {
        "mlp": (_randomise_batchnorm(mlp, gen), torch.randn(8, 20, generator=gen)),
        "cnn": (_randomise_batchnorm(cnn, gen), torch.randn(8, 1, 8, 8, generator=gen)),
        "residual": (_randomise_batchnorm(res, gen), torch.randn(8, 2, 6, 6, generator=gen)),
        "mixed": (_randomise_batchnorm(Mixed(), gen), torch.randn(8, 3, 16, generator=gen)),
    }


class PytorchMnistExample(nn.Module):
    """The network of the PyTorch examples repository's MNIST script (functional pooling, view, log-softmax)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = nn.functional.relu(self.conv1(x))
        x = nn.functional.relu(self.conv2(x))
        x = nn.functional.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = x.view(x.size(0), -1)
        x = nn.functional.relu(self.fc1(x))
        x = self.dropout2(x)
        return nn.functional.log_softmax(self.fc2(x), dim=1)
