"""authentication.k8s.io/v1: TokenRequest, the body of `serviceaccounts/<name>/token`."""

from __future__ import annotations

from kubelite.api.schema.dsl import api_package, array, int64, ref, string, time

authentication = api_package("authentication.k8s.io", "v1")

BoundObjectReference = authentication.struct(
    "BoundObjectReference",
    "The object a token is bound to: the token stops authenticating once it is deleted.",
    kind=string("Kind of the referent: Pod or Secret."),
    apiVersion=string("API version of the referent."),
    name=string("Name of the referent."),
    uid=string("UID of the referent."),
)

TokenRequestSpec = authentication.struct(
    "TokenRequestSpec",
    "What token to issue.",
    audiences=array(string(), "Who the token is for; defaults to the API server's audiences.", required=True),
    expirationSeconds=int64("Requested validity in seconds; defaults to one hour, at least ten minutes."),
    boundObjectRef=ref(BoundObjectReference, "The object the token's validity is bound to."),
)

TokenRequestStatus = authentication.struct(
    "TokenRequestStatus",
    "The issued token.",
    token=string("The opaque bearer token.", required=True),
    expirationTimestamp=time("When the token expires.", required=True),
)

TokenRequest = authentication.kind(
    "TokenRequest",
    "Requests a token for a service account.",
    spec=ref(TokenRequestSpec, "The requested token.", required=True),
    status=ref(TokenRequestStatus, "The issued token; filled in by the server."),
)
