"""The controllers: level-triggered control loops that talk to the API server through kubelite.client."""
