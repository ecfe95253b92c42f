"""Cancel inside a network pass: the job stops at the next layer, forward or backward, and only
inside `cancellable` (core/runtime/cancel.py)."""

import threading

import numpy as np
import pytest
import torch
from synthetic import two_tone

from napari_partial_style.core.errors import Cancelled
from napari_partial_style.core.nets.vgg import TappedVGG
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.runtime.cancel import cancellable
from napari_partial_style.core.style.objectives.gatys import TAPS as STYLE_TAPS
from napari_partial_style.core.style.transfer import LevelRequest, optimise, style_stats


def net_that_counts(calls):
    """A small VGG19 body that records each layer it runs, forward and backward."""
    torch.manual_seed(0)
    net = TappedVGG("vgg19", STYLE_TAPS).eval().requires_grad_(False)
    for index, layer in enumerate(net.body):
        layer.register_forward_hook(lambda *_, i=index: calls.append(("forward", i)))
        layer.register_full_backward_hook(lambda *_, i=index: calls.append(("backward", i)))
    return net


def image():
    return torch.rand(1, 3, 40, 40, requires_grad=True)


def test_a_cancel_during_the_forward_pass_stops_at_the_next_layer():
    calls, stop = [], threading.Event()
    net = net_that_counts(calls)
    net.body[4].register_forward_hook(lambda *_: stop.set())  # the user clicks Cancel here
    with cancellable(stop), pytest.raises(Cancelled):
        net(image())
    assert calls[-1] == ("forward", 4)


def test_a_cancel_during_the_backward_pass_stops_at_the_next_layer():
    calls, stop = [], threading.Event()
    net = net_that_counts(calls)
    net.body[20].register_full_backward_hook(lambda *_: stop.set())  # the click, during backward
    with cancellable(stop):
        out = net(image())
        with pytest.raises(Cancelled):
            sum(v.sum() for v in out.values()).backward()
    backward = [i for kind, i in calls if kind == "backward"]
    assert backward and min(backward) >= 19  # layers 0..18 got no gradient: the pass stopped there


def test_without_cancellable_a_set_event_changes_nothing():
    calls = []
    net = net_that_counts(calls)
    out = net(image())
    sum(v.sum() for v in out.values()).backward()
    assert ("backward", 0) in calls


def test_a_stylize_cancelled_mid_step_raises_cancelled_in_its_thread_only():
    """Two jobs in two threads: cancelling one stops it mid-pass; the other runs to its end."""
    content = two_tone((36, 36)).astype(np.float32) / 255
    cpu = torch.device("cpu")
    calls = []
    net = net_that_counts(calls)
    targets = [(style_stats(net, [(content, 1.0, None)], StyleParams(), cpu), None)]
    outcome, stops = {}, {"a": threading.Event(), "b": threading.Event()}

    def job(name):
        try:
            with cancellable(stops[name]):
                outcome[name] = drain(
                    optimise(LevelRequest(net, content, targets, StyleParams(), cpu, 3)),
                    lambda e: name == "a" and e.step == 1 and stops["a"].set(),
                )
        except Cancelled:
            outcome[name] = "cancelled"

    threads = [threading.Thread(target=job, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome["a"] == "cancelled"
    assert isinstance(outcome["b"], np.ndarray) and outcome["b"].shape == content.shape
