"""cohear's settings: one object, read from `COHEAR_*` environment variables and
an optional TOML file, with defaults that give a private, offline, single-machine service.

Precedence (highest first): environment variables, the TOML file named by
`COHEAR_CONFIG` (or `cohear.toml` in the data directory when present), defaults.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cohear.errors import SettingsError

SECRET_FIELDS = {"redis_url", "pseudonym_salt"}


@dataclass(frozen=True)
class Settings:
    """Effective configuration. Every field can be set as `COHEAR_<FIELD>`."""

    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8000
    # Whisper: a name from `cohear models list` (the verified "base" model by default).
    whisper_model: str = "base"
    whisper_device: str = "auto"  # auto | cpu | cuda
    whisper_compute_type: str = "auto"  # auto -> float16 on CUDA, int8 on CPU
    cpu_threads: int = 0  # 0: let CTranslate2 decide
    # Jobs: "sqlite" (huey on a SQLite file in the data directory) or "redis".
    job_backend: str = "sqlite"
    redis_url: str = ""
    embedded_worker: bool = True
    worker_threads: int = 1
    # False: this server's workers leave transcription to workers on other machines
    # (`cohear worker --server URL`), and run everything else.
    transcribe_locally: bool = True
    job_lease_seconds: float = 30.0
    job_max_attempts: int = 3
    # Import paths of extra modules that register job handlers (plug-ins).
    job_modules: tuple[str, ...] = ()
    # Limits that protect the service; each error message names them.
    max_request_bytes: int = 64 * 1024 * 1024
    token_ttl_days: int = 90
    pseudonym_salt: str = ""
    # Delete a voice answer's audio this many days after its transcript was verified
    # (the words stay). 0 keeps audio until a respondent withdraws or an admin deletes it.
    audio_retention_days: int = 0
    log_level: str = "info"
    # The address people reach this server at (behind a TLS proxy: https://cohear.example.nhs.uk);
    # empty: http://host:port. Used in one-time field-page links and on the front door.
    public_url: str = ""
    # The browser workspace (`cohear tui --web`) as people reach it; empty: port 8001 of
    # the host the front door was asked under.
    workspace_url: str = ""

    @property
    def base_url(self) -> str:
        """Where this server is reached: `public_url`, else http://host:port (a wildcard
        bind is shown as this machine's name)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            import socket
            host = socket.gethostname()
        return f"http://{host}:{self.port}"

    @property
    def base_url_note(self) -> str | None:
        """What to print beside a link built from `base_url` when it may not be where
        people reach this server: None once `public_url` is set. A link is shown once, so
        a wrong one must be noticed before it is sent, not when a phone fails to open it."""
        if self.public_url:
            return None
        how = ("set public_url (COHEAR_PUBLIC_URL, or public_url in cohear.toml) to the "
               "address people reach this server at, e.g. https://cohear.example.nhs.uk")
        if self.host in ("localhost", "::1") or self.host.startswith("127."):
            return ("this address only works on this computer (public_url is not set): a "
                    "phone cannot open it; " + how)
        return ("built from this machine's host and port settings (public_url is not set): "
                "if the server runs elsewhere or behind a proxy, " + how)

    def masked(self) -> dict[str, Any]:
        """The settings as plain data with secrets replaced by `***`."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @property
    def db_path(self) -> Path:
        return self.data_dir / "cohear.db"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "jobs-queue.db"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, raw: Any, target: Any, origin: str) -> Any:
    """Turn a TOML value or an environment string into the field's type."""
    try:
        if target is Path or target == "Path":
            return Path(str(raw)).expanduser()
        if target is bool or target == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _BOOL_TRUE:
                return True
            if text in _BOOL_FALSE:
                return False
            raise ValueError(f"expected true or false, got {raw!r}")
        if target is int or target == "int":
            if isinstance(raw, bool):
                raise ValueError("expected a whole number")
            return int(raw)
        if target is float or target == "float":
            return float(raw)
        if target == "tuple[str, ...]":
            if isinstance(raw, str):
                return tuple(p.strip() for p in raw.split(",") if p.strip())
            return tuple(str(p) for p in raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(
            f"setting {name!r} from {origin} is invalid: {exc}",
            fix=f"set {name} to a valid {target if isinstance(target, str) else target.__name__}",
        ) from None


_CHOICES = {
    "whisper_device": {"auto", "cpu", "cuda"},
    "whisper_compute_type": {"auto", "int8", "int8_float16", "int8_float32", "float16", "float32",
                             "bfloat16", "int16"},
    "job_backend": {"sqlite", "redis"},
    "log_level": {"critical", "error", "warning", "info", "debug"},
}


def load_settings(env: Mapping[str, str] | None = None, config_file: Path | None = None,
                  **overrides: Any) -> Settings:
    """Build the effective settings. Raises SettingsError naming the bad value and the fix."""
    env = os.environ if env is None else env
    types = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}

    data_dir_hint = env.get("COHEAR_DATA_DIR") or overrides.get("data_dir")
    path = config_file or (Path(env["COHEAR_CONFIG"]) if env.get("COHEAR_CONFIG") else None)
    if path is None and data_dir_hint:
        candidate = Path(data_dir_hint) / "cohear.toml"
        if candidate.exists():
            path = candidate
    if path is not None:
        if not path.exists():
            raise SettingsError(f"settings file {path} does not exist",
                                fix="create it, or unset COHEAR_CONFIG")
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"settings file {path} is not valid TOML: {exc}",
                                fix="correct the file (see README, 'Configuration')") from None
        doc = doc.get("cohear", doc)
        for key, raw in doc.items():
            if key not in types:
                raise SettingsError(f"settings file {path} has an unknown setting {key!r}",
                                    fix="known settings: " + ", ".join(sorted(types)))
            values[key] = _coerce(key, raw, types[key], str(path))

    for key in types:
        env_key = "COHEAR_" + key.upper()
        if env_key in env:
            values[key] = _coerce(key, env[env_key], types[key], env_key)
    for key, raw in overrides.items():
        if raw is not None:
            values[key] = _coerce(key, raw, types[key], "the command line")

    for key, allowed in _CHOICES.items():
        if key in values and values[key] not in allowed:
            raise SettingsError(f"setting {key!r} is {values[key]!r}",
                                fix=f"use one of: {', '.join(sorted(allowed))}")
    if values.get("job_backend") == "redis" and not values.get("redis_url"):
        raise SettingsError("job_backend is 'redis' but redis_url is empty",
                            fix="set COHEAR_REDIS_URL=redis://host:6379/0")
    settings = Settings(**values)
    return settings.replace(data_dir=settings.data_dir.resolve())

