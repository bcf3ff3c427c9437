"""Ctrl-C handling: the first one is a request, the second gives up; stops are not cut short."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from pixcrawler_desktop.cli.interrupt import Interrupt, uninterruptible


def press_ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def test_first_ctrl_c_is_a_request_the_second_an_interrupt():
    before = signal.getsignal(signal.SIGINT)
    with Interrupt() as stop:
        assert not stop.requested
        press_ctrl_c()
        assert stop.wait(30) and stop.requested
        with pytest.raises(KeyboardInterrupt):
            press_ctrl_c()
            threading.Event().wait(30)  # the handler raises here at the latest
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_during_a_stop_is_delivered_after_it():
    finished = False
    with pytest.raises(KeyboardInterrupt), uninterruptible():
        press_ctrl_c()  # its handler runs before the next line, and only notes the signal
        finished = True
    assert finished
