"""The one registry of settings: name, default, help. Config loading and the README use it."""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROLES = ("field", "hub")
# A hub's sessions and CSRF tokens are only as strong as this key: 32 characters is 128 bits of hex.
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Setting:
    """One configurable value, read from the environment or the instance settings file."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    env: str | None = None

    @property
    def env_name(self) -> str:
        """The environment variable that sets this value."""
        return self.env or f"PANTAU_{self.name}"


def _bool(text: str) -> bool:
    return str(text).strip().lower() in {"1", "true", "yes", "on", "ya"}


def _role(text: str) -> str:
    if text not in ROLES:
        raise ValueError(f"ROLE must be one of {', '.join(ROLES)}, not {text!r}")
    return text


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_PATH", None, "Folder holding `settings.toml`, the generated secret key and, by default, "
            "the data. Environment only (the file it holds cannot move it). Default: `instance/` in the "
            "project; the desktop app uses the user's data folder."),
    Setting("ROLE", "field", "`field` for a device (laptop, tablet, desktop window) or `hub` for the "
            "office or central server that devices sync with.", _role),
    Setting("DATA_DIR", None, "Folder for the database, photos and exports. Default: the instance folder."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL. Default: SQLite `pantau.db` in DATA_DIR. A hub uses "
            "PostgreSQL: `postgresql+psycopg://user@host/db`.", env="DATABASE_URL"),
    Setting("SECRET_KEY", None, "Signs sessions and CSRF tokens. A field device generates one into "
            "`instance/secret_key` (mode 0600) on first start; a hub refuses to start without one of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters."),
    Setting("CSRF_TIME_LIMIT_HOURS", 12, "How long a page's form token stays valid, in hours: an auditor keeps a "
            "checklist open all day; after that the form asks to reload the page.", int),
    Setting("DEMO", False, "Demo mode: seeds Kota Serang demo data and the `demo` users, shows a DEMO banner.",
            _bool),
    Setting("SECURE_COOKIES", None, "Send session cookies over HTTPS only. Default: on for a hub, off for a "
            "field device (which serves 127.0.0.1 over plain HTTP).", _bool),
    Setting("DEFAULT_LOCALE", "id", "UI language when the user has not chosen one: `id` or `en`."),
    Setting("TIMEZONE", "Asia/Jakarta", "Time zone for dates shown to users (WIB; use Asia/Makassar or "
            "Asia/Jayapura in WITA/WIT regions)."),
    Setting("MAX_UPLOAD_MB", 25, "Largest upload accepted, in megabytes (photos, bundles, boundary files).", int),
    Setting("GPS_ACCURACY_WARN_M", 30.0, "Warn (not block) when an audit's GPS accuracy is worse than this, in metres.",
            float),
    Setting("FACILITY_DISTANCE_WARN_M", 150.0, "Warn when an audit's position is further than this from the "
            "facility's registered location, in metres.", float),
    Setting("PROXY_COUNT", 0, "How many reverse proxies (TLS) stand in front of the hub: their X-Forwarded-For, "
            "-Proto and -Host headers are then believed, so links (the enrollment QR code) say https:// and the public "
            "name, and throttling counts the real client. 0: no proxy, the headers are ignored.", int),
    Setting("FIELD_APP_RELEASE", "", "A label mixed into the installed field app's version (`/app/sw.js`): changing "
            "it makes every tablet fetch the app's files again, e.g. after a hotfix copied over the static files."),
    Setting("MBTILES", None, "An MBTiles file (raster png, jpg or webp tiles) the app serves itself at "
            "`/tiles/{z}/{x}/{y}.png` as the maps' basemap. Default: none; the maps show outlines on a plain background. "
            "Never a request to an external tile server."),
    Setting("RATELIMIT_STORAGE_URI", "database://", "Where sign-in and enrollment throttling counts attempts "
            "(Flask-Limiter storage URI). `database://`: the app's own database, so every worker process of a hub "
            "counts together; `redis://127.0.0.1:6379` keeps them in Redis instead; `memory://` counts per "
            "process (one process only)."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 5000, "How long a SQLite writer waits for the lock before failing.", int),
    Setting("SQLITE_CACHE_MB", 64, "Most memory each SQLite connection keeps for database pages (SQLite's own "
            "default is 2 MB): a hub merging large bundles writes far less with a larger cache.", int),
    Setting("CARD_CACHE_SIZE", 4096, "How many rendered checklist cards each app process keeps (about 3 KB each), "
            "so a checklist page renders only the cards that changed; 0 turns the cache off.", int),
)

SETTINGS_FILE = "settings.toml"


def load(instance_path: str, overrides: dict[str, Any] | None = None, environ=None) -> dict[str, Any]:
    """Resolve every setting: defaults, then the instance file, then the environment, then overrides."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    values.update(_read_file(Path(instance_path) / SETTINGS_FILE))
    values["INSTANCE_PATH"] = instance_path
    for setting in SETTINGS:
        if setting.env_name in environ:
            values[setting.name] = setting.parse(environ[setting.env_name])
    values.update(overrides or {})
    values["ROLE"] = _role(values["ROLE"])
    return values


def _read_file(path: Path) -> dict[str, Any]:
    """Read `settings.toml` from the instance folder, rejecting names the registry does not know."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    known = {s.name for s in SETTINGS} - {"INSTANCE_PATH"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown settings {', '.join(unknown)}")
    return data


def ensure_secret_key(values: dict[str, Any], instance_path: str) -> str:
    """Return the secret key; a field device makes one per install, a hub must be given one."""
    if values["ROLE"] == "hub":
        return _hub_secret_key(values.get("SECRET_KEY"))
    if values.get("SECRET_KEY"):
        return values["SECRET_KEY"]
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a temporary file, then linked into place: link fails if the key exists,
        # so two processes starting at once agree on one key and never read a half-written one.
        tmp = key_file.with_name(f".secret_key.{os.getpid()}")
        _write_private(tmp, secrets.token_hex(32))
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return key_file.read_text().strip()


def _hub_secret_key(key: str | None) -> str:
    """A hub's key as given; a missing or short one stops the hub with a message in both languages."""
    if not key:
        raise RuntimeError(
            "A hub needs a SECRET_KEY: set PANTAU_SECRET_KEY or SECRET_KEY in instance/settings.toml. "
            "Hub membutuhkan SECRET_KEY: atur PANTAU_SECRET_KEY atau SECRET_KEY di instance/settings.toml."
        )
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            f"The hub's SECRET_KEY is too short ({len(key)} characters): use at least {MIN_SECRET_KEY_LENGTH}, e.g. "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'. "
            f"SECRET_KEY hub terlalu pendek ({len(key)} karakter): gunakan minimal {MIN_SECRET_KEY_LENGTH}, misalnya "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'."
        )
    return key


def _write_private(path: Path, text: str) -> None:
    """Create a file only its owner can read, from the first byte (no moment it is world-readable)."""
    handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)


def markdown_table() -> str:
    """The settings as the README's table: `python -m app.settings` prints it."""
    lines = ["| Environment variable | Default | What it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = "—" if s.default is None else f"`{str(s.default).lower() if isinstance(s.default, bool) else s.default}`"
        lines.append(f"| `{s.env_name}` | {default} | {s.help} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
