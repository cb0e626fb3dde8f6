"""core/v1 PersistentVolume and PersistentVolumeClaim, with the volume sources only PVs use."""

from __future__ import annotations

from kubelite.api.schema.defs.core_pod import NodeSelector
from kubelite.api.schema.defs.core_pod_status import VolumeHealthCondition
from kubelite.api.schema.defs.core_volume import (
    AWSElasticBlockStoreVolumeSource,
    AzureDiskVolumeSource,
    FCVolumeSource,
    FlockerVolumeSource,
    GCEPersistentDiskVolumeSource,
    HostPathVolumeSource,
    NFSVolumeSource,
    ObjectReference,
    PersistentVolumeClaimSpec,
    PhotonPersistentDiskVolumeSource,
    PortworxVolumeSource,
    QuobyteVolumeSource,
    SecretReference,
    VsphereVirtualDiskVolumeSource,
)
from kubelite.api.schema.dsl import (
    api_package,
    array,
    boolean,
    int32,
    map_of,
    quantity,
    ref,
    string,
    time,
)

core = api_package("", "v1")

AzureFilePersistentVolumeSource = core.struct(
    "AzureFilePersistentVolumeSource",
    "Deprecated: an Azure File share.",
    secretName=string("Secret holding the storage account name and key.", required=True),
    shareName=string("Name of the share.", required=True),
    readOnly=boolean("Mount read-only."),
    secretNamespace=string("Namespace of the Secret; defaults to the pod's."),
)

CSIPersistentVolumeSource = core.struct(
    "CSIPersistentVolumeSource",
    "A volume managed by a CSI driver.",
    driver=string("Name of the CSI driver.", required=True),
    volumeHandle=string("ID of the volume in the driver.", required=True),
    readOnly=boolean("Publish read-only."),
    fsType=string("Filesystem type to mount."),
    volumeAttributes=map_of(string(), "Driver-specific attributes."),
    controllerPublishSecretRef=ref(SecretReference, "Secret for ControllerPublishVolume calls."),
    nodeStageSecretRef=ref(SecretReference, "Secret for NodeStageVolume calls."),
    nodePublishSecretRef=ref(SecretReference, "Secret for NodePublishVolume calls."),
    controllerExpandSecretRef=ref(SecretReference, "Secret for ControllerExpandVolume calls."),
    nodeExpandSecretRef=ref(SecretReference, "Secret for NodeExpandVolume calls."),
)

CephFSPersistentVolumeSource = core.struct(
    "CephFSPersistentVolumeSource",
    "Deprecated: a CephFS mount.",
    monitors=array(string(), "Ceph monitors.", required=True, list_type="atomic"),
    path=string("Path within the filesystem to mount; defaults to /."),
    user=string("RADOS user name."),
    secretFile=string("Path of the keyring file."),
    secretRef=ref(SecretReference, "Secret holding the keyring."),
    readOnly=boolean("Mount read-only."),
)

CinderPersistentVolumeSource = core.struct(
    "CinderPersistentVolumeSource",
    "Deprecated: an OpenStack Cinder volume.",
    volumeID=string("ID of the volume.", required=True),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
    secretRef=ref(SecretReference, "Secret with OpenStack credentials."),
)

FlexPersistentVolumeSource = core.struct(
    "FlexPersistentVolumeSource",
    "Deprecated: a volume handled by an exec-based plugin.",
    driver=string("Name of the driver.", required=True),
    fsType=string("Filesystem type to mount."),
    secretRef=ref(SecretReference, "Secret passed to the plugin."),
    readOnly=boolean("Mount read-only."),
    options=map_of(string(), "Extra options for the plugin."),
)

GlusterfsPersistentVolumeSource = core.struct(
    "GlusterfsPersistentVolumeSource",
    "Deprecated: a GlusterFS mount.",
    endpoints=string("Endpoints object naming the Glusterfs servers.", required=True),
    path=string("Glusterfs volume path.", required=True),
    readOnly=boolean("Mount read-only."),
    endpointsNamespace=string("Namespace of the Endpoints object."),
)

ISCSIPersistentVolumeSource = core.struct(
    "ISCSIPersistentVolumeSource",
    "An iSCSI disk.",
    targetPortal=string("iSCSI target portal, IP or host with port.", required=True),
    iqn=string("iSCSI qualified name of the target.", required=True),
    lun=int32("Target LUN number.", required=True),
    iscsiInterface=string("iSCSI interface name; defaults to default."),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
    portals=array(string(), "Further target portals.", list_type="atomic"),
    chapAuthDiscovery=boolean("Use CHAP authentication for discovery."),
    chapAuthSession=boolean("Use CHAP authentication for the session."),
    secretRef=ref(SecretReference, "Secret with CHAP credentials."),
    initiatorName=string("Custom iSCSI initiator name."),
)

LocalVolumeSource = core.struct(
    "LocalVolumeSource",
    "Storage directly attached to one node: a directory, a partition or a disk.",
    path=string("Full path of the storage on the node.", required=True),
    fsType=string("Filesystem type, for a block device."),
)

RBDPersistentVolumeSource = core.struct(
    "RBDPersistentVolumeSource",
    "Deprecated: a Ceph RADOS block device.",
    monitors=array(string(), "Ceph monitors.", required=True, list_type="atomic"),
    image=string("RADOS image name.", required=True),
    fsType=string("Filesystem type to mount."),
    pool=string("RADOS pool; defaults to rbd."),
    user=string("RADOS user; defaults to admin."),
    keyring=string("Path of the keyring; defaults to /etc/ceph/keyring."),
    secretRef=ref(SecretReference, "Secret holding the authentication key."),
    readOnly=boolean("Mount read-only."),
)

ScaleIOPersistentVolumeSource = core.struct(
    "ScaleIOPersistentVolumeSource",
    "Deprecated: a ScaleIO volume.",
    gateway=string("Address of the ScaleIO API gateway.", required=True),
    system=string("Name of the ScaleIO storage system.", required=True),
    secretRef=ref(SecretReference, "Secret with ScaleIO credentials.", required=True),
    sslEnabled=boolean("Use SSL to talk to the gateway."),
    protectionDomain=string("ScaleIO protection domain."),
    storagePool=string("ScaleIO storage pool."),
    storageMode=string("ThickProvisioned or ThinProvisioned."),
    volumeName=string("Name of an existing volume."),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
)

StorageOSPersistentVolumeSource = core.struct(
    "StorageOSPersistentVolumeSource",
    "Deprecated: a StorageOS volume.",
    volumeName=string("Name of the volume within its namespace."),
    volumeNamespace=string("StorageOS namespace of the volume."),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
    secretRef=ref(ObjectReference, "Secret with StorageOS credentials."),
)

VolumeNodeAffinity = core.struct(
    "VolumeNodeAffinity",
    "The nodes a volume can be used from.",
    required=ref(NodeSelector, "Nodes that can access the volume."),
)

PersistentVolumeSpec = core.struct(
    "PersistentVolumeSpec",
    "A piece of storage: where it is and how it may be used; exactly one source is set.",
    capacity=map_of(quantity(), "Size of the volume, as storage."),
    gcePersistentDisk=ref(GCEPersistentDiskVolumeSource, "Deprecated: a GCE persistent disk."),
    awsElasticBlockStore=ref(AWSElasticBlockStoreVolumeSource, "Deprecated: an AWS EBS disk."),
    hostPath=ref(HostPathVolumeSource, "A path on the node; for single-node testing."),
    glusterfs=ref(GlusterfsPersistentVolumeSource, "Deprecated: a GlusterFS mount."),
    nfs=ref(NFSVolumeSource, "An NFS export."),
    rbd=ref(RBDPersistentVolumeSource, "Deprecated: a Ceph block device."),
    iscsi=ref(ISCSIPersistentVolumeSource, "An iSCSI disk."),
    cinder=ref(CinderPersistentVolumeSource, "Deprecated: an OpenStack Cinder volume."),
    cephfs=ref(CephFSPersistentVolumeSource, "Deprecated: a CephFS mount."),
    fc=ref(FCVolumeSource, "A Fibre Channel volume."),
    flocker=ref(FlockerVolumeSource, "Deprecated: a Flocker dataset."),
    flexVolume=ref(FlexPersistentVolumeSource, "Deprecated: an exec-based plugin volume."),
    azureFile=ref(AzureFilePersistentVolumeSource, "Deprecated: an Azure File share."),
    vsphereVolume=ref(VsphereVirtualDiskVolumeSource, "Deprecated: a vSphere disk."),
    quobyte=ref(QuobyteVolumeSource, "Deprecated: a Quobyte mount."),
    azureDisk=ref(AzureDiskVolumeSource, "Deprecated: an Azure data disk."),
    photonPersistentDisk=ref(PhotonPersistentDiskVolumeSource, "Deprecated: a Photon disk."),
    portworxVolume=ref(PortworxVolumeSource, "Deprecated: a Portworx volume."),
    scaleIO=ref(ScaleIOPersistentVolumeSource, "Deprecated: a ScaleIO volume."),
    local=ref(LocalVolumeSource, "Storage attached to one node."),
    storageos=ref(StorageOSPersistentVolumeSource, "Deprecated: a StorageOS volume."),
    csi=ref(CSIPersistentVolumeSource, "A volume managed by a CSI driver."),
    accessModes=array(string(), "Ways the volume can be mounted, such as ReadWriteOnce.", list_type="atomic"),
    claimRef=ref(ObjectReference, "The claim bound to this volume.", map_type="granular"),
    persistentVolumeReclaimPolicy=string("What happens when the claim goes: Retain, Delete or Recycle."),
    storageClassName=string("StorageClass the volume belongs to."),
    mountOptions=array(string(), "Mount options, not validated.", list_type="atomic"),
    volumeMode=string("Filesystem (default) or Block."),
    nodeAffinity=ref(VolumeNodeAffinity, "Nodes the volume can be used from."),
    volumeAttributesClassName=string("VolumeAttributesClass the volume belongs to."),
)

PersistentVolumeStatus = core.struct(
    "PersistentVolumeStatus",
    "Observed state of a persistent volume.",
    phase=string("Pending, Available, Bound, Released or Failed."),
    message=string("Human-readable reason for the phase."),
    reason=string("CamelCase reason for a failure."),
    lastPhaseTransitionTime=time("When the phase last changed."),
)

PersistentVolume = core.kind(
    "PersistentVolume",
    "A piece of storage in the cluster that claims can bind to.",
    spec=ref(PersistentVolumeSpec, "Desired state of the volume."),
    status=ref(PersistentVolumeStatus, "Observed state of the volume."),
)
PersistentVolumeList = core.list_of(PersistentVolume, "A list of persistent volumes.")

ModifyVolumeStatus = core.struct(
    "ModifyVolumeStatus",
    "Progress of a change of a volume's attributes class.",
    targetVolumeAttributesClassName=string("The class being applied."),
    status=string("Pending, InProgress or Infeasible.", required=True),
)

PersistentVolumeClaimCondition = core.struct(
    "PersistentVolumeClaimCondition",
    "One condition of a claim, such as Resizing.",
    type=string("Type of the condition.", required=True),
    status=string("True, False or Unknown.", required=True),
    lastProbeTime=time("When the condition was last probed."),
    lastTransitionTime=time("When the status last changed."),
    reason=string("CamelCase reason for the last transition."),
    message=string("Human-readable details of the last transition."),
)

VolumeHealthStatus = core.struct(
    "VolumeHealthStatus",
    "Health of a volume as its CSI controller reports it.",
    healthConditions=array(
        VolumeHealthCondition,
        "Adverse conditions of the volume.",
        list_type="map",
        map_keys=("status", "reason"),
        merge_key="status",
        strategy="merge",
    ),
    lastTransitionTime=time("When the health last changed."),
)

PersistentVolumeClaimStatus = core.struct(
    "PersistentVolumeClaimStatus",
    "Observed state of a claim.",
    phase=string("Pending, Bound or Lost."),
    accessModes=array(string(), "Access modes of the bound volume.", list_type="atomic"),
    capacity=map_of(quantity(), "Capacity of the bound volume."),
    conditions=array(
        PersistentVolumeClaimCondition,
        "Current conditions of the claim.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
    allocatedResources=map_of(quantity(), "Storage allocated to the claim, possibly during a resize."),
    allocatedResourceStatuses=map_of(string(), "State of each resource's resize.", map_type="granular"),
    currentVolumeAttributesClassName=string("VolumeAttributesClass currently applied."),
    modifyVolumeStatus=ref(ModifyVolumeStatus, "Progress of an attributes class change."),
    healthStatus=ref(VolumeHealthStatus, "Health of the bound volume."),
)

PersistentVolumeClaim = core.kind(
    "PersistentVolumeClaim",
    "A request for storage, bound to one persistent volume.",
    spec=ref(PersistentVolumeClaimSpec, "The storage requested."),
    status=ref(PersistentVolumeClaimStatus, "Observed state of the claim."),
)
PersistentVolumeClaimList = core.list_of(PersistentVolumeClaim, "A list of persistent volume claims.")
