"""The pipelined identification engine: many scenes at once, every stage kept busy.

The job queue stays the durable record (one `identify_scene` job per scene, at least once);
the engine is what those jobs feed. See `engine.py` for the stages.
"""
