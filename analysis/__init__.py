"""Replication of Fitjar and Rodriguez-Pose: local buzz, global pipelines and innovation."""
