"""The Kubernetes API over HTTPS: authentication → authorization → admission → storage.

The only component that touches the store. Start it with `kubelite.apiserver.server.run(config)`.
"""
