"""Bring the whole lab up or down, and describe it to tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab import debhost, engine, hosts, images, registry, services
from tests.lab.config import HOSTS, REGISTRY_ADDRESS, RUN_DIR, HostSpec
from tests.lab.debhost import DebianHost
from tests.lab.proc import LabError, read_pid, sh

STARTED_MARK = RUN_DIR / "started-host-dockerd"


@dataclass(frozen=True)
class LabHost:
    name: str
    address: str
    port: int
    user: str
    client_key: Path
    host_public_key: str
    docker_host: str
    spec: HostSpec

    def docker_env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.docker_host}


@dataclass(frozen=True)
class Lab:
    hosts: list[LabHost]
    registry: str
    registry_user: str
    registry_password: str
    redis_url: str
    s3_endpoint: str
    app_images: dict[str, str] = field(default_factory=dict)
    dbapp_image: str = ""  # reports whether it reaches DATABASE_URL and REDIS_URL (at /db)
    debian: DebianHost | None = None  # a host with its own apt and network, to upgrade


def up() -> Lab:
    if os.geteuid() != 0:
        raise LabError("The lab needs root (network namespaces, sshd, dockerd).")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    if engine.start():
        STARTED_MARK.touch()
    hosts.up_network()
    hosts.client_key()
    for host in HOSTS:
        hosts.up_host(host)
    registry.start()
    services.start_redis()
    services.start_s3()
    for receiver in services.RECEIVERS:
        services.start_receiver(receiver)
    hosts.make_small_disk()
    services.start_postgres()
    images.build_all()
    for host in HOSTS:
        for service in images.ON_HOSTS:
            images.load_into(host, images.service_image(service))
        images.load_into(host, images.POSTGRES_NEXT)
        for variant in images.APP_VARIANTS:
            images.load_into(host, images.app_image(variant))
        images.retire_stale_proxy(host)
    for variant in images.APP_VARIANTS:
        images.push_to_registry(HOSTS[0], images.app_image(variant), f"lab/app:{variant}")
    images.push_to_registry(HOSTS[0], images.service_image("dbapp"), images.DBAPP)
    debhost.up()
    return describe()


def down() -> None:
    debhost.down()
    services.stop_all()
    if hosts.small_disk_mounted():
        sh("umount", str(hosts.SMALL_DISK))
    registry.stop()
    for host in HOSTS:
        hosts.down_host(host)
    hosts.down_network()
    if STARTED_MARK.exists():
        engine.stop()
        STARTED_MARK.unlink()


def is_up() -> bool:
    return (
        all(hosts.host_up(h) for h in HOSTS)
        and registry.answers()
        and (
            read_pid(services.REDIS_PIDFILE) is not None
            and read_pid(services.S3_PIDFILE) is not None
        )
        and all(services.receiver_up(kind) for kind in services.RECEIVERS)
        and hosts.small_disk_mounted()
        and debhost.is_up()
    )


def describe() -> Lab:
    user, password = registry.credentials()
    return Lab(
        hosts=[
            LabHost(
                name=h.name,
                address=h.address,
                port=22,
                user=h.user,
                client_key=hosts.CLIENT_KEY,
                host_public_key=hosts.host_public_key(h),
                docker_host=h.docker_host,
                spec=h,
            )
            for h in HOSTS
        ],
        registry=REGISTRY_ADDRESS,
        registry_user=user,
        registry_password=password,
        redis_url=services.REDIS_URL,
        s3_endpoint=services.S3_ENDPOINT,
        app_images={v: registry.image(f"lab/app:{v}") for v in images.APP_VARIANTS},
        dbapp_image=registry.image(images.DBAPP),
        debian=debhost.describe(),
    )


def status() -> dict[str, bool]:
    report = {"docker engine": engine.running(), "registry": registry.answers()}
    for host in HOSTS:
        report[f"{host.name} ({host.address})"] = hosts.host_up(host)
    report["redis"] = read_pid(services.REDIS_PIDFILE) is not None
    report["s3"] = read_pid(services.S3_PIDFILE) is not None
    report["postgresql"] = services.postgres_pid() is not None
    report[f"{debhost.NAME} ({debhost.ADDRESS})"] = debhost.is_up()
    return report
