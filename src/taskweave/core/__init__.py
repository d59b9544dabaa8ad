"""The orchestration domain: sessions, clients, tasks, claims, artifacts and events.

It knows nothing of MCP or of which transport called it. `Orchestrator` holds
the use cases by caller: what agents ask for (`sessions`, `tasks`, `work`,
`reports`) and what a server does to keep the store current (`upkeep`). Every
write goes through one envelope, `Domain.write`.
"""
