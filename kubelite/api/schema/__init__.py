"""Type schemas of the API: one set of definitions drives validation, OpenAPI and patch semantics.

`dsl` holds the node types and the registries, `defs` the definitions of every group (importing this
package loads them), `validate` checks decoded objects against them, `openapi` publishes them.
"""

from kubelite.api.schema import defs
from kubelite.api.schema.dsl import definition, kind_schema, kinds

__all__ = ["definition", "defs", "kind_schema", "kinds"]
