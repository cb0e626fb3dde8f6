"""Container images for the node agent: references, registry pulls, the content store, layer unpacking."""
