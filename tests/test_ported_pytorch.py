# ruff: noqa: UP008, B007  (tutorial code kept as tutorials write it)
"""Ported-code check: typical PyTorch tutorial code, with only the imports changed, runs here.

The bodies below are written exactly as PyTorch tutorials write them; the only edits are the
import lines (torch -> tinygrad_edu, torch.utils.data -> tinygrad_edu.data).
"""

import numpy as np

# ---- the only changed lines ---------------------------------------------------------------------
import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim
from tinygrad_edu.data import DataLoader, TensorDataset

# -------------------------------------------------------------------------------------------------


class XOR(nn.Module):
    def __init__(self):
        super(XOR, self).__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x):
        x = torch.sigmoid(self.fc1(x))
        x = torch.sigmoid(self.fc2(x))
        return x


def test_xor_net_learns_xor_with_bce_and_adam():
    torch.manual_seed(0)
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])

    model = XOR()
    criterion = nn.BCELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.1)

    for epoch in range(500):
        optimizer.zero_grad()
        outputs = model(X)
        loss = criterion(outputs, y)
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        predicted = (model(X) > 0.5).float()
        errors = (predicted != y).sum().item()
    assert errors == 0
    assert loss.item() < 0.05


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 256),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def evaluate(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(dim=1) == y).sum().item()
    test_loss /= num_batches
    correct /= size
    return correct, test_loss


def accuracy_with_max(dataloader, model):
    correct = 0
    total = 0
    with torch.no_grad():
        for images, labels in dataloader:
            outputs = model(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return correct / total


def synthetic_images(n, seed):
    """Ten classes of noisy 28x28 images, each class a fixed random pattern (no download)."""
    rng = np.random.default_rng(seed)
    patterns = np.random.default_rng(99).normal(size=(10, 1, 28, 28))
    labels = rng.integers(0, 10, size=n)
    images = patterns[labels] + rng.normal(scale=2.0, size=(n, 1, 28, 28))
    return images.astype(np.float32), labels.astype(np.int64)


def test_sequential_classifier_tutorial_loop_runs_and_learns():
    torch.manual_seed(0)
    Xtr, ytr = synthetic_images(1024, seed=1)
    Xte, yte = synthetic_images(256, seed=2)
    train_loader = DataLoader(TensorDataset(torch.tensor(Xtr), torch.tensor(ytr)),
                              batch_size=64, shuffle=True)
    test_loader = DataLoader(TensorDataset(torch.tensor(Xte), torch.tensor(yte)), batch_size=64)

    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    before, _ = evaluate(test_loader, model, loss_fn)
    for t in range(2):
        train(train_loader, model, loss_fn, optimizer)
    correct, test_loss = evaluate(test_loader, model, loss_fn)
    assert before < 0.3 and correct > 0.9
    assert accuracy_with_max(test_loader, model) == correct
    assert not model.training

    probs = F.softmax(model(torch.tensor(Xte[:4])), dim=1)
    assert np.allclose(probs.sum(dim=1).numpy(), 1.0, atol=1e-6)


def test_saving_and_loading_a_model_the_tutorial_way(tmp_path):
    model = NeuralNetwork()
    torch.save(model.state_dict(), tmp_path / "model.pth")
    model2 = NeuralNetwork()
    model2.load_state_dict(torch.load(tmp_path / "model.pth"))
    model.eval()
    model2.eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert (model(x) == model2(x)).all().item()
