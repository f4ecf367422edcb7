"""Images: `image` inputs and outputs, `Image` tool parameters, images in LLM prompts and chat history,
image files of `flow test` and batch runs, all through the real `flowline` command."""

from __future__ import annotations

import base64
import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import create_connection, run_cli, write_flow
from openai_server import FakeOpenAI

IMAGES = Path(__file__).resolve().parent / "images"
# A 2x2 red PNG.
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg=="
PNG = base64.b64decode(PNG_B64)

DESCRIBE = f"""
from promptflow.core import tool
from promptflow.contracts.multimedia import Image

@tool
def describe(img: Image) -> dict:
    return {{"type": type(img).__name__, "mime": img._mime_type, "size": len(img), "text": str(img),
            "source_url": img.source_url, "same": img.to_base64() == "{PNG_B64}"}}
"""

IMAGE_FLOW = """
inputs:
  img: {type: image}
outputs:
  info: {reference: "${describe.output}"}
  picture: {type: image, reference: "${inputs.img}"}
  echoed: {reference: "${echo.output}"}
nodes:
- name: describe
  type: python
  source: {type: code, path: describe.py}
  inputs: {img: "${inputs.img}"}
- name: echo
  type: python
  source: {type: code, path: echo.py}
  inputs: {img: "${inputs.img}"}
"""

ECHO = """
from promptflow.core import tool
from promptflow.contracts.multimedia import Image

@tool
def echo(img: Image) -> Image:
    return img
"""


class ImageServer:
    """Serves a folder over HTTP on 127.0.0.1 and counts the requests."""

    def __init__(self, folder: Path) -> None:
        owner = self
        self.paths: list[str] = []

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                owner.paths.append(self.path)
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"


@pytest.fixture
def images(tmp_path: Path) -> Iterator[ImageServer]:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "red.png").write_bytes(PNG)
    server = ImageServer(folder)
    yield server
    server.server.shutdown()


@pytest.fixture
def image_flow(flow_dir: Path) -> Path:
    write_flow(flow_dir, {"flow.dag.yaml": IMAGE_FLOW, "describe.py": DESCRIBE, "echo.py": ECHO})
    (flow_dir / "logo.png").write_bytes(PNG)
    return flow_dir


def _test(flow: Path, tmp_path: Path, inputs: dict[str, Any]) -> Any:
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps(inputs))
    result = run_cli("flow", "test", "--flow", str(flow), "--inputs", str(path))
    assert result.code == 0, result.stderr
    return result.json()


@pytest.mark.parametrize("form", ["path", "data_uri", "base64_dict", "path_dict", "bare_base64"])
def test_an_image_input_reaches_a_python_tool_and_comes_out_as_a_file(image_flow: Path, tmp_path: Path,
                                                                      form: str) -> None:
    value = {"path": "logo.png", "data_uri": f"data:image/png;base64,{PNG_B64}",
             "base64_dict": {"data:image/png;base64": PNG_B64}, "path_dict": {"data:image/png;path": "logo.png"},
             "bare_base64": PNG_B64}[form]
    outputs = _test(image_flow, tmp_path, {"img": value})
    assert outputs["info"] == {"type": "Image", "mime": "image/png", "size": len(PNG), "text": "Image(f675cd54)",
                               "source_url": None, "same": True}
    # As `pf flow test` prints it: the dict form with the absolute path of a file under .promptflow/output.
    for name in ("picture", "echoed"):
        (key, path), = outputs[name].items()
        assert key == "data:image/png;path"
        assert Path(path).parent == (image_flow / ".promptflow" / "output").resolve()
        assert Path(path).read_bytes() == PNG


def test_an_image_url_is_fetched_only_for_a_tool(image_flow: Path, tmp_path: Path, images: ImageServer) -> None:
    url = images.url("red.png")
    outputs = _test(image_flow, tmp_path, {"img": url})
    assert outputs["info"]["source_url"] == url and outputs["info"]["same"] is True
    # An image from a URL is shown as that URL, never written (promptflow 1.18.5 does the same).
    assert outputs["picture"] == {"data:image/png;url": url}
    assert outputs["echoed"] == {"data:image/png;url": url}
    assert images.paths == ["/red.png", "/red.png"]  # once per tool that takes it; the output took none

    passthrough = write_flow(tmp_path / "passthrough", {"flow.dag.yaml": """
        inputs:
          img: {type: image}
        outputs:
          picture: {type: image, reference: "${inputs.img}"}
        nodes: []
        """})
    assert _test(passthrough, tmp_path, {"img": {"data:image/png;url": images.url("red.png?x=1")}}) == {
        "picture": {"data:image/png;url": images.url("red.png?x=1")}}
    assert len(images.paths) == 2


def test_an_image_url_that_fails_fails_its_node_in_one_line(image_flow: Path, tmp_path: Path,
                                                            images: ImageServer) -> None:
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps({"img": images.url("missing.png")}))
    result = run_cli("flow", "test", "--flow", str(image_flow), "--inputs", str(path))
    assert result.code == 1
    assert f"Image URL '{images.url('missing.png')}' answered 404 File not found." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_long_image_url_is_clipped_in_messages(image_flow: Path, tmp_path: Path, images: ImageServer) -> None:
    url = images.url("x" * 70_000 + ".png")  # longer than http.server takes: it answers 414
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps({"img": url}))
    result = run_cli("flow", "test", "--flow", str(image_flow), "--inputs", str(path))
    assert result.code == 1
    clipped = f"Image URL '{url[:120]}…{url[-60:]} ({len(url):,} characters)' answered 414"
    assert clipped in result.stderr, result.stderr[:2000]
    assert max(len(line) for line in result.stderr.splitlines()) < 1000


def test_an_image_that_cannot_be_read_is_a_usage_error(image_flow: Path, tmp_path: Path) -> None:
    for value, says in [("nope.png", "image file 'nope.png' cannot be read (No such file or directory"),
                        ({"kind": "x"}, "{'kind': 'x'} is no image; an image is a file path, an http(s) URL"),
                        ({"data:image/png;base64": "not base64!"}, "'not base64!...' is not valid base64")]:
        path = tmp_path / "inputs.json"
        path.write_text(json.dumps({"img": value}))
        result = run_cli("flow", "test", "--flow", str(image_flow), "--inputs", str(path))
        assert result.code == 2, result.stderr
        assert "Failed to load image for input 'img': " + says in result.stderr
        assert "Traceback" not in result.stderr


def test_a_literal_node_input_for_an_image_parameter_is_an_image(flow_dir: Path) -> None:
    write_flow(flow_dir, {"describe.py": DESCRIBE, "flow.dag.yaml": """
        outputs:
          info: {reference: "${describe.output}"}
        nodes:
        - name: describe
          type: python
          source: {type: code, path: describe.py}
          inputs: {img: logo.png}
        """})
    (flow_dir / "logo.png").write_bytes(PNG)
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    assert result.json()["info"]["same"] is True


def test_image_flows_validate_clean(image_flow: Path) -> None:
    flow_file = image_flow / "flow.dag.yaml"
    flow_file.write_text("message_format: basic\n" + flow_file.read_text().replace(
        "img: {type: image}", "img: {type: image, default: logo.png}"))
    result = run_cli("flow", "validate", "--source", str(image_flow))
    assert result.code == 0, result.stdout
    assert result.stdout == ""


def test_composite_values_convert_as_promptflow_does(tmp_path: Path) -> None:
    """expected_pf.json was recorded by running promptflow 1.18.5 by hand on the folder images/composite:
    `PF_DISABLE_TELEMETRY=true PF_DISABLE_TRACING=true ~/.cache/flowline/pf-venv/bin/pf flow test --flow .
    --inputs inputs.json` (the printed JSON; the random file names of its two image outputs replaced by
    <file>). The tool `describe.py` reports what each value became: an Image (its mime type, size and text),
    or the plain value — one-key `data:image/...;path|base64` dicts at any depth of a list or object input
    become images, strings and other dicts do not."""
    flow = tmp_path / "composite"
    shutil.copytree(IMAGES / "composite", flow)
    result = run_cli("flow", "test", "--flow", str(flow), "--inputs", str(flow / "inputs.json"))
    assert result.code == 0, result.stderr
    outputs = result.json()
    expected = json.loads((IMAGES / "composite" / "expected_pf.json").read_text())
    assert outputs["described"] == expected["described"]
    for name in ("out", "info"):
        (key, path), = outputs[name].items()
        assert key == next(iter(expected[name]))
        assert expected[name][key] == "<flow>/.promptflow/output/<file>.png"
        assert Path(path).parent == (flow / ".promptflow" / "output").resolve() and Path(path).suffix == ".png"


@pytest.fixture
def llm(tmp_path: Path) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    create_connection(tmp_path, f"name: test\ntype: open_ai\napi_key: {fake.api_key}\nbase_url: {fake.url}\n")
    yield fake
    fake.stop()


def _llm_flow(folder: Path, template: str, inputs: str, node_inputs: str, head: str = "") -> Path:
    chat = ", is_chat_output: true" if "is_chat_input" in inputs else ""
    return write_flow(folder, {"prompt.jinja2": template, "flow.dag.yaml": head + f"""
inputs:
{inputs}
outputs:
  answer: {{reference: "${{ask.output}}"{chat}}}
nodes:
- name: ask
  type: llm
  source: {{type: code, path: prompt.jinja2}}
  connection: test
  api: chat
  inputs:
    deployment_name: test-model
{node_inputs}
"""})


def test_an_image_variable_becomes_an_image_part_of_the_chat_request(llm: FakeOpenAI, flow_dir: Path,
                                                                     tmp_path: Path, images: ImageServer) -> None:
    _llm_flow(flow_dir, "user:\nWhat is in this picture?\n![image]({{img}})\nand {{ word }}\n",
              "  img: {type: image}\n  word: {type: string, default: thanks}",
              "    img: ${inputs.img}\n    word: ${inputs.word}")
    (flow_dir / "logo.png").write_bytes(PNG)
    for value, url in [("logo.png", f"data:image/png;base64,{PNG_B64}"),
                       ({"data:image/png;base64": PNG_B64}, f"data:image/png;base64,{PNG_B64}"),
                       (images.url("red.png"), images.url("red.png"))]:
        _test(flow_dir, tmp_path, {"img": value})
        assert llm.requests[-1].body["messages"] == [{"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": url, "detail": "auto"}},
            {"type": "text", "text": "and thanks"}]}]
    assert images.paths == []  # the model gets the URL itself


HISTORY_TEMPLATE = """system:
You describe pictures.
{% for item in chat_history %}
user:
{{ item.inputs.question }}
assistant:
{{ item.outputs.answer }}
{% endfor %}
user:
{{ question }}
"""


@pytest.mark.parametrize("message_format", ["basic", "openai-vision"])
def test_images_in_chat_history_and_question(llm: FakeOpenAI, flow_dir: Path, tmp_path: Path,
                                             message_format: str) -> None:
    _llm_flow(flow_dir, HISTORY_TEMPLATE,
              "  question: {type: list, is_chat_input: true}\n  chat_history: {type: list, is_chat_history: true}",
              "    question: ${inputs.question}\n    chat_history: ${inputs.chat_history}",
              head=f"message_format: {message_format}\n")
    (flow_dir / "logo.png").write_bytes(PNG)
    if message_format == "basic":
        earlier = ["What is this?", {"data:image/png;path": "logo.png"}]
        now = ["And this one?", {"data:image/png;base64": PNG_B64}]
    else:
        earlier = [{"type": "text", "text": "What is this?"},
                   {"type": "image_file", "image_file": {"path": "logo.png"}}]
        now = [{"type": "text", "text": "And this one?"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}]
    history = [{"inputs": {"question": earlier}, "outputs": {"answer": "A red square."}}]
    _test(flow_dir, tmp_path, {"question": now, "chat_history": history})
    part = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}", "detail": "auto"}}
    assert llm.requests[-1].body["messages"] == [
        {"role": "system", "content": "You describe pictures."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, part]},
        {"role": "assistant", "content": "A red square."},
        {"role": "user", "content": [{"type": "text", "text": "And this one?"}, part]}]


def test_a_batch_writes_its_images_into_the_run_folder(image_flow: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "pictures").mkdir(parents=True)
    (data / "pictures" / "red.png").write_bytes(PNG)
    rows = [{"img": "pictures/red.png"}, {"img": {"data:image/png;path": "pictures/red.png"}},
            {"img": "pictures/none.png"}]
    (data / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = run_cli("run", "create", "--flow", str(image_flow), "--data", str(data / "rows.jsonl"),
                     "--column-mapping", "img=${data.img}", "--name", "pictures")
    assert result.code == 0, result.stderr
    details = run_cli("run", "show-details", "--name", "pictures", "--json")
    assert details.code == 0, details.stderr
    lines = sorted(details.json(), key=lambda line: line["line_number"])
    folder = Path(run_cli("run", "show", "--name", "pictures").json()["folder"])
    for line in lines[:2]:
        assert line["status"] == "Completed"
        # Paths inside the run folder, relative to it: the run folder can move.
        (key, path), = line["outputs"]["picture"].items()
        assert key == "data:image/png;path" and path.startswith("images/")
        assert (folder / path).read_bytes() == PNG
        assert line["inputs"]["img"] == {"data:image/png;path": path}
    assert lines[2]["status"] == "Failed"
    assert "Failed to load image for input 'img' in line 2 of input data: image file 'pictures/none.png' cannot " \
           "be read" in lines[2]["error"]["message"]
    assert "data:image" not in (folder / "flow_outputs" / "output.jsonl").read_text().replace(
        "data:image/png;path", "")  # never the bytes
    # The HTML report shows them as pictures, embedded so the page stays one offline file.
    report = run_cli("run", "visualize", "--names", "pictures", "--html-path", str(tmp_path / "report.html"))
    assert report.code == 0, report.stderr
    page = (tmp_path / "report.html").read_text()
    picture = f"src='data:image/png;base64,{PNG_B64}'"
    assert page.count(picture) == 6  # inputs.img, outputs.picture and outputs.echoed of the two completed lines
    assert "<img class='image' alt='images/" in page


def test_an_evaluation_reads_the_images_of_the_run_it_evaluates(image_flow: Path, tmp_path: Path) -> None:
    # The parent keeps its images in its run folder ("images/..."), an input it took as text relative to its
    # data; the evaluation's data lies elsewhere and has neither.
    data = tmp_path / "data"
    (data / "pictures").mkdir(parents=True)
    (data / "pictures" / "red.png").write_bytes(PNG)
    row = {"img": "pictures/red.png", "name": "pictures/red.png", "imgs": [{"data:image/png;path": "pictures/red.png"}]}
    (data / "rows.jsonl").write_text(json.dumps(row) + "\n")
    parent = write_flow(tmp_path / "parent", {"flow.dag.yaml": """
        inputs:
          img: {type: image}
          name: {type: string}
          imgs: {type: list}
        outputs:
          picture: {type: image, reference: "${echo.output}"}
          listed: {reference: "${inputs.imgs}"}
        nodes:
        - name: echo
          type: python
          source: {type: code, path: echo.py}
          inputs: {img: "${inputs.img}"}
        """, "echo.py": ECHO})
    evaluation = write_flow(tmp_path / "evaluation", {"flow.dag.yaml": """
        inputs: {a: {type: image}, b: {type: image}, c: {type: image}, d: {type: list}}
        outputs:
          sizes: {reference: "${sizes.output}"}
        nodes:
        - name: sizes
          type: python
          source: {type: code, path: sizes.py}
          inputs: {a: "${inputs.a}", b: "${inputs.b}", c: "${inputs.c}", d: "${inputs.d}"}
        """, "sizes.py": """
        from promptflow.core import tool
        from promptflow.contracts.multimedia import Image

        @tool
        def sizes(a: Image, b: Image, c: Image, d: list) -> list:
            return [len(a), len(b), len(c), [len(item) for item in d]]
        """})
    result = run_cli("run", "create", "--flow", str(parent), "--data", str(data / "rows.jsonl"), "--name", "parent")
    assert result.code == 0, result.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "rows.jsonl").write_text("{}\n")
    result = run_cli("run", "create", "--flow", str(evaluation), "--data", str(tmp_path / "other" / "rows.jsonl"),
                     "--run", "parent", "--name", "evaluation", "--column-mapping", "a=${run.outputs.picture}",
                     "b=${run.inputs.img}", "c=${run.inputs.name}", "d=${run.outputs.listed}")
    assert result.code == 0, result.stderr
    details = run_cli("run", "show-details", "--name", "evaluation", "--json")
    (line,) = details.json()
    assert line["status"] == "Completed", line["error"]
    assert line["outputs"]["sizes"] == [len(PNG), len(PNG), len(PNG), [len(PNG)]]


def test_equal_bytes_of_other_mime_types_stay_two_images_in_a_prompt(llm: FakeOpenAI, flow_dir: Path,
                                                                    tmp_path: Path) -> None:
    _llm_flow(flow_dir, "user:\n{% for i in imgs %}![image]({{i}})\n{% endfor %}",
              "  imgs: {type: list}", "    imgs: ${inputs.imgs}")
    _test(flow_dir, tmp_path, {"imgs": [{"data:image/png;base64": PNG_B64}, {"data:image/jpeg;base64": PNG_B64}]})
    assert llm.requests[-1].body["messages"] == [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": f"data:image/{kind};base64,{PNG_B64}", "detail": "auto"}}
        for kind in ("png", "jpeg")]}]
