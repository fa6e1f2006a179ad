from __future__ import annotations

import json
import subprocess
from pathlib import Path

from deployments.commands import containers
from servers.commands import docker, routes
from servers.plans import Route


def test_registry_of_an_image() -> None:
    assert containers.registry_of("registry.example.com/acme/shop") == "registry.example.com"
    assert containers.registry_of("10.213.7.1:5000/lab/app") == "10.213.7.1:5000"
    assert containers.registry_of("localhost/app") == "localhost"
    assert containers.registry_of("acme/shop") is None and containers.registry_of("caddy") is None


def test_login_reads_the_password_from_stdin() -> None:
    assert containers.login("registry.example.com", "ci") == [
        "docker",
        "login",
        "--username",
        "ci",
        "--password-stdin",
        "registry.example.com",
    ]


def test_run_passes_env_names_only_and_every_value_as_one_argument() -> None:
    argv = containers.run(
        name="shop-web-v2-abc123",
        image="registry.example.com/acme/shop:v2",
        app="shop",
        role="web",
        release="7",
        env_path="/home/deploy/.panel/apps/shop/web.env",
        env_names=["API_KEY", "MODE"],
        volumes=["data:/var/lib/shop"],
        command=["bin/server", "--port", "80"],
    )
    assert argv == [
        "sh", "-c", '. "$0" && exec "$@"', "/home/deploy/.panel/apps/shop/web.env",
        "docker", "run", "--detach", "--name", "shop-web-v2-abc123", "--network", "panel",
        "--restart", "unless-stopped", "--label", "panel.app=shop", "--label", "panel.role=web",
        "--label", "panel.release=7", "--env", "API_KEY", "--env", "MODE",
        "--volume", "data:/var/lib/shop", "registry.example.com/acme/shop:v2",
        "bin/server", "--port", "80",
    ]  # fmt: skip


def test_the_env_file_keeps_any_value_exactly(tmp_path: Path) -> None:
    values = {"A": "line1\nline2", "B": 'it\'s $(x) `y` "z"', "C": "", "D": " x "}
    path = tmp_path / "env"
    path.write_bytes(containers.env_file(values))
    for name, value in values.items():
        shown = subprocess.run(
            ["sh", "-c", f'. "$0" && printf %s "${name}"', str(path)],
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert shown == value


def test_state_address_logs_stop_remove() -> None:
    assert docker.container_state("c")[:3] == ["docker", "inspect", "--format"]
    assert '"panel"' in docker.container_address("c")[3]
    assert docker.container_logs("c") == ["docker", "logs", "--tail", "30", "c"]
    assert containers.follow_logs("c", 5) == ["docker", "logs", "--follow", "--tail", "5", "c"]
    assert containers.stop("c", 10) == ["docker", "stop", "--time", "10", "c"]
    assert containers.remove("c") == ["docker", "rm", "--force", "c"]
    assert containers.list_for_app("shop")[-3:] == [
        "label=panel.app=shop",
        "--format",
        "{{.Names}}",
    ]


def test_a_new_route_goes_before_the_fallback() -> None:
    entry = routes.entries_for(Route("abc", ("shop.example.com",)), "c:80", remove=False)
    request = routes.add_route("abc", entry["panel"])  # type: ignore[arg-type]
    assert (request.method, request.path) == ("PUT", "/config/apps/http/servers/panel/routes/0")
    assert json.loads(request.body) == {
        "@id": "panel-app-abc",
        "match": [{"host": ["shop.example.com"]}],
        "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "c:80"}]}],
        "terminal": True,
    }


def test_switch_and_maintenance_requests() -> None:
    switch = routes.set_handle("abc", routes.proxy_handler("new:80"))
    assert (switch.method, switch.path) == ("PATCH", "/id/panel-app-abc/handle")
    maintenance = routes.maintenance_handler()[0]
    assert maintenance["status_code"] == 503 and "maintenance" in str(maintenance["body"])
    assert routes.set_match("abc", [{"host": ["a.example"]}]).body == b'[{"host": ["a.example"]}]'
    assert routes.delete_route("abc").method == "DELETE"


def test_tls_routes_live_on_the_443_server_and_http_redirects() -> None:
    entries = routes.entries_for(Route("abc", ("s.example",), tls=True), "c:80", remove=False)
    assert entries["panel"]["handle"] == routes.redirect_to_https_handler()  # type: ignore[index]
    request = routes.add_route("abc", entries["panel_tls"], "panel_tls")  # type: ignore[arg-type]
    assert (request.method, request.path) == ("POST", "/config/apps/http/servers/panel_tls/routes")
    assert json.loads(request.body)["@id"] == "panel-app-abc-tls"
    redirect = routes.redirect_to_https_handler()[0]
    assert redirect["status_code"] == 308
    assert redirect["headers"] == {"Location": ["https://{http.request.host}{http.request.uri}"]}


def test_build_and_image_transfer_commands() -> None:
    assert containers.build("panel-lab/site:abc", "docker/Dockerfile") == [
        "docker",
        "build",
        "--tag",
        "panel-lab/site:abc",
        "--file",
        "docker/Dockerfile",
        "-",
    ]
    assert containers.push("r.example/a:1") == ["docker", "push", "--quiet", "r.example/a:1"]
    assert containers.image_id("a:1") == [
        "docker",
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        "a:1",
    ]
    assert containers.save("a:1") == ["docker", "save", "a:1"]
    assert containers.load() == ["docker", "load", "--quiet"]


def test_build_arguments_are_named_and_their_values_come_from_a_file() -> None:
    assert containers.build("a:1", "Dockerfile", "/h/.panel/apps/a/build.env", ["B", "A"]) == [
        "sh", "-c", '. "$0" && exec "$@"', "/h/.panel/apps/a/build.env",
        "docker", "build", "--tag", "a:1", "--file", "Dockerfile",
        "--build-arg", "B", "--build-arg", "A", "-",
    ]  # fmt: skip


def test_build_secrets_are_files_that_buildkit_mounts() -> None:
    argv = containers.build(
        "a:1", "Dockerfile", secret_files={"NPM_TOKEN": "/h/.panel/apps/a/build/secret-NPM_TOKEN"}
    )
    assert argv == [
        "env", "DOCKER_BUILDKIT=1", "docker", "build", "--tag", "a:1", "--file", "Dockerfile",
        "--progress", "plain",
        "--secret", "id=NPM_TOKEN,src=/h/.panel/apps/a/build/secret-NPM_TOKEN", "-",
    ]  # fmt: skip
    odd_home = containers.build("a:1", "Dockerfile", secret_files={"T": "/home/a,b/secret-T"})
    assert odd_home[-2] == 'id=T,"src=/home/a,b/secret-T"'
