"""The registration service: capture sessions, decisions, number assignment, dedup, review, audit.

Nothing here knows about HTTP; `facekyc.api` maps these calls and their typed errors to routes.
"""
