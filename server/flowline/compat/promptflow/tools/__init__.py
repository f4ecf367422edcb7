"""Stand-in for ``promptflow.tools``: the promptflow-tools tools a tool file may import and call itself
(``from promptflow.tools.embedding import embedding``), run by Flowline's native implementations."""
