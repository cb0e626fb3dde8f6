"""How every component but the API server talks to the API server: over HTTPS with a kubeconfig.

Modules, one idea each: `kubeconfig` (where and who), `rest` (every verb; errors from `errors`; resources
named via `paths`), `watch` (the event stream), `informer` + `cache` (shared, indexed local copies of
read-only objects, see `frozen`), `workqueue` + `controller` (level-triggered reconcile loops), `events`
(Event recording with aggregation) and `leaderelection` (one active control plane at a time).
"""

from kubelite.client.rest import PatchType, RestClient

__all__ = ["PatchType", "RestClient"]
