"""`flowline flow test --interactive` in a real pseudo-terminal: a chat, turn by turn, read as a person reads it.

Each test is a timeline: start the chat, type, wait for what the screen shows, type again. Waits are for text
appearing, never for time passing.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from conftest import Result, run_cli, write_flow
from openai_server import FakeOpenAI

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")

CHAT_FLOW = """
    inputs:
      question: {type: string, is_chat_input: true}
      chat_history: {type: list, is_chat_history: true, default: []}
    outputs:
      answer: {type: string, reference: "${chat.output}", is_chat_output: true}
      turns: {type: int, reference: "${look.output}"}
    nodes:
    - name: look
      type: python
      source: {type: code, path: look.py}
      inputs: {question: "${inputs.question}", chat_history: "${inputs.chat_history}", conn: test}
    - name: chat
      type: llm
      source: {type: code, path: chat.jinja2}
      inputs:
        deployment_name: test-model
        question: ${inputs.question}
        chat_history: ${inputs.chat_history}
        turns: ${look.output}
      connection: test
      api: chat
"""
CHAT_TEMPLATE = """
    # system:
    Turns so far: {{ turns }}
    {% for turn in chat_history %}
    # user:
    {{ turn.inputs.question }}
    # assistant:
    {{ turn.outputs.answer }}
    {% endfor %}
    # user:
    {{ question }}
"""
# Records the history each turn receives; fails on "fail" (with the connection's key in its message); on
# "sleep" waits (20 s at most) for a file the test writes, then prints and writes a file of its own: a tool
# still running after its turn was canceled.
LOOK = """
    import json
    import time
    from pathlib import Path

    from promptflow.connections import OpenAIConnection

    from flowline import tool


    @tool
    def look(question: str, chat_history: list, conn: OpenAIConnection) -> int:
        with open("histories.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"question": question, "history": chat_history}) + "\\n")
        if question == "fail":
            raise ValueError(f"no luck with key {conn.api_key}")
        if question == "sleep":
            print("sleeping", flush=True)
            deadline = time.monotonic() + 20
            while not Path("release").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            print("woke up after the cancel", flush=True)
            Path("woke").write_text("yes")
        return len(chat_history)
"""
GENERATOR_FLOW = """
    inputs:
      text: {type: string, is_chat_input: true}
      chat_history: {type: list, default: []}
    outputs:
      reply: {reference: "${words.output}", is_chat_output: true}
    nodes:
    - name: words
      type: python
      source: {type: code, path: words.py}
      inputs: {text: "${inputs.text}"}
"""
WORDS = """
    from flowline import tool


    @tool
    def words(text: str):
        for word in text.upper().split():
            yield word + "."
"""


class Terminal:
    """`flowline` in a pseudo-terminal: ``send`` types, ``expect`` waits for text to appear on the screen."""

    def __init__(self, *args: str, cwd: Path | None = None) -> None:
        env = {**os.environ, "TERM": "dumb", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pseudo-terminal is its controlling terminal (Ctrl-C sends it SIGINT)
            if cwd is not None:
                os.chdir(cwd)
            os.execvpe(sys.executable, [sys.executable, "-m", "flowline", *args], env)
        self.pid, self.fd = pid, fd
        self.screen = ""
        self.seen = 0  # how far ``expect`` has read
        self.code: int | None = None

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.screen += ANSI.sub("", data.decode("utf-8", "replace"))
        return True

    def expect(self, text: str, timeout: float = 15) -> str:
        """Wait for ``text`` after what was already expected; returns the screen up to its end."""
        deadline = time.monotonic() + timeout
        while text not in self.screen[self.seen:]:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"{text!r} did not appear; the screen after the last wait:\n"
                                     f"{self.screen[self.seen:]}")
        end = self.screen.index(text, self.seen) + len(text)
        shown, self.seen = self.screen[self.seen:end], end
        return shown

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait_for_key(self) -> None:
        """Wait until the process waits for a key. The prompt is on the screen a moment before the wait begins,
        and a signal in that moment is seen only at the next key (as in Python's own REPL): wait for the main
        thread to sleep in select() or read() (Linux's /proc says where it sleeps)."""
        deadline = time.monotonic() + 10
        wchan = Path(f"/proc/{self.pid}/wchan")
        while wchan.exists() and time.monotonic() < deadline:
            if any(word in wchan.read_text() for word in ("poll", "select", "tty_read", "wait_woken")):
                break
            time.sleep(0.005)

    def interrupt_prompt(self) -> None:
        """Ctrl-C at the prompt, once the process waits for a key."""
        self.wait_for_key()
        self.send("\x03")

    def settings(self) -> list[object]:
        """The terminal's settings (termios), read on the master side: Linux gives the terminal's own."""
        return termios.tcgetattr(self.fd)

    def wait(self, timeout: float = 15) -> int:
        """Wait for the process to end (reading what it still writes); its exit code. The terminal's settings
        as the process left them are kept in ``final_settings``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(deadline):
            pass
        _, status = os.waitpid(self.pid, 0)
        self.code = os.waitstatus_to_exitcode(status)
        self.final_settings = self.settings()
        os.close(self.fd)
        return self.code

    def close(self) -> None:
        if self.code is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait()


def histories(folder: Path) -> dict[str, list[object]]:
    """The history each message's turn received (the last turn of each message)."""
    lines = (folder / "histories.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["question"]: row["history"] for row in map(json.loads, lines)}


def test_a_chat_streams_keeps_history_and_survives_failures_and_ctrl_c(server: FakeOpenAI, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "chat", {"flow.dag.yaml": CHAT_FLOW, "chat.jinja2": CHAT_TEMPLATE,
                                            "look.py": LOOK})
    server.chunk_gate = threading.Event()
    term = Terminal("flow", "test", "--flow", str(folder), "--interactive")
    try:
        term.expect("Chatting with flow 'chat'")
        term.expect("Ctrl-C stops a turn.")
        term.expect("User: ")

        # Turn 1 streams: the first word is on the screen while the server holds back the rest.
        term.send("hello there\r")
        term.expect("Bot: echo:")
        assert "hello" not in term.screen[term.seen:]
        server.chunk_gate.set()
        assert term.expect("User: ").split("\n")[0] == " hello there"

        # Turn 2: a line ending with \ goes on in the next one (the newline kept).
        term.send("two\\\r")
        term.expect("...")
        term.send("lines\r")
        term.expect("Bot: echo: two\n")
        term.expect("lines\n")
        term.expect("User: ")

        # A failing turn: one line naming the node and the error; the chat goes on, the history unchanged.
        term.send("fail\r")
        failure = term.expect("User: ")
        assert re.search(r"^Node 'look' failed: ValueError: no luck with key \*\*\*\*\*\* \(.*look\.py:\d+\)$", failure,
                         re.MULTILINE), failure
        assert "Traceback" not in failure and "Bot:" not in failure and server.api_key not in failure

        # Ctrl-C cancels a slow turn; the chat goes on. The tool is left running, and what it prints later
        # never shows.
        term.send("sleep\r")
        term.expect("[look] sleeping")
        term.send("\x03")
        term.expect("(canceled)")
        term.expect("User: ")
        (folder / "release").write_text("")
        deadline = time.monotonic() + 15
        while not (folder / "woke").exists():
            assert time.monotonic() < deadline, "the canceled tool did not go on"
            time.sleep(0.02)

        # Turn 3 gets the two completed turns, in promptflow's shape.
        term.send("third\r")
        term.expect("Bot: echo: third\n")
        term.expect("User: ")
        assert histories(folder)["third"] == [
            {"inputs": {"question": "hello there"}, "outputs": {"answer": "echo: hello there", "turns": 0}},
            {"inputs": {"question": "two\nlines"}, "outputs": {"answer": "echo: two\nlines", "turns": 1}},
        ]
        sent = [m["content"] for m in server.requests[-1].body["messages"]]
        assert sent == ["Turns so far: 2", "hello there", "echo: hello there", "two\nlines", "echo: two\nlines",
                        "third"]

        term.send("/history\r")
        shown = term.expect("\nUser: ")
        listed = json.loads(shown[shown.index("["):shown.rindex("]") + 1])
        assert [turn["inputs"]["question"] for turn in listed] == ["hello there", "two\nlines", "third"]

        term.send("/clear\r")
        term.expect("(history cleared)")
        term.send("again\r")
        term.expect("Bot: echo: again\n")
        assert histories(folder)["again"] == []

        term.send("/nope\r")
        term.expect("Unknown command /nope: the commands are /history, /clear, /exit")
        term.send("/exit\r")
        assert term.wait() == 0
        assert "woke up" not in term.screen
        assert len([r for r in server.requests if r.path.endswith("/chat/completions")]) == 4  # no request for
        # the failed, canceled, empty or command lines
    finally:
        term.close()


def test_ctrl_d_ends_the_chat_and_ctrl_c_clears_the_line(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "gen", {"flow.dag.yaml": GENERATOR_FLOW, "words.py": WORDS})
    term = Terminal("flow", "test", "--flow", str(folder), "--interactive")
    try:
        term.expect("User: ")
        term.send("stream these words\r")
        term.expect("Bot: STREAM.THESE.WORDS.\n")  # a generator's items stream as they come
        term.expect("User: ")
        term.send("   \r")  # an empty message is not sent
        term.expect("User: ")
        term.send("half typed")
        term.expect("half typed")
        term.interrupt_prompt()  # clears the line: no hint
        cleared = term.expect("User: ")
        assert "Ctrl-C again" not in cleared
        term.interrupt_prompt()
        term.expect("(Ctrl-C again, /exit or Ctrl-D ends the chat)")
        term.expect("User: ")
        term.send("\x04")
        assert term.wait() == 0
    finally:
        term.close()


def test_a_second_ctrl_c_on_an_empty_prompt_ends_the_chat(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "gen", {"flow.dag.yaml": GENERATOR_FLOW, "words.py": WORDS})
    term = Terminal("flow", "test", "--flow", str(folder), "--interactive", "--inputs", "chat_history=[]")
    try:
        term.expect("User: ")
        term.interrupt_prompt()
        term.expect("Ctrl-C again")
        term.expect("User: ")
        term.interrupt_prompt()
        assert term.wait() == 0
    finally:
        term.close()


def test_a_flow_that_is_not_a_chat_flow_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "plain", {"flow.dag.yaml": """
        inputs:
          text: {type: string}
        outputs:
          out: {reference: "${inputs.text}"}
        nodes: []
    """})
    result = run_cli("flow", "test", "--flow", str(folder), "--interactive")
    assert result.code == 2
    assert result.stderr == ("Cannot chat with flow 'plain': the flow has no input marked 'is_chat_input: true' "
                             "(the message each turn sends).\n")
    assert result.stdout == ""


def test_interactive_with_node_is_a_usage_error(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "gen", {"flow.dag.yaml": GENERATOR_FLOW, "words.py": WORDS})
    result = run_cli("flow", "test", "--flow", str(folder), "--interactive", "--node", "words")
    assert result.code == 2
    assert result.stderr.splitlines() == ["flowline: error: --interactive cannot be used with --node: a chat runs "
                                          "the whole flow, turn by turn, and shows its answers."]


def test_a_missing_other_input_is_refused_before_the_chat(tmp_path: Path) -> None:
    flow = GENERATOR_FLOW.replace("inputs:\n      text:", "inputs:\n      tone: {type: string}\n      text:")
    folder = write_flow(tmp_path / "gen", {"flow.dag.yaml": flow, "words.py": WORDS})
    result = run_cli("flow", "test", "--flow", str(folder), "--interactive")
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == ("flowline: error: Required flow input(s) tone not given and without "
                                              "default; pass them with --inputs tone=<value>.")


def chat_piped(folder: Path, typed: str, *args: str) -> Result:
    """`flow test --interactive` with ``typed`` as its stdin (a pipe, not a terminal)."""
    proc = subprocess.run([sys.executable, "-m", "flowline", "flow", "test", "--flow", str(folder), "--interactive",
                           *args], input=typed, capture_output=True, text=True, timeout=60)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize(("kill", "code"), [("SIGTERM", 128 + 15), ("Ctrl-\\", 128 + 3)])
def test_killed_at_the_prompt_the_terminal_is_put_back(tmp_path: Path, kill: str, code: int) -> None:
    folder = write_flow(tmp_path / "gen", {"flow.dag.yaml": GENERATOR_FLOW, "words.py": WORDS})
    term = Terminal("flow", "test", "--flow", str(folder), "--interactive")
    try:
        before = term.settings()  # read before the child has started Python: the terminal as a shell leaves it
        assert before[3] & termios.ECHO and before[3] & termios.ICANON

        # Ctrl-D after a line ending with \ sends the lines typed so far; the chat goes on.
        term.expect("User: ")
        term.send("sent anyway\\\r")
        term.expect("...")
        term.wait_for_key()
        term.send("\x04")
        term.expect("Bot: SENT.ANYWAY.\n")
        term.expect("User: ")

        term.send("abc")
        term.expect("abc")
        term.wait_for_key()
        assert not term.settings()[3] & termios.ECHO  # readline reads the keys itself: echo and line mode off
        if kill == "SIGTERM":
            os.kill(term.pid, signal.SIGTERM)
        else:
            term.send("\x1c")
        assert term.wait() == code
        assert term.final_settings == before
    finally:
        term.close()


# A tool that picks what it does from the message: a KeyboardInterrupt of its own, control characters in its
# answer and in what it prints, a print of the connection's key, a null answer; else the text in capitals.
PICK_FLOW = """
    inputs:
      text: {type: string, is_chat_input: true}
      chat_history: {type: list, default: []}
    outputs:
      reply: {reference: "${pick.output}", is_chat_output: true}
    nodes:
    - name: pick
      type: python
      source: {type: code, path: pick.py}
      inputs: {text: "${inputs.text}", conn: test}
"""
PICK = """
    from promptflow.connections import OpenAIConnection

    from flowline import tool


    @tool
    def pick(text: str, conn: OpenAIConnection):
        if text == "!kbd":
            raise KeyboardInterrupt
        if text == "!ansi":
            print("title\\x1b]0;pwned\\x07 bell\\x07", flush=True)
            return "\\x1b[2Jcleared\\x9b31mred\\rover"
        if text == "!psec":
            print(f"key={conn.api_key}", flush=True)
            return "printed"
        if text == "!none":
            return None
        return text.upper()
"""


def test_a_piped_chat_reads_as_a_conversation(server: FakeOpenAI, tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "pick", {"flow.dag.yaml": PICK_FLOW, "pick.py": PICK})
    typed = "!kbd\nafter\n!ansi\n!psec\n!none\nC:\\\\\nlast\\\n"  # ends in a \ then the end of the input
    result = chat_piped(folder, typed, "--inputs", "text=ignored", "--inputs", "nope=1")
    assert result.code == 0, result.stderr
    chat = result.stdout.split("\n", 2)[2]  # after the banner
    assert chat == ("User: !kbd\n"
                    "User: after\nBot: AFTER\n"
                    "User: !ansi\nBot: \\x1b[2Jcleared\\x9b31mredover\n"
                    "User: !psec\nBot: printed\n"
                    "User: !none\nBot: (no answer)\n"
                    "User: C:\\\\\nBot: C:\\\n"  # \\ at the end is one literal \, and the message ends
                    "User: last\\\n...   \nBot: LAST\n"
                    "User: \n")
    errors = result.stderr.splitlines()
    assert errors[:2] == [
        "flowline: warning: --inputs nope: the flow has no input 'nope' (its inputs: text, chat_history); ignored.",
        "flowline: warning: --inputs text: ignored; the chat input 'text' is what you type at the prompt."]
    # A tool's own KeyboardInterrupt fails its turn (not the user's Ctrl-C); secrets it prints are masked.
    assert re.fullmatch(r"Node 'pick' failed: KeyboardInterrupt: Tool 'pick' raised KeyboardInterrupt; .* "
                        r"\(.*pick\.py:\d+\)", errors[2]), errors
    assert "  [pick] title\\x1b]0;pwned\\x07 bell\\x07" in errors
    assert "  [pick] key=******" in errors and server.api_key not in result.stderr


def test_a_list_chat_input_gets_the_text_as_its_one_part(tmp_path: Path) -> None:
    flow = GENERATOR_FLOW.replace("text: {type: string, is_chat_input: true}",
                                  "text: {type: list, is_chat_input: true}").replace("words.py", "parts.py")
    parts = """
        from flowline import tool


        @tool
        def words(text: list) -> str:
            return f"{len(text)} part(s): {text[0]}"
    """
    folder = write_flow(tmp_path / "parts", {"flow.dag.yaml": flow, "parts.py": parts})
    result = chat_piped(folder, "hello\n/history\n")
    assert result.code == 0, result.stderr
    assert "Bot: 1 part(s): hello\n" in result.stdout
    shown = result.stdout[result.stdout.index("["):result.stdout.rindex("]") + 1]
    assert json.loads(shown) == [{"inputs": {"text": ["hello"]}, "outputs": {"reply": "1 part(s): hello"}}]


def test_what_cannot_start_a_chat_is_refused_in_one_line(tmp_path: Path) -> None:
    image = write_flow(tmp_path / "img", {"flow.dag.yaml": GENERATOR_FLOW.replace(
        "text: {type: string, is_chat_input: true}", "text: {type: image, is_chat_input: true}"), "words.py": WORDS})
    result = run_cli("flow", "test", "--flow", str(image), "--interactive")
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == ("Cannot chat with flow 'img': its chat input 'text' is an image, and the terminal chat "
                             "sends text; chat with it in VS Code's chat panel, which attaches images (or make the "
                             "chat input a list).\n")

    # A YAML error is listed as `flow test` lists it, not taken for a flow that is not a chat flow.
    broken = write_flow(tmp_path / "broken", {"flow.dag.yaml": "inputs:\n  question: {type: string, is_chat_input: "
                                                                "true\noutputs: [\n"})
    result = run_cli("flow", "test", "--flow", str(broken), "--interactive")
    assert result.code == 2
    assert "YAML" in result.stderr and "is_chat_input" not in result.stderr, result.stderr

    gen = write_flow(tmp_path / "gen", {"flow.dag.yaml": GENERATOR_FLOW, "words.py": WORDS})
    for given, why in [("[1,2,3]", "turn 1 is 1"), ('[{"inputs":"x"}]', 'turn 1 is {"inputs": "x"}'),
                       ('{"a": 1}', 'it is {"a": 1}'), ("null", "it is null")]:
        result = run_cli("flow", "test", "--flow", str(gen), "--interactive", "--inputs", f"chat_history={given}")
        assert result.code == 2
        assert result.stderr.splitlines() == [
            "flowline: error: The chat history input 'chat_history' cannot start the chat: it must be a list of "
            f'turns {{"inputs": {{...}}, "outputs": {{...}}}}; {why}.']
