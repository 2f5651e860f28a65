"""A deliberately tiny CNN: proof that any nn.Module gets the full benchmark treatment."""

from __future__ import annotations

from torch import nn


class TinyCNN(nn.Module):
    """Two conv blocks and a linear head; enough to learn colour and shape cues."""

    def __init__(self, num_classes: int = 5, width: int = 16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))
