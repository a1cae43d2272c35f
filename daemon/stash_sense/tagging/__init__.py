"""Turn identifications into performers on scenes: apply what is certain, ask the rest."""
