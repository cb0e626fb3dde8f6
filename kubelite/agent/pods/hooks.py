"""postStart and preStop hooks: exec, httpGet and sleep handlers, as upstream's lifecycle handler runner.

`run_hook` returns None on success or the message for the FailedPostStartHook / FailedPreStopHook event;
on a failed postStart the pod loop kills the container. Like upstream, an httpGet hook fails only when no
response comes back (any status code will do), and an HTTPS hook that gets a plain HTTP answer is retried
over HTTP. The whole hook is bounded by `timeout` (for preStop, the pod's remaining grace period); a sleep
hook cut short by it is not a failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

from kubelite.agent.pods.actions import (
    HOOK_USER_AGENT,
    JSON,
    PLAIN_HTTP_ANSWER,
    ActionError,
    Connect,
    ExecRuntime,
    connect,
    http_get,
    http_get_action,
    run_exec,
)


async def run_hook(
    runtime: ExecRuntime,
    handler: JSON,
    *,
    container_id: str,
    netns_path: str | None,
    pod_ip: str,
    timeout: float,  # noqa: ASYNC109
    pod: JSON | None = None,
    container: JSON | None = None,
    connect_to: Connect = connect,
) -> str | None:
    """Run one lifecycle handler. With `pod` and `container` the message names them as upstream's does, and
    httpGet ports may be container port names."""
    name = (container or {}).get("name", "")
    meta = (pod or {}).get("metadata") or {}
    pod_name = f"{meta.get('name', '')}_{meta.get('namespace', '')}({meta.get('uid', '')})"
    where = f'for Container "{name}" in Pod "{pod_name}"'
    if "exec" in handler:
        command = list((handler["exec"] or {}).get("command") or ())
        try:
            code, output = await run_exec(runtime, container_id, command, timeout)
        except ActionError as exc:
            error, output = str(exc), ""
        except Exception as exc:  # the runtime could not exec at all
            error, output = str(exc) or type(exc).__name__, ""
        else:
            if code == 0:
                return None
            error = f"command '{' '.join(command)}' exited with {code}: "
        quoted = json.dumps(output, ensure_ascii=False)
        return (
            f"Exec lifecycle hook ([{' '.join(command)}]) {where} failed - error: {error}, message: {quoted}"
        )
    if "httpGet" in handler:
        action = handler["httpGet"] or {}
        try:
            await _http_hook(action, container, netns_path, pod_ip, timeout, connect_to)
        except ActionError as exc:
            return f"HTTP lifecycle hook ({action.get('path', '')}) {where} failed - error: {exc}"
        return None
    if "sleep" in handler:
        seconds = float((handler["sleep"] or {}).get("seconds") or 0)
        await asyncio.sleep(max(0.0, min(seconds, timeout)))
        return None
    return f"Lifecycle hook {where} failed - error: no handler given"


async def _http_hook(
    action: JSON,
    container: JSON | None,
    netns_path: str | None,
    pod_ip: str,
    timeout: float,  # noqa: ASYNC109
    connect_to: Connect,
) -> None:
    request = http_get_action(action, container, pod_ip)
    try:
        await http_get(
            request, netns_path=netns_path, timeout=timeout, user_agent=HOOK_USER_AGENT, connect_to=connect_to
        )
    except ActionError as exc:
        # Upstream retries an HTTPS hook over HTTP when the server answered in plain HTTP.
        if request.scheme != "https" or not str(exc).endswith(PLAIN_HTTP_ANSWER):
            raise
        plain = dataclasses.replace(request, scheme="http")
        await http_get(
            plain, netns_path=netns_path, timeout=timeout, user_agent=HOOK_USER_AGENT, connect_to=connect_to
        )
