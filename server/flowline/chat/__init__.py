"""Chat flows: which inputs and output make the chat, the history promptflow passes, and the terminal chat."""
