"""`POST /v1/chat/completions`: a served chat flow called with the real `openai` client, streamed and not.

The chat flows' LLM node calls FakeOpenAI (tests/server/openai_server.py, a real HTTP server on 127.0.0.1), so
the tokens the served flow streams are the ones its own model streamed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from conftest import SAMPLES, write_flow
from openai_server import FakeOpenAI
from serve_process import Served, start_server


@pytest.fixture
def chat(server: FakeOpenAI, tmp_path: Path) -> Iterator[Served]:
    """samples/chat-basic with its LLM node on the connection 'test' (FakeOpenAI)."""
    flow = write_flow(tmp_path / "chat-basic", {
        "flow.dag.yaml": (SAMPLES / "chat-basic" / "flow.dag.yaml").read_text().replace("deployment_name: smollm2",
                                                                                      "deployment_name: test-model"),
        "chat.jinja2": (SAMPLES / "chat-basic" / "chat.jinja2").read_text(),
    })
    served = start_server(flow, "--connections", "chat.connection=test")
    yield served
    served.stop()


def client(served: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{served.url}/v1", api_key="unused", max_retries=0)


def test_a_chat_completion_is_the_flows_answer(chat: Served, server: FakeOpenAI) -> None:
    completion = client(chat).chat.completions.create(model="my-flow", messages=[
        {"role": "system", "content": "ignored: the flow's prompt has its own"},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ])
    assert completion.object == "chat.completion" and completion.model == "my-flow"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "echo: And 3+3?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    # The earlier turns reached the model as the flow's chat history, the system message did not.
    sent = server.requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "What is 2+2?"), ("assistant", "4"), ("user", "And 3+3?")]
    assert "ignored" not in str(sent)
    assert server.requests[-1].body.get("stream") in (None, False)


def test_a_streamed_chat_completion_gives_the_models_tokens_as_chunks(chat: Served, server: FakeOpenAI) -> None:
    stream = client(chat).chat.completions.create(model="m", stream=True, messages=[
        {"role": "user", "content": "say three words"}])
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert len(pieces) > 1  # one per token FakeOpenAI streamed, not one joined answer
    assert "".join(pieces) == "echo: say three words"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert server.requests[-1].body["stream"] is True


def test_a_chat_flow_without_an_llm_answers_and_streams_its_generator(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "py-chat", {
        "flow.dag.yaml": """
            inputs:
              question: {type: string, is_chat_input: true}
              chat_history: {type: list, is_chat_history: true}
            outputs:
              answer: {type: string, reference: "${reply.output}", is_chat_output: true}
            nodes:
            - name: reply
              type: python
              source: {type: code, path: reply.py}
              inputs: {question: "${inputs.question}", chat_history: "${inputs.chat_history}"}
        """,
        "reply.py": """
            from flowline import tool

            @tool
            def reply(question: str, chat_history: list):
                yield f"turn {len(chat_history) + 1}: "
                for word in question.split():
                    yield word.upper() + " "
        """,
    })
    served = start_server(flow)
    try:
        ai = client(served)
        history = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "A"}]
        answer = ai.chat.completions.create(model="x", messages=[*history, {"role": "user", "content": "b c"}])
        assert answer.choices[0].message.content == "turn 2: B C "
        assert answer.model == "x"
        pieces = [c.choices[0].delta.content for c in ai.chat.completions.create(
            model="x", stream=True, messages=[{"role": "user", "content": "b c"}]) if c.choices[0].delta.content]
        assert pieces == ["turn 1: ", "B ", "C "]
    finally:
        served.stop()


def test_requests_that_are_no_chat_completion_get_400_and_a_standard_flow_404(tmp_path: Path,
                                                                               chat: Served) -> None:
    ai = client(chat)
    with pytest.raises(openai.BadRequestError) as refused:
        ai.chat.completions.create(model="m", messages=[{"role": "assistant", "content": "hi"}])
    assert refused.value.body == {"code": "InvalidRequest",
                                  "message": "The last message must be the user's: it is the chat input."}
    with pytest.raises(openai.BadRequestError):
        ai.chat.completions.create(model="m", messages=[])
    standard = start_server(SAMPLES / "hello")
    try:
        with pytest.raises(openai.NotFoundError) as missing:
            client(standard).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert "not a chat flow" in str(missing.value.body)
    finally:
        standard.stop()


def test_user_messages_in_a_row_are_all_kept(chat: Served, server: FakeOpenAI) -> None:
    completion = client(chat).chat.completions.create(model="m", messages=[
        {"role": "user", "content": "first"}, {"role": "user", "content": "second"}])
    assert completion.choices[0].message.content == "echo: second"
    sent = [(m["role"], m["content"]) for m in server.requests[-1].body["messages"][1:]]
    assert ("user", "first") in sent and sent[-1] == ("user", "second")


def test_what_a_flow_cannot_honour_is_refused_with_400(chat: Served) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"n": 3}, "'n' must be 1: a flow gives one answer (got 3)."),
        ({"stream": "yes"}, "'stream' must be true or false, not \"yes\"."),
        ({"messages": [{"role": "user", "content": None}]}, "The last user message has no text"),
        ({"messages": [{"role": "user"}]}, "The last user message has no text"),
        ({"messages": [{"role": "user", "content": []}]}, "The last user message has no text"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}]}]},
         "The last user message has no text"),
    ]
    for extra, message in cases:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **extra}
        response = httpx.post(f"{chat.url}/v1/chat/completions", json=body, timeout=60)
        assert response.status_code == 400, (extra, response.text)
        assert response.json()["error"]["code"] == "InvalidRequest"
        assert response.json()["error"]["message"].startswith(message)


def test_a_model_stream_that_ends_without_an_answer_is_an_error(chat: Served, server: FakeOpenAI) -> None:
    server.empty_streams = True  # llama.cpp's server, given a prompt longer than its context
    expected = ("Node 'chat' failed: LLMError: Node 'chat' (connection 'test', endpoint "
                f"{server.url}): the model server ended the stream without an answer (no text, no finish_reason); "
                "the prompt may be longer than its context.")
    with pytest.raises(openai.InternalServerError) as failed:
        list(client(chat).chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "x"}]))
    assert failed.value.body == {"code": "NodeFailed", "message": expected}
    scored = httpx.post(f"{chat.url}/score", json={"question": "x"}, headers={"Accept": "text/event-stream"},
                        timeout=60)
    assert scored.status_code == 500 and scored.json() == {"error": {"code": "NodeFailed", "message": expected}}
    chat.wait_for(r"request \S+: Node 'chat' failed: LLMError: .* ended the stream without an answer")
