"""The live dashboard: the sessions of a store, and per session its board, plan, claims, agents and timeline.

Served at `/` by `taskweave serve --http` (`mounting.with_dashboard`) and alone by
`taskweave dashboard` (`serve.serve_dashboard`). `app.dashboard_app` builds it over an
`Orchestrator`; `reads` holds what it reads, `pages` and `actions` its routes, `live`
the Server-Sent Events fed by the event log, `guard` its security, `graph_layout` the
drawing of dependencies, `templates/` and `static/` what the browser gets (every asset
ships here; nothing comes from another origin).
"""
