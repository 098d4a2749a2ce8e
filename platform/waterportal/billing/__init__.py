"""Bills with meter readings, usage and documents."""
