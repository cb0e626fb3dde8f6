"""core/v1 object references and pod volumes: Volume with every upstream source, projections, claim templates.

The in-tree cloud volume types are long deprecated and kubelite mounts none of them, but they stay part of
the schema so that objects using them are stored and served unchanged.
"""

from __future__ import annotations

from kubelite.api.schema.defs.core_container import ObjectFieldSelector, ResourceFieldSelector
from kubelite.api.schema.defs.meta import LabelSelector
from kubelite.api.schema.dsl import (
    OBJECT_META,
    api_package,
    array,
    boolean,
    int32,
    int64,
    map_of,
    quantity,
    ref,
    string,
)

core = api_package("", "v1")

LocalObjectReference = core.struct(
    "LocalObjectReference",
    "Names an object in the same namespace.",
    atomic=True,
    name=string("Name of the object."),
)

ObjectReference = core.struct(
    "ObjectReference",
    "Points at any object, or at a field inside one.",
    atomic=True,
    kind=string("Kind of the object."),
    namespace=string("Namespace of the object."),
    name=string("Name of the object."),
    uid=string("UID of the object."),
    apiVersion=string("API version of the object."),
    resourceVersion=string("Specific resourceVersion of the object, if any."),
    fieldPath=string("Path of a field inside the object, such as spec.containers{name}."),
)

SecretReference = core.struct(
    "SecretReference",
    "Names a Secret, possibly in another namespace.",
    atomic=True,
    name=string("Name of the Secret."),
    namespace=string("Namespace of the Secret."),
)

KeyToPath = core.struct(
    "KeyToPath",
    "Maps one key of a ConfigMap or Secret to a file path in a volume.",
    key=string("The key to project.", required=True),
    path=string("Relative path of the file; must not contain '..'.", required=True),
    mode=int32("Permission bits of the file, 0000 to 0777."),
    user=int64("UID owning the file."),
)

TypedLocalObjectReference = core.struct(
    "TypedLocalObjectReference",
    "Names an object of a given kind in the same namespace.",
    atomic=True,
    apiGroup=string("API group of the object; empty for the core group."),
    kind=string("Kind of the object.", required=True),
    name=string("Name of the object.", required=True),
)

TypedObjectReference = core.struct(
    "TypedObjectReference",
    "Names an object of a given kind, possibly in another namespace.",
    apiGroup=string("API group of the object; empty for the core group."),
    kind=string("Kind of the object.", required=True),
    name=string("Name of the object.", required=True),
    namespace=string("Namespace of the object; defaults to the referring object's."),
)

VolumeResourceRequirements = core.struct(
    "VolumeResourceRequirements",
    "Storage requested and limited for a volume.",
    limits=map_of(quantity(), "Most storage that may be used."),
    requests=map_of(quantity(), "Least storage the volume must provide."),
)

PersistentVolumeClaimSpec = core.struct(
    "PersistentVolumeClaimSpec",
    "The storage a claim asks for.",
    accessModes=array(string(), "Access modes wanted, such as ReadWriteOnce.", list_type="atomic"),
    selector=ref(LabelSelector, "Labels the bound volume must have."),
    resources=ref(VolumeResourceRequirements, "Storage size requested."),
    volumeName=string("Binds to this PersistentVolume."),
    storageClassName=string("StorageClass the volume must come from."),
    volumeMode=string("Filesystem (default) or Block."),
    dataSource=ref(TypedLocalObjectReference, "Existing object, snapshot or claim, to fill the volume from."),
    dataSourceRef=ref(TypedObjectReference, "Object to fill the volume from, possibly a custom populator."),
    volumeAttributesClassName=string("VolumeAttributesClass used to set the volume's attributes."),
)

PersistentVolumeClaimTemplate = core.struct(
    "PersistentVolumeClaimTemplate",
    "A template for the PersistentVolumeClaim of an ephemeral volume.",
    metadata=ref(OBJECT_META, "Labels and annotations copied into the claim."),
    spec=ref(PersistentVolumeClaimSpec, "Spec of the claim to create.", required=True),
)

AWSElasticBlockStoreVolumeSource = core.struct(
    "AWSElasticBlockStoreVolumeSource",
    "Deprecated: an AWS EBS disk.",
    volumeID=string("ID of the EBS volume.", required=True),
    fsType=string("Filesystem type to mount."),
    partition=int32("Partition to mount; 0 for the whole disk."),
    readOnly=boolean("Mount read-only."),
)

AzureDiskVolumeSource = core.struct(
    "AzureDiskVolumeSource",
    "Deprecated: an Azure data disk.",
    diskName=string("Name of the data disk.", required=True),
    diskURI=string("URI of the data disk.", required=True),
    cachingMode=string("Host caching mode: None, ReadOnly or ReadWrite."),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
    kind=string("Shared, Dedicated or Managed."),
)

AzureFileVolumeSource = core.struct(
    "AzureFileVolumeSource",
    "Deprecated: an Azure File share.",
    secretName=string("Secret holding the storage account name and key.", required=True),
    shareName=string("Name of the share.", required=True),
    readOnly=boolean("Mount read-only."),
)

CSIVolumeSource = core.struct(
    "CSIVolumeSource",
    "An ephemeral volume provided by a CSI driver.",
    driver=string("Name of the CSI driver.", required=True),
    readOnly=boolean("Mount read-only."),
    fsType=string("Filesystem type to mount."),
    volumeAttributes=map_of(string(), "Driver-specific attributes."),
    nodePublishSecretRef=ref(LocalObjectReference, "Secret passed to the driver's publish calls."),
)

CephFSVolumeSource = core.struct(
    "CephFSVolumeSource",
    "Deprecated: a CephFS mount.",
    monitors=array(string(), "Ceph monitors.", required=True, list_type="atomic"),
    path=string("Path within the filesystem to mount; defaults to /."),
    user=string("RADOS user name."),
    secretFile=string("Path of the keyring file."),
    secretRef=ref(LocalObjectReference, "Secret holding the keyring."),
    readOnly=boolean("Mount read-only."),
)

CinderVolumeSource = core.struct(
    "CinderVolumeSource",
    "Deprecated: an OpenStack Cinder volume.",
    volumeID=string("ID of the volume.", required=True),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
    secretRef=ref(LocalObjectReference, "Secret with OpenStack credentials."),
)

ConfigMapVolumeSource = core.struct(
    "ConfigMapVolumeSource",
    "A volume with one file per key of a ConfigMap.",
    name=string("Name of the ConfigMap."),
    items=array(KeyToPath, "Only these keys, at these paths; all keys when empty.", list_type="atomic"),
    defaultMode=int32("Permission bits of the files; defaults to 0644."),
    optional=boolean("Tolerate a missing ConfigMap or key."),
    defaultUser=int64("UID owning the files."),
)

DownwardAPIVolumeFile = core.struct(
    "DownwardAPIVolumeFile",
    "A file holding a field of the pod or a container resource.",
    path=string("Relative path of the file.", required=True),
    fieldRef=ref(ObjectFieldSelector, "The pod field to write."),
    resourceFieldRef=ref(ResourceFieldSelector, "The container resource to write."),
    mode=int32("Permission bits of the file."),
    user=int64("UID owning the file."),
)

DownwardAPIVolumeSource = core.struct(
    "DownwardAPIVolumeSource",
    "A volume with files about the pod itself.",
    items=array(DownwardAPIVolumeFile, "The files to write.", list_type="atomic"),
    defaultMode=int32("Permission bits of the files; defaults to 0644."),
    defaultUser=int64("UID owning the files."),
)

EmptyDirVolumeSource = core.struct(
    "EmptyDirVolumeSource",
    "A directory that starts empty and lives as long as the pod.",
    medium=string("Storage medium: empty for the node's default, or Memory."),
    sizeLimit=quantity("Most space the directory may use."),
    mode=int32("Permission bits of the directory."),
)

EphemeralVolumeSource = core.struct(
    "EphemeralVolumeSource",
    "A volume from a claim created with the pod and deleted with it.",
    volumeClaimTemplate=ref(PersistentVolumeClaimTemplate, "Template of the claim to create."),
)

FCVolumeSource = core.struct(
    "FCVolumeSource",
    "A Fibre Channel volume.",
    targetWWNs=array(string(), "Target world wide names.", list_type="atomic"),
    lun=int32("Target LUN number."),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
    wwids=array(
        string(), "Volume world wide identifiers, instead of targetWWNs and lun.", list_type="atomic"
    ),
)

FlexVolumeSource = core.struct(
    "FlexVolumeSource",
    "Deprecated: a volume handled by an exec-based plugin.",
    driver=string("Name of the driver.", required=True),
    fsType=string("Filesystem type to mount."),
    secretRef=ref(LocalObjectReference, "Secret passed to the plugin."),
    readOnly=boolean("Mount read-only."),
    options=map_of(string(), "Extra options for the plugin."),
)

FlockerVolumeSource = core.struct(
    "FlockerVolumeSource",
    "Deprecated: a Flocker dataset.",
    datasetName=string("Name of the dataset."),
    datasetUUID=string("UUID of the dataset."),
)

GCEPersistentDiskVolumeSource = core.struct(
    "GCEPersistentDiskVolumeSource",
    "Deprecated: a GCE persistent disk.",
    pdName=string("Name of the disk.", required=True),
    fsType=string("Filesystem type to mount."),
    partition=int32("Partition to mount; 0 for the whole disk."),
    readOnly=boolean("Mount read-only."),
)

GitRepoVolumeSource = core.struct(
    "GitRepoVolumeSource",
    "Deprecated: a directory cloned from a git repository.",
    repository=string("Repository URL.", required=True),
    revision=string("Commit hash to check out."),
    directory=string("Directory to clone into, relative to the volume root."),
)

GlusterfsVolumeSource = core.struct(
    "GlusterfsVolumeSource",
    "Deprecated: a GlusterFS mount.",
    endpoints=string("Endpoints object naming the Glusterfs servers.", required=True),
    path=string("Glusterfs volume path.", required=True),
    readOnly=boolean("Mount read-only."),
)

HostPathVolumeSource = core.struct(
    "HostPathVolumeSource",
    "A file or directory of the node's filesystem.",
    path=string("Path on the host.", required=True),
    type=string("What must exist at the path, such as Directory or DirectoryOrCreate."),
)

ISCSIVolumeSource = core.struct(
    "ISCSIVolumeSource",
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
    secretRef=ref(LocalObjectReference, "Secret with CHAP credentials."),
    initiatorName=string("Custom iSCSI initiator name."),
)

ImageVolumeSource = core.struct(
    "ImageVolumeSource",
    "The contents of an OCI image or artifact, mounted read-only.",
    reference=string("Image or artifact reference to mount."),
    pullPolicy=string("Always, Never or IfNotPresent."),
)

NFSVolumeSource = core.struct(
    "NFSVolumeSource",
    "An NFS export.",
    server=string("Host name or IP of the NFS server.", required=True),
    path=string("Path exported by the server.", required=True),
    readOnly=boolean("Mount read-only."),
)

PersistentVolumeClaimVolumeSource = core.struct(
    "PersistentVolumeClaimVolumeSource",
    "The volume bound to a PersistentVolumeClaim in the pod's namespace.",
    claimName=string("Name of the claim.", required=True),
    readOnly=boolean("Mount read-only."),
)

PhotonPersistentDiskVolumeSource = core.struct(
    "PhotonPersistentDiskVolumeSource",
    "Deprecated: a Photon Controller persistent disk.",
    pdID=string("ID of the disk.", required=True),
    fsType=string("Filesystem type to mount."),
)

PortworxVolumeSource = core.struct(
    "PortworxVolumeSource",
    "Deprecated: a Portworx volume.",
    volumeID=string("ID of the volume.", required=True),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
)

ClusterTrustBundleProjection = core.struct(
    "ClusterTrustBundleProjection",
    "Writes the certificates of ClusterTrustBundles into a file.",
    name=string("A single bundle, by name."),
    signerName=string("Bundles of this signer."),
    labelSelector=ref(LabelSelector, "Bundles with these labels."),
    optional=boolean("Tolerate missing bundles."),
    path=string("Relative path of the file.", required=True),
    user=int64("UID owning the file."),
)

ConfigMapProjection = core.struct(
    "ConfigMapProjection",
    "The keys of a ConfigMap, as files of a projected volume.",
    name=string("Name of the ConfigMap."),
    items=array(KeyToPath, "Only these keys, at these paths.", list_type="atomic"),
    optional=boolean("Tolerate a missing ConfigMap or key."),
)

DownwardAPIProjection = core.struct(
    "DownwardAPIProjection",
    "Pod information, as files of a projected volume.",
    items=array(DownwardAPIVolumeFile, "The files to write.", list_type="atomic"),
)

PodCertificateProjection = core.struct(
    "PodCertificateProjection",
    "A private key and a certificate issued for the pod, as files.",
    signerName=string("Signer that issues the certificate.", required=True),
    keyType=string("Type of key pair to generate.", required=True),
    maxExpirationSeconds=int32("Longest lifetime the certificate may have."),
    credentialBundlePath=string("File with the key and the certificate chain together."),
    keyPath=string("File with the private key."),
    certificateChainPath=string("File with the certificate chain."),
    userAnnotations=map_of(string(), "Annotations passed to the signer."),
    user=int64("UID owning the files."),
)

SecretProjection = core.struct(
    "SecretProjection",
    "The keys of a Secret, as files of a projected volume.",
    name=string("Name of the Secret."),
    items=array(KeyToPath, "Only these keys, at these paths.", list_type="atomic"),
    optional=boolean("Tolerate a missing Secret or key."),
)

ServiceAccountTokenProjection = core.struct(
    "ServiceAccountTokenProjection",
    "A service account token of the pod, as a file, refreshed before it expires.",
    audience=string("Intended audience of the token; defaults to the API server."),
    expirationSeconds=int64("Requested lifetime of the token; defaults to one hour."),
    path=string("Relative path of the file.", required=True),
    user=int64("UID owning the file."),
)

VolumeProjection = core.struct(
    "VolumeProjection",
    "One source of a projected volume; exactly one field is set.",
    secret=ref(SecretProjection, "Keys of a Secret."),
    downwardAPI=ref(DownwardAPIProjection, "Information about the pod."),
    configMap=ref(ConfigMapProjection, "Keys of a ConfigMap."),
    serviceAccountToken=ref(ServiceAccountTokenProjection, "A service account token."),
    clusterTrustBundle=ref(ClusterTrustBundleProjection, "Certificates of ClusterTrustBundles."),
    podCertificate=ref(PodCertificateProjection, "A key and certificate for the pod."),
)

ProjectedVolumeSource = core.struct(
    "ProjectedVolumeSource",
    "Several sources merged into one directory.",
    sources=array(VolumeProjection, "The sources.", list_type="atomic"),
    defaultMode=int32("Permission bits of the files; defaults to 0644."),
    defaultUser=int64("UID owning the files."),
)

QuobyteVolumeSource = core.struct(
    "QuobyteVolumeSource",
    "Deprecated: a Quobyte mount.",
    registry=string("Quobyte registries, host:port, comma separated.", required=True),
    volume=string("Name of the Quobyte volume.", required=True),
    readOnly=boolean("Mount read-only."),
    user=string("User to map volume access to."),
    group=string("Group to map volume access to."),
    tenant=string("Tenant owning the volume."),
)

RBDVolumeSource = core.struct(
    "RBDVolumeSource",
    "Deprecated: a Ceph RADOS block device.",
    monitors=array(string(), "Ceph monitors.", required=True, list_type="atomic"),
    image=string("RADOS image name.", required=True),
    fsType=string("Filesystem type to mount."),
    pool=string("RADOS pool; defaults to rbd."),
    user=string("RADOS user; defaults to admin."),
    keyring=string("Path of the keyring; defaults to /etc/ceph/keyring."),
    secretRef=ref(LocalObjectReference, "Secret holding the authentication key."),
    readOnly=boolean("Mount read-only."),
)

ScaleIOVolumeSource = core.struct(
    "ScaleIOVolumeSource",
    "Deprecated: a ScaleIO volume.",
    gateway=string("Address of the ScaleIO API gateway.", required=True),
    system=string("Name of the ScaleIO storage system.", required=True),
    secretRef=ref(LocalObjectReference, "Secret with ScaleIO credentials.", required=True),
    sslEnabled=boolean("Use SSL to talk to the gateway."),
    protectionDomain=string("ScaleIO protection domain."),
    storagePool=string("ScaleIO storage pool."),
    storageMode=string("ThickProvisioned or ThinProvisioned."),
    volumeName=string("Name of an existing volume."),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
)

SecretVolumeSource = core.struct(
    "SecretVolumeSource",
    "A volume with one file per key of a Secret.",
    secretName=string("Name of the Secret."),
    items=array(KeyToPath, "Only these keys, at these paths; all keys when empty.", list_type="atomic"),
    defaultMode=int32("Permission bits of the files; defaults to 0644."),
    optional=boolean("Tolerate a missing Secret or key."),
    defaultUser=int64("UID owning the files."),
)

StorageOSVolumeSource = core.struct(
    "StorageOSVolumeSource",
    "Deprecated: a StorageOS volume.",
    volumeName=string("Name of the volume within its namespace."),
    volumeNamespace=string("StorageOS namespace of the volume."),
    fsType=string("Filesystem type to mount."),
    readOnly=boolean("Mount read-only."),
    secretRef=ref(LocalObjectReference, "Secret with StorageOS credentials."),
)

VsphereVirtualDiskVolumeSource = core.struct(
    "VsphereVirtualDiskVolumeSource",
    "Deprecated: a vSphere virtual disk.",
    volumePath=string("Path of the disk.", required=True),
    fsType=string("Filesystem type to mount."),
    storagePolicyName=string("Storage policy-based management profile name."),
    storagePolicyID=string("Storage policy-based management profile ID."),
)

Volume = core.struct(
    "Volume",
    "A named volume of a pod that containers can mount; exactly one source is set.",
    name=string("Name of the volume, a DNS label unique in the pod.", required=True),
    hostPath=ref(HostPathVolumeSource, "A path on the node."),
    emptyDir=ref(EmptyDirVolumeSource, "An empty directory living as long as the pod."),
    gcePersistentDisk=ref(GCEPersistentDiskVolumeSource, "Deprecated: a GCE persistent disk."),
    awsElasticBlockStore=ref(AWSElasticBlockStoreVolumeSource, "Deprecated: an AWS EBS disk."),
    gitRepo=ref(GitRepoVolumeSource, "Deprecated: a git repository checkout."),
    secret=ref(SecretVolumeSource, "The keys of a Secret."),
    nfs=ref(NFSVolumeSource, "An NFS export."),
    iscsi=ref(ISCSIVolumeSource, "An iSCSI disk."),
    glusterfs=ref(GlusterfsVolumeSource, "Deprecated: a GlusterFS mount."),
    persistentVolumeClaim=ref(PersistentVolumeClaimVolumeSource, "The volume bound to a claim."),
    rbd=ref(RBDVolumeSource, "Deprecated: a Ceph block device."),
    flexVolume=ref(FlexVolumeSource, "Deprecated: an exec-based plugin volume."),
    cinder=ref(CinderVolumeSource, "Deprecated: an OpenStack Cinder volume."),
    cephfs=ref(CephFSVolumeSource, "Deprecated: a CephFS mount."),
    flocker=ref(FlockerVolumeSource, "Deprecated: a Flocker dataset."),
    downwardAPI=ref(DownwardAPIVolumeSource, "Information about the pod, as files."),
    fc=ref(FCVolumeSource, "A Fibre Channel volume."),
    azureFile=ref(AzureFileVolumeSource, "Deprecated: an Azure File share."),
    configMap=ref(ConfigMapVolumeSource, "The keys of a ConfigMap."),
    vsphereVolume=ref(VsphereVirtualDiskVolumeSource, "Deprecated: a vSphere disk."),
    quobyte=ref(QuobyteVolumeSource, "Deprecated: a Quobyte mount."),
    azureDisk=ref(AzureDiskVolumeSource, "Deprecated: an Azure data disk."),
    photonPersistentDisk=ref(PhotonPersistentDiskVolumeSource, "Deprecated: a Photon disk."),
    projected=ref(ProjectedVolumeSource, "Several sources merged into one directory."),
    portworxVolume=ref(PortworxVolumeSource, "Deprecated: a Portworx volume."),
    scaleIO=ref(ScaleIOVolumeSource, "Deprecated: a ScaleIO volume."),
    storageos=ref(StorageOSVolumeSource, "Deprecated: a StorageOS volume."),
    csi=ref(CSIVolumeSource, "An ephemeral volume from a CSI driver."),
    ephemeral=ref(EphemeralVolumeSource, "A claim created and deleted with the pod."),
    image=ref(ImageVolumeSource, "An OCI image or artifact, read-only."),
)
