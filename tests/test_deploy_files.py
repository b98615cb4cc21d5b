"""The compose file: every service that runs sohoa calls a command and options the CLI really has."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from sohoa.cli import main

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
