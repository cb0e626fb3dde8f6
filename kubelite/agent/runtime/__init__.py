"""Containers through an OCI runtime (crun or runc), each watched by its own conmon."""
