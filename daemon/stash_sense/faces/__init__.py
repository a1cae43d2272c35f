"""Face identification: frames, detection, alignment, embeddings, search and matching."""
