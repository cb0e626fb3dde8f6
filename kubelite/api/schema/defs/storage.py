"""storage.k8s.io/v1: StorageClass, the named profiles dynamic provisioning creates volumes from.

The two core/v1 topology selector types are declared here because StorageClass is their only user.
"""

from __future__ import annotations

from kubelite.api.schema.dsl import api_package, array, boolean, map_of, string

storage = api_package("storage.k8s.io", "v1")
core = api_package("", "v1")

TopologySelectorLabelRequirement = core.struct(
    "TopologySelectorLabelRequirement",
    "A topology label and the values it may take.",
    key=string("The topology label key, such as topology.kubernetes.io/zone.", required=True),
    values=array(string(), "Values the label may have; any one matches.", required=True, list_type="atomic"),
)

TopologySelectorTerm = core.struct(
    "TopologySelectorTerm",
    "A topology domain, given as label requirements that must all hold.",
    atomic=True,
    matchLabelExpressions=array(
        TopologySelectorLabelRequirement, "The requirements, ANDed together.", list_type="atomic"
    ),
)

StorageClass = storage.kind(
    "StorageClass",
    "A class of storage a cluster offers, naming the provisioner and its parameters.",
    provisioner=string("Name of the volume plugin or CSI driver that provisions the volumes.", required=True),
    parameters=map_of(string(), "Provisioner-specific settings."),
    reclaimPolicy=string("Delete (the default) or Retain provisioned volumes when their claim goes."),
    mountOptions=array(string(), "Mount options of provisioned volumes, passed as is.", list_type="atomic"),
    allowVolumeExpansion=boolean("Whether claims of this class may be resized upwards."),
    volumeBindingMode=string("Immediate (the default) or WaitForFirstConsumer binding and provisioning."),
    allowedTopologies=array(
        TopologySelectorTerm, "Where volumes may be provisioned; empty means anywhere.", list_type="atomic"
    ),
)
StorageClassList = storage.list_of(StorageClass)
