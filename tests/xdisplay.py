"""Test helpers for the desktop app: Xvfb, finding, closing and photographing windows, DevTools, the launcher."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

XVFB = "/usr/bin/Xvfb"
XDOTOOL = "/usr/bin/xdotool"


class Xvfb:
    """A virtual X display for one test session."""

    def __init__(self, size: str = "1280x900x24"):
        self.display = ""
        self.size = size
        self.process: subprocess.Popen | None = None

    def start(self) -> "Xvfb":
        """Start on a free display number (Xvfb picks it and writes it to -displayfd)."""
        read_end, write_end = os.pipe()
        # -nolisten tcp: reachable only through its local socket.
        self.process = subprocess.Popen([XVFB, "-displayfd", str(write_end), "-screen", "0", self.size,
                                         "-nolisten", "tcp"], pass_fds=(write_end,),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_end)
        with os.fdopen(read_end) as stream:
            number = stream.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
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


def qt_webengine_installed() -> bool:
    """True when pywebview and PySide6's Qt WebEngine are installed (requirements-gui.txt)."""
    try:
        import webview  # noqa: F401
        from PySide6 import QtWebEngineWidgets  # noqa: F401
    except ImportError:
        return False
    return True


def header_blue_share(image) -> float:
    """The share of the screen in the header's blue (static/css/app.css): the app's page shows, not a blank window."""
    blue = (0, 83, 155)
    pixels = list(image.convert("RGB").resize((320, 225)).get_flattened_data())
    return sum(1 for p in pixels if all(abs(a - b) < 12 for a, b in zip(p, blue))) / len(pixels)


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


class DevTools:
    """The window's page over Chromium's DevTools protocol (QTWEBENGINE_REMOTE_DEBUGGING), to read and click.

    Playwright cannot attach to Qt WebEngine (no browser contexts), so this speaks the protocol itself.
    """

    def __init__(self, port: int, timeout: float = 30):
        from urllib.request import urlopen

        import websocket

        deadline = time.monotonic() + timeout
        while True:
            try:
                with urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                    pages = [t for t in json.load(response) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no page on DevTools port {port}")
            time.sleep(0.2)
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0

    def evaluate(self, expression: str):
        """Run JavaScript in the page and return its (JSON) value; promises are awaited."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": "Runtime.evaluate", "params": {
            "expression": expression, "returnByValue": True, "awaitPromise": True}}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                result = message["result"]
                if "exceptionDetails" in result:
                    raise RuntimeError(result["exceptionDetails"])
                return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30):
        """Wait until the expression is truthy in the page (it may throw while the page loads)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.evaluate(f"!!({expression})"):
                    return True
            except (RuntimeError, KeyError):
                pass
            if time.monotonic() > deadline:
                where = self.evaluate("location.href + ' ' + document.title")
                raise TimeoutError(f"page never satisfied: {expression} (at {where})")
            time.sleep(0.2)

    def close(self) -> None:
        self.socket.close()


class Desktop:
    """The desktop launcher in a subprocess, on its own data folder and the test's display."""

    def __init__(self, instance: Path, display: Xvfb | None, devtools: int | None = None,
                 command: list[str] | None = None):
        self.instance, self.display, self.devtools = instance, display, devtools
        # The launcher from source by default; the packaged program when given.
        self.command = command or [sys.executable, "-m", "app.desktop"]
        self.env = {**os.environ, **(display.env() if display else {}), "PANTAU_INSTANCE_PATH": str(instance), "PANTAU_DEMO": "1",
                    "QTWEBENGINE_DISABLE_SANDBOX": "1"}
        if devtools:
            self.env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{devtools}"
        self.process: subprocess.Popen | None = None

    def launch(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen([*self.command, *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)

    def start(self) -> "Desktop":
        """Launch, wait for the window and for the page in it to have loaded."""
        self.process = self.launch()
        self.window = self.display.wait_window("Pantau KLA", timeout=90, process=self.process)
        deadline = time.monotonic() + 60
        while "desktop: window loaded" not in self.log() or not (self.instance / "desktop.json").exists():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.2)
        return self

    def log(self) -> str:
        path = self.instance / "desktop.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    @property
    def state(self) -> dict:
        return json.loads((self.instance / "desktop.json").read_text())

    def close(self, timeout: float = 30) -> int:
        """Close the window as its close button does; wait for the program to end."""
        self.display.close_window(self.window)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
