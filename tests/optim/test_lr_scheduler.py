"""Learning-rate schedules: the same lr sequence as torch.optim.lr_scheduler, epoch by epoch."""

import pytest
import torch

from tinygrad_edu import Value, optim
from tinygrad_edu.optim import lr_scheduler

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),  # runs past T_max: back up again
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (1 + epoch))),
]


def lrs(module, optimizer, name, kw, epochs=15):
    scheduler = getattr(module, name)(optimizer, **kw)
    seen = [optimizer.param_groups[0]["lr"]]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        seen.append(optimizer.param_groups[0]["lr"])
        assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]
    return seen


@pytest.mark.parametrize("name, kw", SCHEDULES, ids=[s[0] + str(i) for i, s in
                                                      enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kw):
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    expected = lrs(torch.optim.lr_scheduler, t_opt, name, kw)
    got = lrs(lr_scheduler, optim.SGD([Value(0.0)], lr=0.1), name, kw)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert len(set(round(x, 12) for x in got)) > 2  # the schedule really changed the lr


def test_lambda_lr_takes_one_function_per_group():
    opt = optim.SGD([{"params": [Value(0.0)]}, {"params": [Value(0.0)], "lr": 1.0}], lr=0.1)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1.0 + e])
    sched.step()
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.25, 3.0])


def test_reduce_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.94, 0.93, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4, 0.4]
    kw = dict(factor=0.5, patience=2, cooldown=1, min_lr=0.01)
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kw)
    opt = optim.SGD([Value(0.0)], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kw)
    for m in metrics:
        t_sched.step(m)
        sched.step(m)
        assert opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"])
    assert opt.param_groups[0]["lr"] < 0.1


def test_reduce_on_plateau_max_mode_and_abs_threshold():
    opt = optim.SGD([Value(0.0)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0,
                                           threshold_mode="abs", threshold=0.1)
    sched.step(0.5)
    sched.step(0.55)  # not better by 0.1: reduce
    assert sched.get_last_lr() == [pytest.approx(0.1)]
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)


def test_scheduler_state_dict_resumes():
    opt = optim.SGD([Value(0.0)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        sched.step()
    saved = sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 3
    opt2 = optim.SGD([Value(0.0)], lr=0.1)
    sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(saved)
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == [pytest.approx(0.025)]


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR("sgd", step_size=1)
