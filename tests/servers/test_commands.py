from __future__ import annotations

import json

import pytest

from servers.commands import docker, host, proxy
from servers.operations import check


def test_facts_is_one_fixed_script() -> None:
    argv = host.facts()
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3 and "\n" not in argv[2]
    assert "os_id=" in argv[2] and "docker_server=" in argv[2]


def test_parse_facts_reads_key_value_lines_and_sizes_in_bytes() -> None:
    output = "os=Debian GNU/Linux 12\nnoise\ncpus=2\n=x\nmemory_kib=2048\ndisk_kib=10 4\n"
    assert host.parse_facts(output) == {
        "os": "Debian GNU/Linux 12",
        "cpus": "2",
        "memory_bytes": 2048 * 1024,
        "disk_total_bytes": 10 * 1024,
        "disk_free_bytes": 4 * 1024,
    }


def test_shell_passes_the_command_as_one_argument() -> None:
    assert host.shell("uptime; df -h") == ["sh", "-c", "uptime; df -h"]


def test_docker_install_uses_sudo_only_for_non_root() -> None:
    as_root = docker.install(sudo=False)
    assert as_root[:2] == ["sh", "-c"] and "apt-get install -y -qq docker.io" in as_root[2]
    assert docker.install(sudo=True)[:3] == ["sudo", "-n", "--"]


def test_adding_the_user_to_the_docker_group_ends_options_before_the_name() -> None:
    assert docker.add_user_to_docker_group("deploy", sudo=True) == [
        "sudo",
        "-n",
        "--",
        "usermod",
        "--append",
        "--groups",
        "docker",
        "--",
        "deploy",
    ]


def test_network_commands() -> None:
    assert docker.network_inspect() == [
        "docker",
        "network",
        "inspect",
        "--format",
        "{{.Name}}",
        "panel",
    ]
    assert docker.network_create() == ["docker", "network", "create", "--driver", "bridge", "panel"]


def test_proxy_create_publishes_the_admin_api_on_loopback_only() -> None:
    argv = proxy.create("caddy:2", "/home/deploy/.panel/proxy/caddy.json")
    assert argv == [
        "docker", "create",
        "--name", "panel-proxy",
        "--network", "panel",
        "--restart", "unless-stopped",
        "--publish", "80:80",
        "--publish", "443:443",
        "--publish", "443:443/udp",
        "--publish", "127.0.0.1:2019:2019",
        "--volume", "panel-proxy-config:/config",
        "--volume", "panel-proxy-data:/data",
        "--volume", "/home/deploy/.panel/proxy/caddy.json:/etc/caddy/panel.json:ro",
        "--label", f"panel.proxy-config={proxy.config_hash('caddy:2')}",
        "--label", "panel.role=proxy",
        "caddy:2",
        "caddy", "run", "--resume", "--config", "/etc/caddy/panel.json",
    ]  # fmt: skip


def test_proxy_config_hash_changes_with_the_image() -> None:
    assert proxy.config_hash("caddy:2") != proxy.config_hash("caddy:2.8")
    assert proxy.config_hash("caddy:2") == proxy.config_hash("caddy:2")


def test_initial_proxy_config_limits_the_admin_api_origins() -> None:
    config = json.loads(proxy.config_json())
    assert config["admin"]["origins"] == ["127.0.0.1:2019", "localhost:2019"]
    assert config["apps"]["http"]["servers"]["panel"]["routes"] == [proxy.fallback_route()]


def test_proxy_inspect_start_remove() -> None:
    # Nothing and no error when there is no proxy yet: the job log shows no false alarm.
    assert proxy.inspect()[:2] == ["sh", "-c"] and proxy.inspect()[3] == "panel-proxy"
    assert proxy.start() == ["docker", "start", "panel-proxy"]
    assert proxy.rename("panel-proxy", "panel-proxy-previous") == [
        "docker", "rename", "panel-proxy", "panel-proxy-previous"
    ]  # fmt: skip
    assert proxy.remove() == ["docker", "rm", "--force", "panel-proxy"]


def test_the_https_server_and_certificate_issuer() -> None:
    assert proxy.https_server()["listen"] == [":443"]
    assert proxy.https_server()["automatic_https"] == {"disable_redirects": True}
    assert proxy.tls_automation("internal") == {
        "automation": {"policies": [{"issuers": [{"module": "internal"}]}]}
    }


@pytest.mark.parametrize(
    ("facts", "buildkit"),
    [
        ({"buildx": "v0.13.1", "docker_client": "26.1.5"}, "buildx v0.13.1"),
        ({"buildx": "", "docker_client": "20.10.24+dfsg1"}, "built into docker 20.10.24+dfsg1"),
        ({"buildx": "", "docker_client": "27.5.1"}, ""),
        ({"buildx": "", "docker_client": ""}, ""),
    ],
)
def test_buildkit_is_buildx_or_an_older_client_with_it_built_in(
    facts: dict[str, str], buildkit: str
) -> None:
    assert check.buildkit_of(facts) == buildkit
