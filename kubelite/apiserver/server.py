"""Starting and stopping the API server: `await run(config)` returns a running `ApiServer` handle.

On start it opens the store, makes sure the CA, serving certificate, admin token and admin kubeconfig exist
under the data dir, creates the system namespaces, and serves HTTPS on the bind address.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from kubelite.apiserver import admission, credentials, errors, podadmission, storageadmission, tls, validation
from kubelite.apiserver.app import build_app
from kubelite.apiserver.chain import AllowAuthenticated, Chain, StaticTokenAuthenticator, UserInfo
from kubelite.apiserver.context import ServerContext
from kubelite.apiserver.limitrangecache import LimitRangeSource
from kubelite.apiserver.limitranger import LimitRanger
from kubelite.apiserver.metrics import ApiMetrics
from kubelite.apiserver.registry import Registry, Validate
from kubelite.apiserver.resource import ApiResource
from kubelite.apiserver.resourcequota import ResourceQuotaAdmission
from kubelite.apiserver.serviceaccounttoken import TokenSigner, ensure_signing_key
from kubelite.apiserver.services import bootstrap
from kubelite.apiserver.services.ranges import IPRange, PortRange
from kubelite.apiserver.services.strategy import ServiceStrategy
from kubelite.apiserver.strategies import IMMORTAL_NAMESPACES
from kubelite.apiserver.table import load_resources
from kubelite.apiserver.tokenauth import ServiceAccountTokenAuthenticator
from kubelite.store import Store, StoreError, Unavailable, open_store

log = logging.getLogger(__name__)

ADMIN = UserInfo("system:admin", "", ("system:masters", "system:authenticated"))
SYSTEM_NAMESPACES = (*IMMORTAL_NAMESPACES, "kube-node-lease")


class StartupError(Exception):
    """The server cannot start (store unreachable, port taken, unusable data dir); the message says why."""


@dataclass(frozen=True)
class ApiServerConfig:
    data_dir: Path
    bind_address: str = "127.0.0.1"
    port: int = 6443  # 0 picks a free port (tests)
    datastore_endpoint: str = ""  # default: sqlite://<data-dir>/server/db/state.db
    service_cidr: str = "10.43.0.0/16"
    service_node_port_range: str = "30000-32767"
    advertise_address: str | None = None
    tls_sans: tuple[str, ...] = ()
    watch_bookmark_interval: float = 60.0
    shutdown_timeout: float = 5.0

    @property
    def endpoint(self) -> str:
        return self.datastore_endpoint or f"sqlite://{self.data_dir / 'server' / 'db' / 'state.db'}"

    @property
    def kubernetes_service_ip(self) -> str:
        """The first address of the service range: the in-cluster `kubernetes` Service."""
        return IPRange.parse(self.service_cidr).address(0)

    @property
    def cluster_dns_ip(self) -> str | None:
        """The service range's tenth address: the cluster DNS Service's (None in a smaller range)."""
        addresses = IPRange.parse(self.service_cidr)
        return addresses.address(9) if addresses.size > 9 else None

    @property
    def endpoint_address(self) -> str:
        """The address the `kubernetes` Service's endpoints name: the advertised one, else the bound one."""
        if self.advertise_address:
            return self.advertise_address
        return "127.0.0.1" if self.bind_address in ("0.0.0.0", "::", "") else self.bind_address


@dataclass
class ApiServer:
    """A running API server."""

    config: ApiServerConfig
    url: str
    port: int
    kubeconfig_path: Path
    token: str
    ca_cert_path: Path
    store: Store
    context: ServerContext
    _runner: web.AppRunner
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> None:
        """Return once the server has stopped."""
        await self._stopped.wait()

    async def stop(self) -> None:
        if self._stopped.is_set():
            return
        server = self._runner.server
        transports = [c.transport for c in server.connections if c.transport] if server else []
        try:
            await self._runner.cleanup()
            # TLS connections otherwise wait for the peer's close_notify (up to 30 s) after we leave.
            for transport in transports:
                transport.abort()
            await asyncio.sleep(0)
        finally:
            await self.context.stop_caches()
            await self.store.close()
            self._stopped.set()


async def _bootstrap_namespaces(ctx: ServerContext) -> None:
    registry = ctx.registry("", "v1", "namespaces")
    if registry is None:
        return
    for name in SYSTEM_NAMESPACES:
        if await ctx.lookup_namespace(name) is not None:
            continue
        obj = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}}
        try:
            await registry.create(obj)
        except errors.ApiError as exc:
            if exc.reason != "AlreadyExists":  # else another server sharing the store made it first
                raise


def _service_registries(ctx: ServerContext) -> tuple[Registry, ServiceStrategy] | None:
    registry = ctx.registry("", "v1", "services")
    if registry is None or not isinstance(registry.strategy, ServiceStrategy):
        return None
    return registry, registry.strategy


async def _repair_service_reservations(ctx: ServerContext) -> None:
    found = _service_registries(ctx)
    if found is None:
        return
    try:
        await bootstrap.repair_reservations(found[0], found[1].allocator)
    except StoreError as exc:
        raise StartupError(f"cannot repair the service address reservations: {exc}") from exc


async def _bootstrap_kubernetes_service(ctx: ServerContext, config: ApiServerConfig, port: int) -> None:
    """The `kubernetes` Service; a failure is logged, not fatal (upstream keeps serving and retries)."""
    found = _service_registries(ctx)
    if found is None:
        return
    try:
        await bootstrap.ensure_kubernetes_service(
            found[0],
            ctx.registry("", "v1", "endpoints"),
            ctx.registry("discovery.k8s.io", "v1", "endpointslices"),
            cluster_ip=config.kubernetes_service_ip,
            address=config.endpoint_address,
            port=port,
        )
    except errors.ApiError as exc:
        log.error("cannot set up the kubernetes Service: %s", exc.message)


async def _bootstrap_cluster_dns_service(ctx: ServerContext, config: ApiServerConfig) -> None:
    """kube-system/kube-dns, where the nodes answer DNS; like the `kubernetes` Service, never fatal."""
    found = _service_registries(ctx)
    if found is None or (cluster_ip := config.cluster_dns_ip) is None:
        return
    try:
        await bootstrap.ensure_cluster_dns_service(found[0], found[1].allocator, cluster_ip=cluster_ip)
    except errors.ApiError as exc:
        log.error("cannot set up the kube-dns Service: %s", exc.message)


def _client_host(config: ApiServerConfig) -> str:
    if config.bind_address in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{config.bind_address}]" if ":" in config.bind_address else config.bind_address


def _prepare_files(config: ApiServerConfig) -> tuple[tls.TLSFiles, str]:
    """Certificates and the admin token under <data-dir>/server (created on the first start)."""
    server_dir = config.data_dir / "server"
    try:
        service_ip = config.kubernetes_service_ip
    except ValueError as exc:
        raise StartupError(f"invalid service CIDR {config.service_cidr!r}: {exc}") from exc
    try:
        PortRange.parse(config.service_node_port_range)
    except ValueError as exc:
        raise StartupError(f"invalid service node port range {config.service_node_port_range!r}") from exc
    names = tls.serving_names(
        bind_address=config.bind_address,
        advertise_address=config.advertise_address,
        service_ip=service_ip,
        extra=(socket.gethostname(), *config.tls_sans),
    )
    try:
        (server_dir / "db").mkdir(parents=True, exist_ok=True)
        files = tls.ensure_certificates(server_dir / "tls", names)
        token = credentials.ensure_admin_token(server_dir / "token")
    except (OSError, ValueError) as exc:
        raise StartupError(f"cannot prepare {server_dir}: {exc}") from exc
    return files, token


def _token_signer(config: ApiServerConfig) -> TokenSigner:
    """The service-account token key, next to the TLS files (created on the first start)."""
    path = config.data_dir / "server" / "tls" / "service-account.key"
    try:
        return TokenSigner(ensure_signing_key(path))
    except (OSError, ValueError) as exc:
        raise StartupError(f"cannot prepare the service-account key {path}: {exc}") from exc


async def _serve(ctx: ServerContext, config: ApiServerConfig, files: tls.TLSFiles) -> web.AppRunner:
    runner = web.AppRunner(build_app(ctx), access_log=None, shutdown_timeout=config.shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, config.bind_address, config.port, ssl_context=tls.server_ssl_context(files))
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(
            f"cannot listen on {config.bind_address}:{config.port}: {exc.strerror or exc}"
        ) from exc
    return runner


async def run(
    config: ApiServerConfig,
    *,
    resources: list[ApiResource] | None = None,
    validate: Validate | None = validation.validate,
) -> ApiServer:
    """Open the store, prepare credentials and serve. The caller owns the handle and must `stop()` it.
    Raises StartupError, with a message fit for the user, when any of that is impossible."""
    files, token = _prepare_files(config)
    signer = _token_signer(config)
    try:
        store = await open_store(config.endpoint)
    except Unavailable as exc:
        raise StartupError(str(exc)) from exc
    ctx: ServerContext | None = None
    try:
        chain = Chain(
            authenticators=[StaticTokenAuthenticator({token: ADMIN})],
            authorizers=[AllowAuthenticated()],
        )
        ctx = ServerContext(
            store=store,
            resources=resources if resources is not None else load_resources(),
            chain=chain,
            metrics=ApiMetrics(),
            server_address=f"{config.advertise_address or _client_host(config)}:{config.port}",
            bookmark_interval=config.watch_bookmark_interval,
            validate=validate,
            service_ips=IPRange.parse(config.service_cidr),
            node_ports=PortRange.parse(config.service_node_port_range),
            kubelet_client=tls.kubelet_client_context(files),
            token_signer=signer,
        )
        chain.authenticators.append(ServiceAccountTokenAuthenticator(signer, ctx))
        chain.admission.append(admission.NamespaceLifecycle(ctx.lookup_namespace))
        chain.admission.append(podadmission.ServiceAccountAdmission(ctx.lookup_service_account))
        chain.admission.append(podadmission.DefaultTolerationSeconds())
        chain.admission.append(storageadmission.DefaultStorageClass(storageadmission.store_lister(ctx)))
        chain.admission.append(storageadmission.StorageObjectInUseProtection())
        if (limit_ranges := ctx.registry("", "v1", "limitranges")) is not None:
            chain.admission.append(LimitRanger(LimitRangeSource(store, limit_ranges.resource)))
        chain.admission.append(ResourceQuotaAdmission(ctx))
        try:
            await ctx.start_caches()  # synced before anything is served
        except StoreError as exc:
            raise StartupError(f"cannot read the namespaces and service accounts: {exc}") from exc
        try:
            await _bootstrap_namespaces(ctx)
        except errors.ApiError as exc:
            raise StartupError(f"cannot create the system namespaces: {exc.message}") from exc
        await _repair_service_reservations(ctx)
        runner = await _serve(ctx, config, files)
        port = _bound_port(runner) or config.port
        await _bootstrap_kubernetes_service(ctx, config, port)
        await _bootstrap_cluster_dns_service(ctx, config)
    except BaseException:
        if ctx is not None:
            await ctx.stop_caches()
        await store.close()
        raise
    url = f"https://{_client_host(config)}:{port}"
    ctx.server_address = f"{config.advertise_address or _client_host(config)}:{port}"
    kubeconfig = config.data_dir / "kubeconfig.yaml"
    credentials.write_kubeconfig(kubeconfig, server_url=url, ca_pem=files.ca_cert.read_bytes(), token=token)
    log.info("API server listening on %s", url)
    return ApiServer(config, url, port, kubeconfig, token, files.ca_cert, store, ctx, runner)


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None
