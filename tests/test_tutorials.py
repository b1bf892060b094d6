# ruff: noqa: E402, B007, UP008, N806  (tutorial code kept as tutorials write it)
"""PyTorch's official beginner material, run with only the import lines changed.

Each test follows one tutorial step by step, in the tutorial's own style and API calls (the code
is written here, not copied): Learn the Basics (tensors, datasets and dataloaders, building the
model, autograd, optimization, save and load), Learning PyTorch with Examples (the polynomial
examples and dynamic_net), the 60-minute blitz (autograd; neural networks), and "What is
torch.nn really?" up to its GPU section. Where a tutorial downloads data, the local
Fashion-MNIST is used; where it trains for minutes, fewer samples or epochs.
"""

import math
import random

import numpy as np
import pytest

# ---- the only changed lines --------------------------------------------------------------------
import tinygrad_edu as torch
import tinygrad_edu.nn.functional as F
from tinygrad_edu import data as datasets
from tinygrad_edu import nn, optim
from tinygrad_edu.data.transforms import ToTensor
from tinygrad_edu.utils.data import DataLoader, Dataset, TensorDataset

# -------------------------------------------------------------------------------------------------


def fashion_or_skip(train=True):
    try:
        return datasets.FashionMNIST(train=train, transform=ToTensor())
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"local Fashion-MNIST not available: {err}")


# ---- Learn the Basics: Tensors ------------------------------------------------------------------


def test_learn_the_basics_tensors():
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    assert x_np.tolist() == x_data.tolist()

    x_ones = torch.ones_like(x_data)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    assert x_ones.dtype == torch.int64 and x_rand.dtype == torch.float32

    shape = (2, 3,)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    assert rand_tensor.shape == ones_tensor.shape == zeros_tensor.shape == (2, 3)

    tensor = torch.rand(3, 4)
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    assert str(tensor.device) == "cpu"

    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())

    tensor = torch.ones(4, 4)
    print(f"First row: {tensor[0]}")
    print(f"First column: {tensor[:, 0]}")
    print(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    assert tensor[:, 1].sum().item() == 0 and tensor.sum().item() == 12

    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    assert t1.shape == (4, 12)

    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    assert torch.equal(y1, y2) and torch.equal(y1, y3)
    assert torch.equal(z1, z2) and torch.equal(z1, z3)

    agg = tensor.sum()
    agg_item = agg.item()
    assert isinstance(agg_item, float) and agg_item == 12.0

    tensor.add_(5)
    assert tensor[0, 0].item() == 6

    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    assert n.tolist() == [2.0] * 5  # a change in the tensor shows in the array

    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    assert t.tolist() == [2.0] * 5  # and the other way round


# ---- Learn the Basics: Datasets & DataLoaders ----------------------------------------------------


class CustomImageDataset(Dataset):
    """The tutorial's custom dataset, on arrays instead of image files."""

    def __init__(self, images, labels, transform=None, target_transform=None):
        self.img_labels = labels
        self.images = images
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        label = int(self.img_labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def test_learn_the_basics_datasets_and_dataloaders():
    training_data = fashion_or_skip(train=True)
    test_data = fashion_or_skip(train=False)
    labels_map = {0: "T-Shirt", 1: "Trouser", 2: "Pullover", 3: "Dress", 4: "Coat",
                  5: "Sandal", 6: "Shirt", 7: "Sneaker", 8: "Bag", 9: "Ankle Boot"}
    for i in range(1, 4):
        sample_idx = torch.randint(len(training_data), size=(1,)).item()
        img, label = training_data[sample_idx]
        assert img.shape == (1, 28, 28) and labels_map[label]

    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
    test_dataloader = DataLoader(test_data, batch_size=64, shuffle=True)
    train_features, train_labels = next(iter(train_dataloader))
    print(f"Feature batch shape: {train_features.size()}")
    print(f"Labels batch shape: {train_labels.size()}")
    img = train_features[0].squeeze()
    label = train_labels[0]
    assert img.shape == (28, 28) and 0 <= label.item() <= 9
    assert train_features.size() == (64, 1, 28, 28) and len(test_dataloader) == 157

    rng = np.random.default_rng(0)
    custom = CustomImageDataset(rng.random((10, 28, 28)).astype(np.float32),
                                rng.integers(0, 10, 10), transform=ToTensor(),
                                target_transform=lambda y: torch.zeros(
                                    10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1))
    xb, yb = next(iter(DataLoader(custom, batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and yb.shape == (4, 10)


# ---- Learn the Basics: Build the Neural Network --------------------------------------------------

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
    else "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def test_learn_the_basics_build_the_model():
    print(f"Using {device} device")
    model = NeuralNetwork().to(device)
    X = torch.rand(1, 28, 28, device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    assert y_pred.shape == (1,) and abs(pred_probab.sum().item() - 1) < 1e-5

    input_image = torch.rand(3, 28, 28)
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    layer1 = nn.Linear(in_features=28 * 28, out_features=20)
    hidden1 = layer1(flat_image)
    hidden1 = nn.ReLU()(hidden1)
    assert hidden1.shape == (3, 20) and hidden1.min().item() >= 0
    seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
    logits = seq_modules(input_image)
    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
    assert pred_probab.shape == (3, 10)

    print(f"Model structure: {model}\n\n")
    sizes = {}
    for name, param in model.named_parameters():
        print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
        sizes[name] = param.size()
    assert sizes["linear_relu_stack.0.weight"] == (512, 784)


# ---- Learn the Basics: Automatic Differentiation ------------------------------------------------


def test_learn_the_basics_autograd():
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    assert z.grad_fn is not None and loss.grad_fn.next_functions

    loss.backward()
    print(w.grad)
    print(b.grad)
    s = torch.sigmoid(z.detach()) / 3  # d mean(BCE(z, 0)) / dz
    assert np.allclose(b.grad.numpy(), s.numpy(), atol=1e-6)
    assert np.allclose(w.grad.numpy(), np.outer(np.ones(5), s.numpy()), atol=1e-6)

    z = torch.matmul(x, w) + b
    print(z.requires_grad)
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    print(z.requires_grad)
    assert not z.requires_grad

    z = torch.matmul(x, w) + b
    z_det = z.detach()
    print(z_det.requires_grad)
    assert not z_det.requires_grad

    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"First call\n{inp.grad}")
    first = inp.grad.clone()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    assert torch.equal(inp.grad, first * 2)
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")
    assert torch.equal(inp.grad, first)


# ---- Learn the Basics: Optimizing Model Parameters -----------------------------------------------


def train_loop(dataloader, model, loss_fn, optimizer, batch_size):
    size = len(dataloader.dataset)
    model.train()
    losses = []
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if batch % 100 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
    return losses


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


test_loop.__test__ = False  # the tutorial's name; not a pytest test


def test_learn_the_basics_optimization_and_save_load(tmp_path):
    torch.manual_seed(0)
    training_data = torch.utils.data.Subset(fashion_or_skip(True), range(3000))
    test_data = torch.utils.data.Subset(fashion_or_skip(False), range(1000))
    learning_rate = 1e-1
    batch_size = 64
    epochs = 3
    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    accuracies, losses = [], []
    for t in range(epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        losses += train_loop(train_dataloader, model, loss_fn, optimizer, batch_size)
        accuracies.append(test_loop(test_dataloader, model, loss_fn))
    print("Done!")
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) and accuracies[-1] > 0.6

    # Save and Load the Model
    torch.save(model.state_dict(), tmp_path / "model_weights.pth")
    model2 = NeuralNetwork()
    model2.load_state_dict(torch.load(tmp_path / "model_weights.pth", weights_only=True))
    model2.eval()
    assert test_loop(test_dataloader, model2, loss_fn) == accuracies[-1]


# ---- Learning PyTorch with Examples --------------------------------------------------------------


def test_examples_polynomial_tensor():
    dtype = torch.float
    device = torch.device("cpu")
    # device = torch.device("cuda:0") # Uncomment this to run on GPU
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), device=device, dtype=dtype)
    b = torch.randn((), device=device, dtype=dtype)
    c = torch.randn((), device=device, dtype=dtype)
    d = torch.randn((), device=device, dtype=dtype)
    learning_rate = 1e-6
    for t in range(2000):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 100 == 99:
            print(t, loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
    assert loss < 50


def test_examples_polynomial_autograd():
    dtype = torch.float
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_default_device(device)
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), dtype=dtype, requires_grad=True)
    b = torch.randn((), dtype=dtype, requires_grad=True)
    c = torch.randn((), dtype=dtype, requires_grad=True)
    d = torch.randn((), dtype=dtype, requires_grad=True)
    learning_rate = 1e-6
    for t in range(2000):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            print(t, loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
    assert loss.item() < 50


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def test_examples_polynomial_custom_function():
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    for t in range(2000):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t == 0:
            first = loss.item()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
    assert loss.item() < first / 10


def _polynomial_data():
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    return x, y, xx


def test_examples_polynomial_nn():
    x, y, xx = _polynomial_data()
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-6
    for t in range(2000):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            print(t, loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + '
          f'{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
    assert loss.item() < 50


def test_examples_polynomial_optim():
    x, y, xx = _polynomial_data()
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(2000):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 50


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                f'{self.d.item()} x^3')


def test_examples_polynomial_module():
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = Polynomial3()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    for t in range(2000):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 100 == 99:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f'Result: {model.string()}')
    assert loss.item() < 50


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                f'{self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?')


def test_examples_dynamic_net():
    random.seed(0)
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = DynamicNet()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    for t in range(3000):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t == 0:
            first = loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f'Result: {model.string()}')
    assert loss.item() < first


# ---- 60-minute blitz: autograd and neural networks -----------------------------------------------


def test_blitz_autograd():
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    print(9 * a ** 2 == a.grad)
    print(-2 * b == b.grad)
    assert (9 * a ** 2 == a.grad).all() and (-2 * b == b.grad).all()

    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    print(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")
    assert not a.requires_grad and b.requires_grad

    # frozen parameters: only the new classifier head trains (a small model for resnet18)
    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU())
            self.fc = nn.Linear(8, 1000)

        def forward(self, x):
            return self.fc(self.body(x))

    model = Small()
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(8, 10)
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    out = model(torch.rand(4, 3, 4))
    out.sum().backward()
    assert model.fc.weight.grad is not None and model.body[1].weight.grad is None
    optimizer.step()


def test_blitz_neural_networks():
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, input):
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = torch.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            return self.fc3(f6)

    net = Net()
    params = list(net.parameters())
    assert len(params) == 10 and params[0].size() == (6, 1, 5, 5)
    input = torch.randn(1, 1, 32, 32)
    out = net(input)
    net.zero_grad()
    out.backward(torch.randn(1, 10))
    output = net(input)
    target = torch.randn(10).view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    print(loss.grad_fn)
    print(loss.grad_fn.next_functions[0][0])
    print(loss.grad_fn.next_functions[0][0].next_functions[0][0])
    net.zero_grad()
    loss.backward()
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()
    loss = criterion(net(input), target)
    loss.backward()
    optimizer.step()
    assert criterion(net(input), target).item() < loss.item()


# ---- What is torch.nn really? (every section before the GPU one) -------------------------------


def _mnist_like():
    train = fashion_or_skip(True)
    valid = fashion_or_skip(False)
    def arrays(ds, n):
        x = np.stack([ds[i][0].numpy().reshape(-1) for i in range(n)]).astype(np.float32)
        y = np.array([ds[i][1] for i in range(n)], dtype=np.int64)
        return x, y
    x_train, y_train = arrays(train, 2000)
    x_valid, y_valid = arrays(valid, 500)
    return x_train, y_train, x_valid, y_valid


def test_what_is_torch_nn_really():
    torch.manual_seed(0)
    x_train, y_train, x_valid, y_valid = map(torch.tensor, _mnist_like())
    n, c = x_train.shape
    print(x_train, y_train)
    print(x_train.shape)
    print(y_train.min(), y_train.max())

    # neural net from scratch
    weights = torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    bs = 64
    xb = x_train[0:bs]
    preds = model(xb)
    print(preds[0], preds.shape)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    loss_func = nll
    yb = y_train[0:bs]
    print(loss_func(preds, yb))

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    print(accuracy(preds, yb))
    lr = 0.5
    epochs = 2
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)
            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    print(loss_func(model(xb), yb), accuracy(model(xb), yb))
    assert accuracy(model(x_valid), y_valid) > 0.5

    # using torch.nn.functional
    loss_func = F.cross_entropy

    def model(xb):
        return xb @ weights + bias

    print(loss_func(model(xb), yb), accuracy(model(xb), yb))

    # refactor using nn.Module, nn.Linear, optim
    class Mnist_Logistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    model = Mnist_Logistic()
    print(loss_func(model(xb), yb))

    def fit():
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)
                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= p.grad * lr
                    model.zero_grad()

    fit()
    assert accuracy(model(x_valid), y_valid) > 0.5

    class Mnist_Logistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(784, 10)

        def forward(self, xb):
            return self.lin(xb)

    lr = 0.1  # Fashion-MNIST's steps: MNIST's 0.5 overshoots here

    def get_model():
        model = Mnist_Logistic()
        return model, optim.SGD(model.parameters(), lr=lr)

    # Dataset, DataLoader, validation
    train_ds = TensorDataset(x_train, y_train)
    valid_ds = TensorDataset(x_valid, y_valid)

    def get_data(train_ds, valid_ds, bs):
        return (
            DataLoader(train_ds, batch_size=bs, shuffle=True),
            DataLoader(valid_ds, batch_size=bs * 2),
        )

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
        history = []
        for epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)
            model.eval()
            with torch.no_grad():
                losses, nums = zip(
                    *[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl]
                )
            val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
            print(epoch, val_loss)
            history.append(val_loss)
        return history

    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    model, opt = get_model()
    history = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    assert history[-1] < 1.0

    # switch to a CNN: three strided convolutions, then an average pool down to the 10 logits
    class Mnist_CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, 28, 28)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 4)
            return xb.view(-1, xb.size(1))

    epochs = 4  # 2000 samples, not 50000: the CNN needs a few more passes to get going
    lr = 0.1
    model = Mnist_CNN()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    assert history[-1] < 1.8  # untrained: log(10) = 2.30; PyTorch here: 1.2 to 1.5

    # nn.Sequential, with a Lambda layer for what has no module
    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    def preprocess(x):
        return x.view(-1, 1, 28, 28)

    model = nn.Sequential(
        Lambda(preprocess),
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(4),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    assert history[-1] < 1.8  # untrained: log(10) = 2.30; PyTorch here: 1.2 to 1.5

    # wrapping the DataLoader: the reshape moves into the data, the pool adapts to any size
    def preprocess(x, y):
        return x.view(-1, 1, 28, 28), y

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl = dl
            self.func = func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield (self.func(*b))

    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    train_dl = WrappedDataLoader(train_dl, preprocess)
    valid_dl = WrappedDataLoader(valid_dl, preprocess)
    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    assert history[-1] < 1.8  # untrained: log(10) = 2.30; PyTorch here: 1.2 to 1.5

    # the GPU section starts here: on this library it is the CPU, and asking for CUDA says so
    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    assert str(dev) == "cpu"
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        model.to(torch.device("cuda"))
