"""convbp.nn: trainable layers on NumPy arrays with explicit forward and backward.

PyTorch's names and behaviour, NumPy underneath, convbp's kernels for convolutions::

    import numpy as np
    from convbp import nn, optim

    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    logits = model(x)                  # x (N, 1, 8, 8) float32
    loss = loss_fn(logits, labels)     # labels (N,) ints
    opt.zero_grad()
    model.backward(loss_fn.backward()) # fills every parameter's .grad
    opt.step()

``forward`` caches what ``backward`` needs; ``backward(grad_output)`` adds the
parameter gradients into ``.grad`` and returns the gradient of the input.
"""

from . import init
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .container import Sequential
from .conv import Conv1d, Conv2d
from .flatten import Flatten
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .pooling import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d

__all__ = [
    "Module", "Parameter", "Sequential", "Flatten",
    "Conv1d", "Conv2d", "Linear",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "CrossEntropyLoss", "MSELoss", "init",
]
