"""A hand-built tapped classifier whose class evidence is known: red pixels are class 0, blue class 1.

features = relu(W1·rgb + b1) → 2×2 max pool → hidden = relu(features − 0.1) → fc8 = W3·hidden,
with W3 = 4·I − 1, so each class's logit rises with its own colour and falls with the others.
"""

import torch
from torch import nn

from napari_partial_style.core.segment.fcn import class_scores
from napari_partial_style.core.segment.guided_relu import SwitchableReLU


class TinyTapped(nn.Module):
    classes = ["red thing", "blue thing", "green thing", "dark thing"]
    score_kind = "sigmoid"
    mean = (0.0, 0.0, 0.0)  # inputs are not normalised: black is its neutral colour
    min_input = 224  # the canvas VGG16's would be: the known-evidence tests were written for it

    def __init__(self, pool: int = 2) -> None:
        """`pool` is the max-pooling window: larger windows route gradients to fewer pixels."""
        super().__init__()
        self.grid = (float(pool), (pool - 1) / 2)  # logit cells `pool` px apart
        self.conv1 = nn.Conv2d(3, 4, 1)
        self.conv2 = nn.Conv2d(4, 4, 1)
        self.fc8 = nn.Conv2d(4, 4, 1)
        with torch.no_grad():
            self.conv1.weight.copy_(
                torch.tensor([[2.0, -1, -1], [-1, -1, 2], [-1, 2, -1], [-1, -1, -1]]).view(4, 3, 1, 1)
            )
            self.conv1.bias.zero_()
            self.conv2.weight.copy_(torch.eye(4).view(4, 4, 1, 1))
            self.conv2.bias.fill_(-0.1)
            self.fc8.weight.copy_((4 * torch.eye(4) - 1).view(4, 4, 1, 1))
            self.fc8.bias.zero_()
        self.relu1, self.relu2 = SwitchableReLU(), SwitchableReLU()
        self.pool = nn.MaxPool2d(pool)
        self.requires_grad_(False)

    def forward_taps(self, x):
        features = self.relu1(self.conv1(x))
        pooled = self.pool(features)
        hidden = self.relu2(self.conv2(pooled))
        return self.fc8(hidden), [features, pooled]

    def scores(self, logits):
        return class_scores(logits, self.score_kind)
