"""core/v1 containers: Container and everything nested in it (env, probes, lifecycle, security, resources)."""

from __future__ import annotations

from typing import Any

from kubelite.api.schema.dsl import (
    api_package,
    array,
    boolean,
    int32,
    int64,
    int_or_string,
    map_of,
    quantity,
    ref,
    string,
)

core = api_package("", "v1")

ContainerPort = core.struct(
    "ContainerPort",
    "A network port a container listens on.",
    name=string("IANA service name of the port, unique in the pod, that Services can refer to."),
    hostPort=int32("Port to expose on the host too; most containers do not need this."),
    containerPort=int32("Port number on the pod's IP address, 1-65535.", required=True),
    protocol=string("Protocol of the port: TCP (default), UDP or SCTP.", default="TCP"),
    hostIP=string("Host IP to bind the host port to."),
)

ContainerResizePolicy = core.struct(
    "ContainerResizePolicy",
    "How a container reacts when one of its resources is resized in place.",
    resourceName=string("Resource the policy applies to: cpu or memory.", required=True),
    restartPolicy=string("NotRequired (default) or RestartContainer.", required=True),
)

ContainerRestartRuleOnExitCodes = core.struct(
    "ContainerRestartRuleOnExitCodes",
    "Matches a container exit by its exit code.",
    operator=string("In or NotIn: whether the exit code must be among the values.", required=True),
    values=array(int32(), "Exit codes to compare with.", list_type="set"),
)

ContainerRestartRule = core.struct(
    "ContainerRestartRule",
    "What to do when a container exits in a given way.",
    action=string("Action when the rule matches; only Restart exists.", required=True),
    exitCodes=ref(ContainerRestartRuleOnExitCodes, "The exit codes the rule matches."),
)

ConfigMapEnvSource = core.struct(
    "ConfigMapEnvSource",
    "A ConfigMap whose keys become environment variables.",
    name=string("Name of the ConfigMap, in the pod's namespace."),
    optional=boolean("Start the container even if the ConfigMap does not exist."),
)

SecretEnvSource = core.struct(
    "SecretEnvSource",
    "A Secret whose keys become environment variables.",
    name=string("Name of the Secret, in the pod's namespace."),
    optional=boolean("Start the container even if the Secret does not exist."),
)

EnvFromSource = core.struct(
    "EnvFromSource",
    "A ConfigMap or Secret to take a set of environment variables from.",
    prefix=string("Prefix prepended to every key taken from the source."),
    configMapRef=ref(ConfigMapEnvSource, "The ConfigMap to read."),
    secretRef=ref(SecretEnvSource, "The Secret to read."),
)

ConfigMapKeySelector = core.struct(
    "ConfigMapKeySelector",
    "One key of a ConfigMap.",
    atomic=True,
    name=string("Name of the ConfigMap."),
    key=string("The key to read.", required=True),
    optional=boolean("Tolerate a missing ConfigMap or key."),
)

ObjectFieldSelector = core.struct(
    "ObjectFieldSelector",
    "A field of the pod object, such as metadata.name or status.podIP.",
    atomic=True,
    apiVersion=string("Version of the schema the path is written in; defaults to v1."),
    fieldPath=string("Path of the field to select.", required=True),
)

ResourceFieldSelector = core.struct(
    "ResourceFieldSelector",
    "A resource request or limit of a container, such as limits.cpu.",
    atomic=True,
    containerName=string("Container whose resources are read; required for volumes."),
    resource=string("The resource to read, such as requests.memory.", required=True),
    divisor=quantity("Unit the value is expressed in; defaults to 1."),
)

SecretKeySelector = core.struct(
    "SecretKeySelector",
    "One key of a Secret.",
    atomic=True,
    name=string("Name of the Secret."),
    key=string("The key to read.", required=True),
    optional=boolean("Tolerate a missing Secret or key."),
)

EnvVarSource = core.struct(
    "EnvVarSource",
    "Where an environment variable's value comes from; exactly one source is set.",
    fieldRef=ref(ObjectFieldSelector, "A field of the pod."),
    resourceFieldRef=ref(ResourceFieldSelector, "A resource limit or request of a container."),
    configMapKeyRef=ref(ConfigMapKeySelector, "A key of a ConfigMap."),
    secretKeyRef=ref(SecretKeySelector, "A key of a Secret."),
)

EnvVar = core.struct(
    "EnvVar",
    "One environment variable of a container.",
    name=string("Name of the variable.", required=True),
    value=string("Value, in which $(VAR) references to earlier variables are expanded."),
    valueFrom=ref(EnvVarSource, "Source of the value, when value is empty."),
)

ExecAction = core.struct(
    "ExecAction",
    "Runs a command inside the container; exit status 0 means success.",
    command=array(string(), "Command line to run, not in a shell.", list_type="atomic"),
)

HTTPHeader = core.struct(
    "HTTPHeader",
    "A header to send with an HTTP probe.",
    name=string("Header name.", required=True),
    value=string("Header value.", required=True),
)

HTTPGetAction = core.struct(
    "HTTPGetAction",
    "An HTTP GET request; a status from 200 to 399 means success.",
    path=string("Path to request."),
    port=int_or_string("Port number or name to connect to.", required=True),
    host=string("Host to connect to; defaults to the pod IP."),
    scheme=string("HTTP (default) or HTTPS."),
    httpHeaders=array(HTTPHeader, "Extra request headers.", list_type="atomic"),
    protocol=string("HTTP protocol version to use."),
)

SleepAction = core.struct(
    "SleepAction",
    "Waits for a number of seconds.",
    seconds=int64("Seconds to sleep.", required=True),
)

TCPSocketAction = core.struct(
    "TCPSocketAction",
    "Opens a TCP connection; connecting means success.",
    port=int_or_string("Port number or name to connect to.", required=True),
    host=string("Host to connect to; defaults to the pod IP."),
)

GRPCAction = core.struct(
    "GRPCAction",
    "Calls the standard gRPC health checking service.",
    port=int32("Port number of the gRPC service.", required=True),
    service=string("Service name sent in the health check request."),
    mode=string("Health check mode to use."),
)

LifecycleHandler = core.struct(
    "LifecycleHandler",
    "An action run at a container lifecycle hook; exactly one action is set.",
    exec=ref(ExecAction, "Run a command in the container."),
    httpGet=ref(HTTPGetAction, "Send an HTTP GET request."),
    tcpSocket=ref(TCPSocketAction, "Deprecated: open a TCP connection."),
    sleep=ref(SleepAction, "Sleep for a while."),
)

Lifecycle = core.struct(
    "Lifecycle",
    "Actions taken right after a container starts and right before it stops.",
    postStart=ref(LifecycleHandler, "Runs right after the container is created."),
    preStop=ref(LifecycleHandler, "Runs before the container is terminated."),
    stopSignal=string("Signal sent to stop the container, such as SIGTERM."),
)

Probe = core.struct(
    "Probe",
    "A periodic health check of a container.",
    exec=ref(ExecAction, "Run a command in the container."),
    httpGet=ref(HTTPGetAction, "Send an HTTP GET request."),
    tcpSocket=ref(TCPSocketAction, "Open a TCP connection."),
    grpc=ref(GRPCAction, "Call a gRPC health service."),
    initialDelaySeconds=int32("Seconds after the container starts before the first probe."),
    timeoutSeconds=int32("Seconds before a probe times out; defaults to 1."),
    periodSeconds=int32("Seconds between probes; defaults to 10."),
    successThreshold=int32("Consecutive successes that count as healthy again; defaults to 1."),
    failureThreshold=int32("Consecutive failures that count as failed; defaults to 3."),
    terminationGracePeriodSeconds=int64("Grace period used when a failed probe kills the container."),
)

ResourceClaim = core.struct(
    "ResourceClaim",
    "A dynamic resource claim of the pod that a container uses.",
    name=string("Name of an entry of the pod's spec.resourceClaims.", required=True),
    request=string("Only the request of this name within the claim."),
)

ResourceRequirements = core.struct(
    "ResourceRequirements",
    "Compute resources requested and limited.",
    limits=map_of(quantity(), "Most of each resource that may be used."),
    requests=map_of(quantity(), "Amount of each resource to reserve; defaults to the limits."),
    claims=array(
        ResourceClaim,
        "Dynamic resource claims used, by name.",
        list_type="map",
        map_keys=("name",),
    ),
)

AppArmorProfile = core.struct(
    "AppArmorProfile",
    "The AppArmor profile to run with.",
    type=string("RuntimeDefault, Localhost or Unconfined.", required=True),
    localhostProfile=string("Name of a profile loaded on the node, for type Localhost."),
)

Capabilities = core.struct(
    "Capabilities",
    "POSIX capabilities to add to or drop from a container.",
    add=array(string(), "Capabilities to add.", list_type="atomic"),
    drop=array(string(), "Capabilities to drop.", list_type="atomic"),
)

SELinuxOptions = core.struct(
    "SELinuxOptions",
    "SELinux labels to apply.",
    user=string("SELinux user label."),
    role=string("SELinux role label."),
    type=string("SELinux type label."),
    level=string("SELinux level label."),
)

SeccompProfile = core.struct(
    "SeccompProfile",
    "The seccomp profile to run with.",
    type=string("RuntimeDefault, Localhost or Unconfined.", required=True),
    localhostProfile=string("Path of a profile on the node, for type Localhost."),
)

WindowsSecurityContextOptions = core.struct(
    "WindowsSecurityContextOptions",
    "Windows-specific security options.",
    gmsaCredentialSpecName=string("Name of the GMSA credential spec to use."),
    gmsaCredentialSpec=string("Contents of the GMSA credential spec."),
    runAsUserName=string("Windows user to run the entrypoint as."),
    hostProcess=boolean("Run as a host process container."),
)

CgroupOptions = core.struct(
    "CgroupOptions",
    "Access of a container to its cgroup filesystem.",
    mountMode=string("ReadOnly or ReadWrite: how the cgroup filesystem is mounted."),
)

SecurityContext = core.struct(
    "SecurityContext",
    "Security settings of a container; they override the pod's where both are set.",
    capabilities=ref(Capabilities, "Capabilities to add and drop."),
    privileged=boolean("Run privileged, like root on the host."),
    seLinuxOptions=ref(SELinuxOptions, "SELinux context of the container."),
    windowsOptions=ref(WindowsSecurityContextOptions, "Windows-specific settings."),
    runAsUser=int64("UID to run the entrypoint as."),
    runAsGroup=int64("GID to run the entrypoint as."),
    runAsNonRoot=boolean("Refuse to start if the container would run as UID 0."),
    readOnlyRootFilesystem=boolean("Mount the root filesystem read-only."),
    allowPrivilegeEscalation=boolean("Whether a process may gain more privileges than its parent."),
    procMount=string("Kind of /proc mount: Default or Unmasked."),
    seccompProfile=ref(SeccompProfile, "Seccomp profile of the container."),
    appArmorProfile=ref(AppArmorProfile, "AppArmor profile of the container."),
    cgroupOptions=ref(CgroupOptions, "Access to the cgroup filesystem, on cgroup v2 nodes."),
)

VolumeDevice = core.struct(
    "VolumeDevice",
    "A raw block device of a volume, mapped into a container.",
    name=string("Name of a persistentVolumeClaim volume of the pod.", required=True),
    devicePath=string("Path inside the container the device is mapped to.", required=True),
)

VolumeMount = core.struct(
    "VolumeMount",
    "A volume mounted into a container's filesystem.",
    name=string("Name of the volume.", required=True),
    readOnly=boolean("Mount read-only."),
    recursiveReadOnly=string("Whether read-only applies to submounts: Disabled, IfPossible or Enabled."),
    mountPath=string("Path in the container to mount at; must not contain ':'.", required=True),
    subPath=string("Path within the volume to mount instead of its root."),
    mountPropagation=string("How mounts propagate: None, HostToContainer or Bidirectional."),
    subPathExpr=string("Like subPath, with $(VAR) references to the container's environment expanded."),
    bindMountOptions=array(string(), "Extra options for the bind mount.", list_type="set"),
)


def _container_fields() -> dict[str, Any]:  # Any: splatted next to the `atomic` keyword
    """Fields shared by Container and EphemeralContainer (upstream's EphemeralContainerCommon)."""
    return dict(
        name=string("Name of the container, a DNS label unique in the pod.", required=True),
        image=string("Container image name."),
        command=array(
            string(), "Entrypoint, not run in a shell; defaults to the image's.", list_type="atomic"
        ),
        args=array(string(), "Arguments to the entrypoint; defaults to the image's CMD.", list_type="atomic"),
        workingDir=string("Working directory; defaults to the image's."),
        ports=array(
            ContainerPort,
            "Ports the container exposes; informational.",
            list_type="map",
            map_keys=("containerPort", "protocol"),
            merge_key="containerPort",
            strategy="merge",
        ),
        envFrom=array(EnvFromSource, "Sources of sets of environment variables.", list_type="atomic"),
        env=array(
            EnvVar,
            "Environment variables to set.",
            list_type="map",
            map_keys=("name",),
            merge_key="name",
            strategy="merge",
        ),
        resources=ref(ResourceRequirements, "Compute resources the container needs."),
        resizePolicy=array(ContainerResizePolicy, "How each resource may be resized.", list_type="atomic"),
        restartPolicy=string("Per-container restart policy; Always on an init container makes a sidecar."),
        restartPolicyRules=array(
            ContainerRestartRule, "Rules deciding whether an exited container restarts.", list_type="atomic"
        ),
        volumeMounts=array(
            VolumeMount,
            "Volumes mounted into the container.",
            list_type="map",
            map_keys=("mountPath",),
            merge_key="mountPath",
            strategy="merge",
        ),
        volumeDevices=array(
            VolumeDevice,
            "Block devices mapped into the container.",
            list_type="map",
            map_keys=("devicePath",),
            merge_key="devicePath",
            strategy="merge",
        ),
        livenessProbe=ref(Probe, "Restarts the container when it fails."),
        readinessProbe=ref(Probe, "Removes the pod from service endpoints while it fails."),
        startupProbe=ref(Probe, "Holds the other probes until it succeeds once."),
        lifecycle=ref(Lifecycle, "Actions at container start and stop."),
        terminationMessagePath=string("File whose contents become the termination message."),
        terminationMessagePolicy=string("File (default) or FallbackToLogsOnError."),
        imagePullPolicy=string("Always, Never or IfNotPresent."),
        securityContext=ref(SecurityContext, "Security settings of the container."),
        stdin=boolean("Keep a stdin buffer open for the container."),
        stdinOnce=boolean("Close stdin after the first attached client disconnects."),
        tty=boolean("Allocate a TTY; needs stdin too."),
    )


Container = core.struct(
    "Container",
    "An application container run in a pod.",
    **_container_fields(),
)

EphemeralContainer = core.struct(
    "EphemeralContainer",
    "A temporary container added to a running pod, for example to debug it.",
    **_container_fields(),
    targetContainerName=string("Container whose namespaces (process and so on) this one joins."),
)
