"""The Flowline language server (pygls): one module per LSP capability, thin over flow/ and engine/."""
