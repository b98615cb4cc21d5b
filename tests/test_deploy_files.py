"""The compose file and the image: real CLI commands, valid settings, volumes the service user can write."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import click
import yaml
from click.testing import CliRunner

from cli.main import main
from sohoa.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]


def test_compose_services_use_real_cli_commands() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "api", "worker-ocr", "worker-sign", "worker-store"} <= services.keys()
    ours = {name: svc for name, svc in services.items() if svc.get("image", "").startswith("sohoa")}
    assert len(ours) >= 5
    ctx = click.Context(main)
    for name, svc in ours.items():
        argv = svc["command"]
        assert argv[0] == "sohoa", name
        command = main.get_command(ctx, argv[1])
        assert command is not None, f"{name}: no such command {argv[1]}"
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for arg in argv[2:]:
            if arg.startswith("--"):
                assert arg in known, f"{name}: sohoa {argv[1]} has no option {arg}"
    for name in ("postgres", "redis", "minio", "api", "worker-ocr", "worker-sign", "worker-store"):
        assert "healthcheck" in services[name], name
    assert "pki" not in str(services["worker-ocr"].get("volumes", "")), "keys must stay on sign hosts"
    assert "pki" in str(services["worker-sign"]["volumes"])
    assert set(compose["volumes"]) >= {"pgdata", "miniodata", "redisdata", "pki"}


def _sohoa_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items() if svc.get("image", "").startswith("sohoa")}


def test_every_sohoa_service_has_valid_settings_and_api_replicas_share_their_state() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    for name, svc in _sohoa_services(compose).items():
        env = {k: str(v) for k, v in svc["environment"].items()}
        settings = Settings(**_nested(env))  # raises on an unknown or invalid setting
        assert settings.workers.mode == "celery", name
    api = _nested({k: str(v) for k, v in compose["services"]["api"]["environment"].items()})
    settings = Settings(**api)
    # Replicas behind a load balancer: limits counted in Redis, one portal key on a volume they all mount.
    assert settings.api.rate_limit_redis_url and settings.api.rate_limit_redis_url.startswith("redis://redis:")
    mounts = {PurePosixPath(v.split(":")[1]): v.split(":")[0] for v in compose["services"]["api"]["volumes"]}
    assert any(settings.portal_secret_file.parent == point for point in mounts), mounts


def test_the_image_gives_every_volume_mount_point_to_the_service_user() -> None:
    """A new named volume copies its mount point's owner from the image; one the image lacks is root's."""
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    made = re.search(r"mkdir -p ([^&]+)&& chown -R sohoa /var/lib/sohoa", dockerfile)
    assert made is not None
    created = {PurePosixPath(p) for p in made[1].split()}
    for svc in _sohoa_services(compose).values():
        for volume in svc.get("volumes", []):
            point = PurePosixPath(volume.split(":")[1])
            if point.is_relative_to("/var/lib/sohoa"):
                assert point in created, volume


def test_serve_with_several_processes_needs_shared_rate_limits(tmp_path: Path) -> None:
    env = {"SOHOA_VAR_DIR": str(tmp_path), "SOHOA_WORKERS__MODE": "celery", "SOHOA_API__RATE_LIMIT_REDIS_URL": None}
    get_settings.cache_clear()  # the command reads this environment, not one cached before
    try:
        refused = CliRunner().invoke(main, ["serve", "--processes", "2"], env=env)
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 2 and "SOHOA_API__RATE_LIMIT_REDIS_URL" in refused.output
    assert not (tmp_path / "catalogue.sqlite3").exists()  # refused before anything was set up


def _nested(env: dict[str, str]) -> dict:
    """``SOHOA_A__B=v`` as Settings' keyword arguments ``{"a": {"b": "v"}}``."""
    out: dict = {}
    for key, value in env.items():
        if not key.startswith("SOHOA_") or key == "SOHOA_LOG_JSON":
            continue
        *sections, leaf = key.removeprefix("SOHOA_").lower().split("__")
        target = out
        for section in sections:
            target = target.setdefault(section, {})
        target[leaf] = value
    return out
