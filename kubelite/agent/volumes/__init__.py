"""Pod volumes on the node: directories, tmpfs and files the containers' mounts point at."""
