"""Test helpers for a real X display: Xvfb, finding, closing and photographing windows."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import time
from pathlib import Path

XVFB = "/usr/bin/Xvfb"
XDOTOOL = "/usr/bin/xdotool"


class Xvfb:
    """A virtual X display for one test session."""

    def __init__(self, number: int = 97, size: str = "1280x900x24"):
        self.display = f":{number}"
        self.size = size
        self.process: subprocess.Popen | None = None

    def start(self) -> "Xvfb":
        # -nolisten tcp: reachable only through its local socket.
        self.process = subprocess.Popen([XVFB, self.display, "-screen", "0", self.size, "-nolisten", "tcp"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        socket_path = Path(f"/tmp/.X11-unix/X{self.display[1:]}")
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb did not start on {self.display}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display}

    def windows(self, name: str, visible: bool = True) -> list[int]:
        """Ids of the top-level windows whose title matches `name`."""
        args = [XDOTOOL, "search"] + (["--onlyvisible"] if visible else []) + ["--name", name]
        result = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **self.env()})
        return [int(line) for line in result.stdout.split()]

    def wait_window(self, name: str, timeout: float = 60, process: subprocess.Popen | None = None) -> int:
        """Wait until a visible window called `name` exists; return its id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.windows(name)
            if found:
                return found[0]
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the program exited ({process.returncode}) before its window appeared")
            time.sleep(0.2)
        raise TimeoutError(f"no window {name!r} on {self.display} after {timeout} s")

    def xdotool(self, *args: str) -> str:
        result = subprocess.run([XDOTOOL, *args], capture_output=True, text=True, check=True,
                                env={**os.environ, **self.env()})
        return result.stdout.strip()

    def stacking(self) -> list[int]:
        """Top-level window ids, bottom first (X's stacking order)."""
        with XLib(self.display) as x:
            return x.children_of_root()

    def close_window(self, window: int) -> None:
        """Ask the window to close, as the title bar's close button does (WM_DELETE_WINDOW)."""
        with XLib(self.display) as x:
            x.send_delete(window)

    def screenshot(self, path: Path):
        """Save the whole display as PNG and return the image."""
        from PIL import ImageGrab

        image = ImageGrab.grab(xdisplay=self.display)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        return image


def available() -> bool:
    """True when Xvfb and xdotool are installed (Debian's xvfb and xdotool)."""
    return all(shutil.which(tool) for tool in (XVFB, XDOTOOL))


class _ClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


class XLib:
    """The few Xlib calls the tests need, through ctypes (libX11 comes with Xvfb)."""

    def __init__(self, display: str):
        self.lib = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        self.lib.XOpenDisplay.restype = ctypes.c_void_p
        self.lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.lib.XInternAtom.restype = ctypes.c_ulong
        self.lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self.lib.XDefaultRootWindow.restype = ctypes.c_ulong
        self.lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.lib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                        ctypes.POINTER(_XEvent)]
        self.lib.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                        ctypes.POINTER(ctypes.c_ulong),
                                        ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)), ctypes.POINTER(ctypes.c_uint)]
        self.lib.XFree.argtypes = [ctypes.c_void_p]
        self.lib.XFlush.argtypes = [ctypes.c_void_p]
        self.lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.dpy = self.lib.XOpenDisplay(display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open X display {display}")

    def __enter__(self) -> "XLib":
        return self

    def __exit__(self, *exc) -> None:
        self.lib.XCloseDisplay(self.dpy)

    def send_delete(self, window: int) -> None:
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = window
        event.xclient.message_type = self.lib.XInternAtom(self.dpy, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = self.lib.XInternAtom(self.dpy, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        self.lib.XSendEvent(self.dpy, window, 0, 0, ctypes.byref(event))
        self.lib.XFlush(self.dpy)

    def children_of_root(self) -> list[int]:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        self.lib.XQueryTree(self.dpy, self.lib.XDefaultRootWindow(self.dpy), ctypes.byref(root), ctypes.byref(parent),
                            ctypes.byref(children), ctypes.byref(count))
        ids = [children[i] for i in range(count.value)]
        if children:
            self.lib.XFree(children)
        return ids
