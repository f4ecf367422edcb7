"""How the world calls a flow: an HTTP endpoint (Starlette on uvicorn) over the engine.

``create_app(ServeConfig)`` in :mod:`flowline.serve.app` builds the application; :mod:`flowline.serve.server`
runs it. Nothing here is imported by ``flowline flow test``: Starlette and uvicorn load only when serving.
"""
