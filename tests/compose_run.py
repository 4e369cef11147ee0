#!/usr/bin/env python3
"""Runs a Docker Compose file with plain `podman run`, exactly as the file says, for the tests.

    compose_run.py up   COMPOSE_FILE --project NAME --first-network ns:/run/netns/NS
                        [--standin IMAGE] [--health-timeout SECONDS]
    compose_run.py down COMPOSE_FILE --project NAME

No Docker engine runs on the test machines, and podman-compose would put the services on bridge
networks (never allowed there). This reads the file as `docker compose` does (the `.env` file
beside it, `${VAR}`, `${VAR:-default}`, `${VAR:?message}` interpolation, short volume syntax
relative to the file, file secrets mounted at /run/secrets/NAME) and starts each service in
dependency order with `podman run`: image, command, cap_add/cap_drop, devices, environment,
volumes, secrets, shm_size, `network_mode: service:X` as `--network container:<X's container>`,
and `depends_on: {X: {condition: service_healthy}}` as waiting until `podman healthcheck run`
of X succeeds. A key it does not know is an error, never silently dropped.

The only deviations, each printed when it applies:
  - the first service (the one that owns the namespace) joins --first-network, the test's own
    namespace, which stands for the Docker network;
  - `ports:` are not published (a test never publishes host ports); the test reaches them by
    routing inside its namespaces;
  - `restart:` is ignored (nothing restarts containers here);
  - an image that is not present and cannot be pulled (no registry is reachable) but is listed
    in STANDINS is replaced by --standin, a local test image that serves a small HTTP page on
    the ports the real image's web UI listens on.
Containers are named PROJECT-SERVICE and labelled; `down` removes them dependents first.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import time

import yaml

LABEL = "io.wgate.examples.project"

# Images of real consumers that the test cannot have, and the ports their web UIs listen on
# (read from the service's environment as the image itself would).
STANDINS = {
    "lscr.io/linuxserver/qbittorrent": lambda env: [env.get("WEBUI_PORT", "8080")],
    "lscr.io/linuxserver/firefox": lambda env: [env.get("CUSTOM_PORT", "3000"),
                                                env.get("CUSTOM_HTTPS_PORT", "3001")],
}

SERVICE_KEYS = {"image", "command", "cap_add", "cap_drop", "devices", "environment", "volumes",
                "secrets", "network_mode", "depends_on", "restart", "ports", "shm_size"}
TOP_KEYS = {"services", "secrets"}


def say(msg):
    print(f"compose_run: {msg}", flush=True)


def fail(msg):
    print(f"compose_run: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def read_env_file(path):
    env = {}
    if not os.path.exists(path):
        return env
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                fail(f"{path}:{n}: not KEY=VALUE")
            k, v = line.split("=", 1)
            k, v = k.strip(), v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            env[k] = v
    return env


_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, env, where):
    if isinstance(value, dict):
        return {k: interpolate(v, env, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, where) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        val = env.get(name)
        unset = val is None or (op is not None and op.startswith(":") and val == "")
        if op in (":-", "-"):
            return arg if unset else val
        if op in (":?", "?"):
            if unset:
                fail(f"{where}: {name}: {arg}")
            return val
        return "" if val is None else val

    return _VAR.sub(sub, value)


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def environment(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
        return out
    return {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in env.items()}


def depends(svc):
    d = svc.get("depends_on") or {}
    if isinstance(d, list):
        return {name: "service_started" for name in d}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in d.items()}


def order(services):
    """Services so that each comes after what it depends on or shares the namespace of."""
    done, out = set(), []

    def visit(name, stack):
        if name in done:
            return
        if name in stack:
            fail(f"dependency cycle through {name}")
        if name not in services:
            fail(f"unknown service {name}")
        svc = services[name]
        needs = list(depends(svc))
        nm = svc.get("network_mode", "")
        if nm.startswith("service:"):
            needs.append(nm[len("service:"):])
        for dep in needs:
            visit(dep, stack + [name])
        done.add(name)
        out.append(name)

    for name in services:
        visit(name, [])
    return out


def podman(*args, check=True, capture=False):
    r = subprocess.run(["podman", *args], text=True,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    if check and r.returncode != 0:
        fail(f"podman {' '.join(args[:2])} failed ({r.returncode}): {(r.stderr or '').strip()}")
    return r


def load(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(path))
    env = dict(read_env_file(os.path.join(base, ".env")))
    env.update(os.environ)  # the shell's environment wins over .env, as in docker compose
    unknown = set(doc) - TOP_KEYS
    if unknown:
        fail(f"{path}: top-level key(s) not supported: {', '.join(sorted(unknown))}")
    services = interpolate(doc.get("services") or {}, env, "services")
    secrets = interpolate(doc.get("secrets") or {}, env, "secrets")
    for name, svc in services.items():
        unknown = set(svc) - SERVICE_KEYS
        if unknown:
            fail(f"service {name}: key(s) not supported: {', '.join(sorted(unknown))}")
    return base, services, secrets


def host_path(base, p):
    return os.path.normpath(os.path.join(base, os.path.expanduser(p)))


def up(args):
    base, services, secrets = load(args.file)
    names = order(services)
    first = None
    started = []
    for name in names:
        svc = services[name]
        cname = f"{args.project}-{name}"
        cmd = ["run", "-d", "--name", cname, "--label", f"{LABEL}={args.project}"]

        nm = svc.get("network_mode")
        if nm is None:
            if first is not None:
                fail(f"service {name} has no network_mode: it would be on a bridge network "
                     f"(only {first} may own the namespace here)")
            first = name
            cmd += ["--network", args.first_network]
            say(f"deviation: {name} joins {args.first_network} (the test's namespace stands "
                f"for the Docker network)")
        elif nm.startswith("service:"):
            cmd += ["--network", f"container:{args.project}-{nm[len('service:'):]}"]
        elif nm == "none":
            cmd += ["--network", "none"]
        else:
            fail(f"service {name}: network_mode {nm!r} is not allowed in the tests")

        for c in as_list(svc.get("cap_add")):
            cmd += ["--cap-add", str(c)]
        for c in as_list(svc.get("cap_drop")):
            cmd += ["--cap-drop", str(c)]
        for d in as_list(svc.get("devices")):
            cmd += ["--device", str(d)]
        if "shm_size" in svc:
            cmd += ["--shm-size", str(svc["shm_size"])]
        env = environment(svc)
        for k, v in env.items():
            cmd += ["-e", f"{k}={v}"]
        for v in as_list(svc.get("volumes")):
            if not isinstance(v, str):
                fail(f"service {name}: only the short volume syntax is supported")
            parts = v.split(":")
            if len(parts) < 2 or not parts[0].startswith((".", "/", "~")):
                fail(f"service {name}: volume {v!r}: only bind mounts are supported")
            src = host_path(base, parts[0])
            os.makedirs(src, exist_ok=True)  # docker creates a missing bind source as a folder
            cmd += ["-v", ":".join([src] + parts[1:])]
        for s in as_list(svc.get("secrets")):
            if not isinstance(s, str):
                fail(f"service {name}: only the short secrets syntax is supported")
            spec = secrets.get(s)
            if not spec or "file" not in spec:
                fail(f"service {name}: secret {s} has no top-level `file:`")
            src = host_path(base, spec["file"])
            if not os.path.isfile(src):
                fail(f"secret {s}: {src} does not exist")
            cmd += ["-v", f"{src}:/run/secrets/{s}:ro"]
        if svc.get("ports"):
            say(f"deviation: {name}: ports {', '.join(map(str, svc['ports']))} not published "
                f"(never on the host here; reached by routing in the test's namespaces)")
        if "restart" in svc:
            say(f"deviation: {name}: restart: {svc['restart']} ignored")

        image = svc.get("image")
        if not image:
            fail(f"service {name} has no image")
        command = svc.get("command")
        command = shlex.split(command) if isinstance(command, str) else [str(c) for c in as_list(command)]
        if podman("image", "exists", image, check=False).returncode != 0:
            repo = image.rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image
            if repo not in STANDINS or not args.standin:
                fail(f"service {name}: image {image} is not present and no registry is reachable")
            ports = STANDINS[repo](env)
            say(f"deviation: {name}: {image} is not present (no registry reachable): "
                f"{args.standin} stands in, serving HTTP on {', '.join(ports)}")
            cmd += ["-e", f"STANDIN_NAME={name}", "-e", f"STANDIN_PORTS={' '.join(ports)}"]
            image = args.standin
            if command:
                say(f"deviation: {name}: command {command} dropped with the image")
                command = []

        for dep, cond in depends(svc).items():
            if cond == "service_healthy":
                wait_healthy(f"{args.project}-{dep}", args.health_timeout)
            elif cond != "service_started":
                fail(f"service {name}: depends_on condition {cond} is not supported")

        cmd += [image] + command
        say("podman " + " ".join(shlex.quote(c) for c in cmd))
        podman(*cmd, capture=True)
        started.append(cname)
    say(f"up: {', '.join(started)}")


def wait_healthy(cname, timeout):
    start = time.monotonic()
    while True:
        r = podman("healthcheck", "run", cname, check=False, capture=True)
        if r.returncode == 0:
            say(f"{cname} healthy after {time.monotonic() - start:.1f} s")
            return
        state = podman("inspect", "--format", "{{.State.Status}}", cname, check=False,
                       capture=True).stdout.strip()
        if state not in ("running", "created"):
            fail(f"{cname} is {state or 'gone'}, never became healthy")
        if time.monotonic() - start > timeout:
            fail(f"{cname} not healthy within {timeout} s")
        time.sleep(0.2)


def down(args):
    _, services, _ = load(args.file)
    for name in reversed(order(services)):
        cname = f"{args.project}-{name}"
        if podman("container", "exists", cname, check=False).returncode == 0:
            podman("rm", "-f", "-v", "-t", "0", cname, check=False, capture=True)
            say(f"removed {cname}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("verb", choices=["up", "down"])
    p.add_argument("file")
    p.add_argument("--project", required=True)
    p.add_argument("--first-network", default=None)
    p.add_argument("--standin", default=None)
    p.add_argument("--health-timeout", type=float, default=60)
    args = p.parse_args()
    if args.verb == "up":
        if not args.first_network or not args.first_network.startswith("ns:"):
            fail("up needs --first-network ns:/run/netns/NAME")
        up(args)
    else:
        down(args)


if __name__ == "__main__":
    main()
