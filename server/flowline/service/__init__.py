"""Editor services over the flow language: completion, navigation, hover, edits, quick fixes, the graph.

The language (`flowline.flow`) knows what a flow is and what is wrong with it; this package answers the
editor's questions about one; `flowline.lsp` only translates between these answers and LSP.
"""
