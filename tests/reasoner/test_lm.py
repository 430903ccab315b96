"""The language-model reasoner, offline: a tiny random LM built here, and a fake OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest

from reasoner.base import ReasonerError
from reasoner.lm import (
    LMReasoner, LocalLM, OpenAICompatible, SpecGenerator, _enforcer_schema, _example_json, from_config, lm_schema,
    system_prompt, user_prompt,
)
from worldgen.example_worlds import example_spec, examples
from worldgen.io import validate_spec
from worldgen.spec import json_schema

# Nothing here may touch the network; transformers is imported lazily (by the fixtures), after this.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

#: A small schema a random model finishes in a few tokens: a string enum and a bounded integer.
SMALL = {
    "type": "object",
    "properties": {"kind": {"type": "string", "enum": ["ball", "crate", "pin"]},
                   "count": {"type": "integer", "minimum": 0, "maximum": 9}},
    "required": ["kind", "count"],
    "additionalProperties": False,
}


# ---------------------------------------------------------------- a tiny local model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A randomly initialised 2-layer Llama (hidden 32) and a byte-level BPE tokenizer, saved like a hub folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-lm")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # any text can be spelled
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>", "<pad>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([system_prompt(), _example_json()], trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", pad_token="<pad>")
    tok.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8192,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def local_lm(model_dir):
    return LocalLM(model_dir, max_new_tokens=64)


def _follows_schema_prefix(text: str, schema: dict, patterns: bool = False) -> bool:
    """Whether lm-format-enforcer's own parser accepts ``text`` character by character."""
    from lmformatenforcer import JsonSchemaParser

    parser = JsonSchemaParser(_enforcer_schema(schema, patterns=patterns))
    for c in text:
        if c not in parser.get_allowed_characters():
            return False
        parser = parser.add_character(c)
    return True


def test_local_lm_small_schema_valid_and_deterministic(local_lm, model_dir):
    assert isinstance(local_lm, SpecGenerator)
    text = local_lm.generate("You answer in JSON.", "A thing, please.", SMALL)
    data = json.loads(text)
    jsonschema.validate(data, SMALL)
    assert local_lm.generate("You answer in JSON.", "A thing, please.", SMALL) == text
    assert LocalLM(model_dir, max_new_tokens=64).generate("You answer in JSON.", "A thing, please.", SMALL) == text


def test_local_lm_sampling_is_seeded(model_dir):
    texts = {seed: LocalLM(model_dir, max_new_tokens=64, temperature=1.0, seed=seed).generate("s", "u", SMALL)
             for seed in (1, 1, 2, 3)}
    for text in texts.values():
        jsonschema.validate(json.loads(text), SMALL)
    again = LocalLM(model_dir, max_new_tokens=64, temperature=1.0, seed=1)
    assert again.generate("s", "u", SMALL) == again.generate("s", "u", SMALL) == texts[1]


@pytest.mark.parametrize("patterns", [False, True])
def test_local_lm_full_schema_output_is_a_schema_prefix(model_dir, patterns):
    lm = LocalLM(model_dir, max_new_tokens=80, enforce_patterns=patterns)
    text = lm.generate(system_prompt(), user_prompt("a ball on a table"), lm_schema())
    assert text.lstrip().startswith("{") and len(text) > 40
    assert _follows_schema_prefix(text, lm_schema(), patterns=patterns)
    assert "\n\n\n" not in text and not any(c * 13 in text for c in "0123456789")  # runs are capped


def test_lm_reasoner_reports_running_out_of_tokens(model_dir):
    reasoner = LMReasoner(LocalLM(model_dir, max_new_tokens=24), verify=False, max_attempts=2)
    with pytest.raises(ReasonerError) as info:
        reasoner.reason("ten pins and a ball")
    err = info.value
    assert err.requirement == "model.valid_json"
    assert "builtin" in str(err) and "2 attempt" in str(err)
    steps = err.trace.stage("model")
    assert [s.data["attempt"] for s in steps] == [1, 2] and not any(s.data["ok"] for s in steps)


def test_local_lm_uses_the_chat_template(local_lm):
    tok = local_lm.tokenizer
    plain = tok.decode(local_lm.prompt_ids("SYS", "USER"))
    assert plain == "SYS\n\nUSER\n"
    tok.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}<assistant>{% endif %}")
    try:
        assert tok.decode(local_lm.prompt_ids("SYS", "USER")) == "<system>SYS\n<user>USER\n<assistant>"
        jsonschema.validate(json.loads(local_lm.generate("SYS", "USER", SMALL)), SMALL)
    finally:
        tok.chat_template = None


def test_local_lm_bad_folders(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ReasonerError, match="nope") as info:
        LocalLM(missing)
    assert info.value.requirement == "model.folder"
    with pytest.raises(ReasonerError, match="no config.json"):
        LocalLM(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ReasonerError, match=str(tmp_path.name)):
        LocalLM(tmp_path)
    with pytest.raises(ValueError, match="max_new_tokens"):
        LocalLM(tmp_path, max_new_tokens=0)


# ---------------------------------------------------------------- the schema and the prompts


def test_lm_schema_is_a_valid_tightened_schema():
    schema = lm_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    tight, loose = jsonschema.Draft202012Validator(schema), jsonschema.Draft202012Validator(json_schema())
    example = json.loads(_example_json())
    assert not list(tight.iter_errors(example))
    validate_spec(example)
    for name in examples():  # every shipped world fits (once the fields the reasoner sets are dropped)
        data = example_spec(name).model_dump(mode="json")
        for k in ("prompt", "seed", "schema_version"):
            data["metadata"].pop(k)
        assert not list(tight.iter_errors(data)), name
    # pydantic needs the union tag; the generated schema does not say so, the tightened one does
    untagged = {"metadata": {"title": "t"}, "entities": [{"name": "b", "kind": "box", "shape": {"size": [1, 1, 1]}}]}
    assert not list(loose.iter_errors(untagged))
    assert list(tight.iter_errors(untagged))
    with pytest.raises(ValueError, match="discriminator"):
        validate_spec(untagged)
    assert not tight.is_valid({"metadata": {"title": "t"}, "entities": []})
    assert schema["properties"]["entities"]["maxItems"] == 64
    assert lm_schema() == schema and lm_schema() is not schema  # a fresh copy each time


def test_enforcer_reads_the_schema_like_the_example():
    assert _follows_schema_prefix(_example_json(), lm_schema())
    assert not _follows_schema_prefix('{"metadata":{"prompt":"x"', lm_schema())
    assert _enforcer_schema(SMALL)["properties"]["count"] == {"enum": list(range(10))}
    name = {"type": "string", "pattern": "^[a-z]+$"}
    assert _enforcer_schema(name) == {"type": "string", "maxLength": 68}
    assert _enforcer_schema(name, patterns=True) == name


def test_system_prompt_has_the_vocabulary_and_example():
    text = system_prompt()
    for word in ("collision(a, b, min_impulse?)", "enter/leave(zone, tag)", "set_property(", "count(tag=T",
                 '"tag:NAME"', "Push the crate"):
        assert word in text
    assert "a robot pushes" in text and '"prompt":"a robot' not in text and '"metadata":{"title"' in text
    assert user_prompt("x" * 10_000).count("x") == 4000


# ---------------------------------------------------------------- a fake OpenAI-compatible server


def completion(content: str) -> str:
    return json.dumps({"id": "c1", "object": "chat.completion",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                    "finish_reason": "stop"}]})


class FakeServer:
    """Answers POSTs with queued ``(status, body)`` pairs (the last one repeats) and records each request."""

    def __init__(self, replies: list[tuple[int, str]]):
        self.replies, self.requests = list(replies), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                status, text = outer.replies.pop(0) if len(outer.replies) > 1 else outer.replies[0]
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status in (301, 302, 307):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    servers = []

    def start(*replies: tuple[int, str]) -> FakeServer:
        servers.append(FakeServer(list(replies)))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


CANNED = example_spec("push_crate")


def test_openai_request_and_valid_world(serve):
    server = serve((200, completion(CANNED.model_dump_json())))
    gen = OpenAICompatible(server.url, "tiny-model", api_key="sk-secret-123", temperature=0.0, seed=3)
    spec, trace = LMReasoner(gen, verify=False).reason("a robot pushes a crate", seed=7)
    assert spec == CANNED.model_copy(update={"metadata": CANNED.metadata.model_copy(
        update={"prompt": "a robot pushes a crate", "seed": 7})})
    assert spec.metadata.prompt == "a robot pushes a crate" and spec.metadata.seed == 7
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-secret-123"
    body = req["body"]
    assert body["model"] == "tiny-model" and body["seed"] == 3 and body["temperature"] == 0.0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "a robot pushes a crate" in body["messages"][1]["content"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "WorldSpec"
    assert fmt["json_schema"]["schema"] == lm_schema() and fmt["json_schema"]["strict"] is False
    (step,) = trace.stage("model")
    assert step.data["ok"] and trace.reasoner == "lm"
    assert "sk-secret" not in repr(gen) and "sk-secret" not in trace.to_json()


def test_no_authorization_without_key_and_fenced_reply(serve):
    server = serve((200, completion("Here it is:\n```json\n" + CANNED.model_dump_json() + "\n```\nEnjoy!")))
    spec, _ = LMReasoner(OpenAICompatible(server.url + "/", "m"), verify=False).reason("crate")
    assert spec.entities == CANNED.entities
    assert "Authorization" not in server.requests[0]["headers"]
    assert server.requests[0]["path"] == "/v1/chat/completions"


def test_invalid_json_then_valid_takes_two_attempts(serve):
    server = serve((200, completion('{"metadata": {"title": "oops"')), (200, completion(CANNED.model_dump_json())))
    spec, trace = LMReasoner(OpenAICompatible(server.url, "m"), verify=False).reason("crate")
    assert spec.entities == CANNED.entities
    steps = trace.stage("model")
    assert [(s.data["attempt"], s.data["ok"]) for s in steps] == [(1, False), (2, True)]
    assert steps[0].data["requirement"] == "model.valid_json"
    retry = server.requests[1]["body"]["messages"][1]["content"]
    assert "rejected" in retry and "not valid JSON" in retry


def test_invalid_world_twice_names_the_field(serve):
    data = CANNED.model_dump(mode="json")
    data["rules"][0]["on"]["tag"] = "crates"  # no entity has this tag
    server = serve((200, completion(json.dumps(data))))
    with pytest.raises(ReasonerError) as info:
        LMReasoner(OpenAICompatible(server.url, "m"), verify=False, max_attempts=2).reason("crate")
    err = info.value
    assert err.requirement == "model.valid_spec"
    assert "rules.0 ('delivered').on.tag" in str(err) and "'crates'" in str(err) and "builtin" in str(err)
    assert len(server.requests) == 2 and len(err.trace.stage("model")) == 2
    assert "on.tag" in server.requests[1]["body"]["messages"][1]["content"]


def test_http_error_is_clear_and_not_retried(serve):
    server = serve((500, '{"error": "model exploded while loading weights"}'))
    with pytest.raises(ReasonerError) as info:
        LMReasoner(OpenAICompatible(server.url, "m", api_key="sk-x"), verify=False).reason("crate")
    assert info.value.requirement == "model.http"
    assert "HTTP 500" in str(info.value) and "model exploded" in str(info.value) and "sk-x" not in str(info.value)
    assert len(server.requests) == 1 and info.value.trace is not None


def test_connection_refused_is_clear():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gen = OpenAICompatible(f"http://127.0.0.1:{port}/v1", "m", timeout=5)
    with pytest.raises(ReasonerError, match="connection refused") as info:
        gen.generate("s", "u", {})
    assert info.value.requirement == "model.http" and f":{port}/v1/chat/completions" in str(info.value)


def test_json_object_fallback_on_400(serve):
    server = serve((400, '{"error": {"message": "response_format type json_schema is not supported"}}'),
                   (200, completion(CANNED.model_dump_json())))
    gen = OpenAICompatible(server.url, "m")
    spec, _ = LMReasoner(gen, verify=False).reason("crate")
    assert spec.entities == CANNED.entities
    formats = [r["body"]["response_format"] for r in server.requests]
    assert formats[0]["type"] == "json_schema" and formats[1] == {"type": "json_object"}
    gen.generate("s", "u", {})
    assert server.requests[2]["body"]["response_format"] == {"type": "json_object"}  # remembered


def test_other_400_is_an_error(serve):
    server = serve((400, '{"error": "unknown model m"}'))
    with pytest.raises(ReasonerError, match="HTTP 400.*unknown model"):
        OpenAICompatible(server.url, "m").generate("s", "u", {})
    assert len(server.requests) == 1


@pytest.mark.parametrize("reply", ["not json", '{"choices": []}', '{"choices": [{"message": {"content": null}}]}'])
def test_malformed_responses(serve, reply):
    server = serve((200, reply))
    with pytest.raises(ReasonerError) as info:
        OpenAICompatible(server.url, "m").generate("s", "u", {})
    assert info.value.requirement == "model.response"


def test_oversized_body_and_redirects_are_refused(serve):
    server = serve((200, "x" * (2 * 1024 * 1024 + 10)))
    with pytest.raises(ReasonerError, match="more than") as info:
        OpenAICompatible(server.url, "m").generate("s", "u", {})
    assert info.value.requirement == "model.response"
    server = serve((302, ""))
    with pytest.raises(ReasonerError, match="HTTP 302"):
        OpenAICompatible(server.url, "m", api_key="k").generate("s", "u", {})
    assert len(server.requests) == 1


# ---------------------------------------------------------------- the reasoner with any generator


class Canned:
    def __init__(self, *texts: str):
        self.texts, self.calls = list(texts), []

    def generate(self, system: str, user: str, schema: dict) -> str:
        self.calls.append(user)
        return self.texts.pop(0) if len(self.texts) > 1 else self.texts[0]


def test_reasoner_with_a_plain_generator():
    gen = Canned("<think>a yard {with braces}</think>" + CANNED.model_dump_json())
    spec, trace = LMReasoner(gen, verify=False).reason("crate", images=["sketch.png"])
    assert spec.entities == CANNED.entities and len(gen.calls) == 1
    assert "ignored" in trace.stage("model")[0].text
    with pytest.raises(ReasonerError) as info:
        LMReasoner(Canned("[1, 2]"), verify=False, max_attempts=1).reason("crate")
    assert info.value.requirement == "model.valid_spec"
    with pytest.raises(ReasonerError) as info:
        LMReasoner(Canned("[" * 100_000), verify=False, max_attempts=1).reason("crate")
    assert info.value.requirement == "model.valid_json"
    with pytest.raises(ReasonerError, match="over"):
        LMReasoner(Canned(" " * 1_000_001), verify=False, max_attempts=1).reason("crate")
    with pytest.raises(ReasonerError) as info:
        LMReasoner(gen, verify=False).reason("crate", seed=-1)
    assert info.value.requirement == "seed"
    with pytest.raises(TypeError):
        LMReasoner(object())


# ---------------------------------------------------------------- configuration strings


def test_from_config(model_dir, monkeypatch):
    monkeypatch.delenv("WORLDGEN_LM_API_KEY", raising=False)
    r = from_config("http://localhost:11434/v1#qwen2.5:0.5b")
    assert isinstance(r, LMReasoner) and r.verify and isinstance(r.generator, OpenAICompatible)
    assert (r.generator.base_url, r.generator.model) == ("http://localhost:11434/v1", "qwen2.5:0.5b")
    assert r.generator.url == "http://localhost:11434/v1/chat/completions" and "api_key" not in repr(r)
    monkeypatch.setenv("WORLDGEN_LM_API_KEY", "sk-env")
    assert "api_key=***" in repr(from_config("https://example.org/v1/#gpt-x").generator)
    assert from_config("https://example.org/v1/#gpt-x").generator.base_url == "https://example.org/v1"
    local = from_config(f"lm:{model_dir}", verify=False)
    assert isinstance(local.generator, LocalLM) and local.generator.path == model_dir and not local.verify
    for bad in ("http://localhost:11434/v1", "http://localhost:11434/v1#", "lm:", "ollama", "ftp://x/v1#m"):
        with pytest.raises(ValueError):
            from_config(bad)
    with pytest.raises(ReasonerError, match="does not exist"):
        from_config("lm:/no/such/model/folder")
