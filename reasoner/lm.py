"""A language-model reasoner: a model writes the world as JSON; validation and simulation judge it.

Contract
--------
:class:`LMReasoner` asks a :class:`SpecGenerator` (anything with
``generate(system, user, schema) -> str``) for a :class:`~worldgen.spec.WorldSpec` as JSON text.
Two generators ship here:

- :class:`LocalLM`: any causal-LM folder that ``transformers`` can load (``config.json``,
  weights, tokenizer), loaded with ``local_files_only=True`` and never with remote code.
  Decoding is constrained by lm-format-enforcer to the JSON schema (its structure: keys, types,
  enums, lengths; string patterns and numeric bounds are left to validation), so the text is a
  whole document of that shape unless ``max_new_tokens`` runs out.
  Greedy when ``temperature == 0``, else sampled with a ``torch.Generator`` seeded with
  ``seed``: the same prompt, model and settings give the same text.
- :class:`OpenAICompatible`: ``POST {base_url}/chat/completions`` on an OpenAI-compatible
  server (Ollama, vLLM, llama.cpp server), asking for ``response_format`` ``json_schema``
  (``json_object`` if the server refuses that). Standard library only (urllib).

What :meth:`LMReasoner.reason` does with the text, in order: strips code fences (and a leading
``<think>`` block), parses the JSON (at most :data:`MAX_REPLY_BYTES`), validates it with
:func:`worldgen.io.validate_spec`, and on either failure asks again with the error appended to
the prompt, up to ``max_attempts`` generations in all; every attempt is a ``"model"`` step of
the trace. It then sets ``metadata.prompt`` and ``metadata.seed`` and, when ``verify`` is true,
hands the spec to :func:`reasoner.verify.verify_and_repair`, which simulates it and repairs or
rejects it (its ``"verification"``/``"repair"`` steps join the same trace). When no attempt
gives a valid world it raises :class:`~reasoner.base.ReasonerError` with ``requirement``
``"model.valid_json"`` or ``"model.valid_spec"`` and the last error; transport failures raise
``"model.http"`` / ``"model.response"`` at once (no retry). The model never runs code: its only
output is data that is validated like any untrusted world file.

``reasoner=`` of :func:`worldgen.create` accepts an instance, e.g.
``worldgen.create(prompt, reasoner=LMReasoner(LocalLM("/models/qwen")))``; :func:`from_config`
builds one from a string (``"lm:/models/qwen"`` or ``"http://localhost:11434/v1#qwen2.5:0.5b"``).
See docs/lm-backend.md.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reasoner.base import Reasoner, ReasonerError
from reasoner.trace import ReasoningTrace
from worldgen.io import SpecError, validate_spec
from worldgen.spec import WorldSpec, json_schema

__all__ = [
    "LMReasoner", "LocalLM", "MAX_HTTP_BYTES", "MAX_REPLY_BYTES", "OpenAICompatible", "SpecGenerator",
    "from_config", "lm_schema", "system_prompt", "user_prompt",
]

MAX_REPLY_BYTES = 1_000_000  #: JSON text from a model that is parsed at all
MAX_HTTP_BYTES = 2 * 1024 * 1024  #: response body read from an HTTP server
MAX_PROMPT_CHARS = 4000  #: characters of the user's prompt shown to the model (metadata keeps it all)
MAX_ERROR_CHARS = 2000  #: characters of a validation error fed back to the model on a retry
MAX_DIGIT_RUN = 12  #: LocalLM: digits in a row (lm-format-enforcer does not bound a number's length)
MAX_WHITESPACE_RUN = 2  #: LocalLM: blanks in a row (compact JSON: fewer tokens, and no runaway blanks)
MAX_INTEGER_ENUM = 1000  #: LocalLM: bounded integers with at most this many values are enforced as enums
PATTERN_MAX_LENGTH = 68  #: LocalLM: the length cap that replaces a string pattern (unless enforce_patterns)

#: Array caps of :func:`lm_schema` by property name (other arrays: at most :data:`LM_MAX_ITEMS`).
LM_ARRAY_CAPS = {"entities": 64, "rules": 32, "joints": 32}
LM_MAX_ITEMS = 16
LM_MAX_TEXT = 300  #: characters of any free-text string in :func:`lm_schema`
LM_MAX_VARIABLES = 32
_METADATA_SET_BY_REASONER = ("prompt", "seed", "schema_version")
_UNION_TAGS = ("type", "event", "do")  # discriminator fields of Shape, Trigger and Effect


# ---------------------------------------------------------------- the generator protocol


@runtime_checkable
class SpecGenerator(Protocol):
    """Anything that turns a system prompt, a user prompt and a JSON schema into JSON text."""

    def generate(self, system: str, user: str, schema: dict) -> str:
        """JSON text (ideally conforming to ``schema``); raises ReasonerError on transport failures."""
        ...


# ---------------------------------------------------------------- the schema the model writes


@functools.lru_cache(maxsize=1)
def _lm_schema() -> str:
    schema = copy.deepcopy(json_schema())
    defs = schema.get("$defs", {})

    def walk(node: Any, key: str | None) -> None:
        """Tightens one schema node (``key``: the property it describes, if any), then its children."""
        if not isinstance(node, dict):
            return
        node.pop("title", None)
        if "oneOf" in node:  # a discriminated union: anyOf is equivalent, and lm-format-enforcer resolves its $refs
            tag = (node.pop("discriminator", None) or {}).get("propertyName")
            node["anyOf"] = node.pop("oneOf")
            for member in node["anyOf"]:
                target = defs.get(member.get("$ref", "").rsplit("/", 1)[-1], member)
                if tag and tag in target.get("properties", {}):
                    target["required"] = [tag, *[r for r in target.get("required", []) if r != tag]]
        if node.get("type") == "array":
            if "prefixItems" in node and "items" not in node:  # tuples: repeat the (equal) item schemas as items
                uniq = [s for i, s in enumerate(node["prefixItems"]) if s not in node["prefixItems"][:i]]
                node["items"] = copy.deepcopy(uniq[0] if len(uniq) == 1 else {"anyOf": uniq})
            cap = LM_ARRAY_CAPS.get(key or "", LM_MAX_ITEMS)
            node["maxItems"] = min(node.get("maxItems", cap), cap)
        if node.get("type") == "string" and not ({"pattern", "enum", "const"} & set(node)):
            node["maxLength"] = min(node.get("maxLength", LM_MAX_TEXT), LM_MAX_TEXT)
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, name)
        for word in ("items", "additionalProperties", "propertyNames"):
            walk(node.get(word), None)
        for word in ("prefixItems", "anyOf", "allOf"):
            for sub in node.get(word, []):
                walk(sub, None)
        for sub in (node.get("patternProperties") or {}).values():
            walk(sub, None)

    for d in defs.values():
        walk(d, None)
    walk(schema, None)

    meta = defs["Metadata"]
    for name in _METADATA_SET_BY_REASONER:
        meta["properties"].pop(name, None)
    meta["required"] = ["title"]
    meta["properties"]["title"]["maxLength"] = 80
    props = schema["properties"]
    schema["required"] = ["metadata", "entities"]
    props["entities"]["minItems"] = 1
    variables = props["variables"]
    (pattern, value), = variables.pop("patternProperties").items()
    variables["propertyNames"] = {"pattern": pattern}
    variables["additionalProperties"] = value
    variables["maxProperties"] = min(variables.get("maxProperties", LM_MAX_VARIABLES), LM_MAX_VARIABLES)
    return json.dumps(schema)


def lm_schema() -> dict:
    """The JSON schema a model is constrained to: the WorldSpec schema, tightened for generation.

    Tightening only (every document it accepts is also accepted by
    :func:`worldgen.spec.json_schema`), so that constrained decoding terminates and a small
    model cannot wander off:

    - arrays hold at most :data:`LM_ARRAY_CAPS` items (64 entities, 32 rules, 32 joints) or
      :data:`LM_MAX_ITEMS` (16) elsewhere; fixed-length tuples keep their length and also get
      an ``items`` schema (the same number schema), which constrained decoders that ignore
      ``prefixItems`` (lm-format-enforcer) need;
    - free-text strings hold at most :data:`LM_MAX_TEXT` characters (titles 80);
    - discriminated unions (shapes, rule events, effects) use ``anyOf`` instead of ``oneOf``
      (equivalent, as the tags differ; lm-format-enforcer only follows ``$ref`` in ``anyOf``),
      and the tag (``type``/``event``/``do``) is *required*, as pydantic requires it;
    - ``metadata`` and at least one entity are required, ``metadata.title`` too;
      ``metadata.prompt``, ``seed`` and ``schema_version`` are left out (the reasoner sets them);
    - ``variables`` names must match the identifier pattern and values must be variables
      (pydantic's ``patternProperties`` alone leaves other names open), at most 32.

    Cross-references (a rule's tag names an entity's tag, ...) and the model validators
    (a plane is static, a timer has ``every`` or ``at``) cannot be said in JSON Schema; they are
    checked by :func:`worldgen.io.validate_spec` afterwards. Numeric bounds stay in the schema
    but lm-format-enforcer does not enforce them (validation does).
    """
    return json.loads(_lm_schema())


# ---------------------------------------------------------------- prompts


def _union_members(model: type, field: str) -> list[type]:
    import typing

    ann = model.model_fields[field].annotation
    while typing.get_origin(ann) is not typing.Union:
        ann = typing.get_args(ann)[0]
    return list(typing.get_args(ann))


def _vocabulary(model: type, field: str, tag: str) -> list[str]:
    """One line per union member: ``collision(a, b, min_impulse?)``."""
    import typing

    lines = []
    for member in _union_members(model, field):
        values = typing.get_args(member.model_fields[tag].annotation)
        args = [f"{n}{'' if f.is_required() else '?'}" for n, f in member.model_fields.items() if n != tag]
        lines.append(f"{'/'.join(values)}({', '.join(args)})")
    return lines


@functools.lru_cache(maxsize=1)
def _example_json() -> str:
    """A compact few-shot example: push_crate without defaults (discriminators kept) or metadata.prompt."""
    from worldgen.example_worlds import example_spec

    spec = example_spec("push_crate")
    full = spec.model_dump(mode="json")
    compact = spec.model_dump(mode="json", exclude_defaults=True)

    def keep_tags(full_node: Any, node: Any) -> Any:
        if isinstance(node, dict) and isinstance(full_node, dict):
            tags = {t: full_node[t] for t in _UNION_TAGS if isinstance(full_node.get(t), str) and t not in node}
            return {**tags, **{k: keep_tags(full_node.get(k), v) for k, v in node.items()}}
        if isinstance(node, list) and isinstance(full_node, list):
            return [keep_tags(f, v) for f, v in zip(full_node, node)]
        return round(node, 3) if isinstance(node, float) else node

    data = keep_tags(full, compact)
    for name in _METADATA_SET_BY_REASONER:
        data["metadata"].pop(name, None)
    return json.dumps(data, separators=(",", ":"))


@functools.lru_cache(maxsize=1)
def system_prompt() -> str:
    """The system prompt: what a world is, the rules-as-data vocabulary and a compact example."""
    from worldgen.expr import PREDICATES
    from worldgen.spec import KEY_NAMES, Rule

    events = "; ".join(_vocabulary(Rule, "on", "event"))
    effects = "; ".join(_vocabulary(Rule, "do", "do"))
    keys = ", ".join(k for k in KEY_NAMES if len(k) > 1 and not k.startswith("f"))
    return f"""You design interactive physics worlds for worldgen. Reply with ONE JSON object, a WorldSpec, \
and nothing else.

A world has entities (things that collide or detect), players with controls bound to keys, variables \
(numbers such as score, lives, a timer), rules (on an event, when a condition holds, do effects) and goals \
(a condition that ends the episode with win, lose, draw or done). Rules are data, never code.
Units: metres, kilograms, seconds, newtons; z is up; angles in degrees. The ground is a static plane \
(shape {{"type":"plane"}}) at z=0. position is the centre of the shape: a box of height h resting on the \
ground has z = h/2.
Entity: name (a unique identifier), kind (a lowercase noun), tags (labels rules refer to), shape \
({{"type":"box","size":[x,y,z]}} full extents | {{"type":"sphere","radius":r}} | \
{{"type":"cylinder","radius":r,"height":h}} | {{"type":"capsule","radius":r,"height":h}} | \
{{"type":"plane"}}, static only), position, rotation, velocity, static (never moves), sensor (no body: \
a zone that detects what enters it; make it static), mass (kg), material (friction, restitution, damping), \
appearance (color [r,g,b] in 0..1, look).
Control: name, type (button | axis with a range), target entity, apply (impulse | force | torque | \
velocity | move | none), direction, strength, keys (a-z, 0-9, {keys}).
Rule events ("on", ? = optional): {events}.
Rule effects ("do"): {effects}. An effect target is an entity name, "tag:NAME", "$subject" or "$other".
Expressions (rule "when", goal "when", effect values): numbers, variables, time, tick, and/or/not, \
comparisons, + - * /, count(tag=T), count(tag=T, {'|'.join(PREDICATES)}), count(tag=T, in=ZONE), \
x(e) y(e) z(e) vx(e) vy(e) vz(e) speed(e) tilt(e) exists(e), distance(e1, e2), min, max, abs, clamp, random().
Every tag, entity, zone, template, variable and control that a rule or goal names must exist in the world.

Example, for "a robot pushes a crate onto a target in a walled yard":
{_example_json()}"""


def user_prompt(prompt: str) -> str:
    """The user message for ``prompt`` (its first :data:`MAX_PROMPT_CHARS` characters)."""
    return f"Prompt: {prompt[:MAX_PROMPT_CHARS]}\nWrite the WorldSpec JSON for this prompt."


# ---------------------------------------------------------------- local transformers models


@functools.lru_cache(maxsize=1)
def _official_builder() -> Any:
    """lm-format-enforcer's ``build_transformers_prefix_allowed_tokens_fn``, or None.

    Its module imports ``PreTrainedTokenizerBase`` from ``transformers.tokenization_utils``,
    which transformers 5 no longer provides; then the same TokenEnforcer is built directly
    (the wrapper adds nothing else).
    """
    try:
        from lmformatenforcer.integrations.transformers import build_transformers_prefix_allowed_tokens_fn
    except ImportError:
        return None
    return build_transformers_prefix_allowed_tokens_fn


def _enforcer_available() -> None:
    try:
        import lmformatenforcer  # noqa: F401
    except ImportError as e:  # pragma: no cover - an install problem
        raise ReasonerError(f"LocalLM needs lm-format-enforcer ({e})", requirement="model.dependencies") from None


class LocalLM:
    """A :class:`SpecGenerator` over a local ``transformers`` causal-LM folder.

    ``path`` holds ``config.json``, the weights and the tokenizer (as written by
    ``save_pretrained`` or downloaded from a hub beforehand); nothing is fetched and no remote
    code runs. ``dtype`` is a torch dtype or its name (``"bfloat16"``); None means float32 on
    CPU and the checkpoint's dtype elsewhere. Generation is constrained by lm-format-enforcer,
    so the text always follows the schema's structure: keys, types, enums, array and string
    lengths (it stops short only when ``max_new_tokens`` runs out). Deterministic: greedy when
    ``temperature == 0``, otherwise sampled with a ``torch.Generator`` seeded with ``seed`` at
    each call.

    String patterns (identifiers, tags, kinds) are enforced only with ``enforce_patterns=True``:
    lm-format-enforcer is slow inside them with large vocabularies (see :func:`_enforcer_schema`);
    otherwise they are only length-capped while decoding, and validation checks them.
    """

    def __init__(self, path: str | os.PathLike[str], *, device: str = "cpu", max_new_tokens: int = 2048,
                 temperature: float = 0.0, seed: int = 0, dtype: Any = None, enforce_patterns: bool = False):
        import torch

        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
        if not temperature >= 0:
            raise ValueError(f"temperature must be >= 0, got {temperature!r}")
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ReasonerError(f"model folder {str(folder)!r} does not exist (or is not a folder); give the "
                                "folder of a transformers causal LM (config.json, weights, tokenizer)",
                                requirement="model.folder")
        if not (folder / "config.json").is_file():
            raise ReasonerError(f"{str(folder)!r} is not a transformers model folder: it has no config.json",
                                requirement="model.folder")
        _enforcer_available()
        if isinstance(dtype, str):
            if not isinstance(getattr(torch, dtype, None), torch.dtype):
                raise ValueError(f"unknown dtype {dtype!r}; e.g. 'float32', 'bfloat16', 'float16'")
            dtype = getattr(torch, dtype)
        if dtype is None:
            dtype = torch.float32 if str(device).startswith("cpu") else "auto"
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            self.model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, dtype=dtype)
        except (OSError, ValueError, KeyError, TypeError, ImportError, RuntimeError) as e:
            raise ReasonerError(f"cannot load a causal LM from {str(folder)!r}: {type(e).__name__}: "
                                f"{str(e)[:300]}", requirement="model.folder") from None
        self.model.to(device)
        self.model.eval()
        self.path, self.device = folder, device
        self.max_new_tokens, self.temperature, self.seed = max_new_tokens, float(temperature), int(seed)
        self.enforce_patterns = bool(enforce_patterns)
        self._tokenizer_data: Any = None
        self._digits: dict[int, int] | None = None
        eos = {self.tokenizer.eos_token_id}
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        eos.update(gen_eos if isinstance(gen_eos, (list, tuple)) else [gen_eos])
        self.eos_ids = sorted(i for i in eos if isinstance(i, int))
        if not self.eos_ids:
            raise ReasonerError(f"the tokenizer in {str(folder)!r} has no end-of-sequence token",
                                requirement="model.folder")

    def __repr__(self) -> str:
        return f"LocalLM({str(self.path)!r}, device={self.device!r})"

    # ------------------------------------------------------------ prompt and constraint

    def prompt_ids(self, system: str, user: str) -> list[int]:
        """Token ids of the prompt: the chat template if the tokenizer has one, else plain text."""
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            for messages in ([{"role": "system", "content": system}, {"role": "user", "content": user}],
                             [{"role": "user", "content": f"{system}\n\n{user}"}]):  # templates without system
                try:
                    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
                except Exception:  # noqa: BLE001 - jinja raises for unsupported roles; try without
                    continue
                if isinstance(text, str):
                    return list(tok(text, add_special_tokens=False)["input_ids"])
        return list(tok(f"{system}\n\n{user}\n", add_special_tokens=True)["input_ids"])

    def _token_data(self) -> Any:
        """lm-format-enforcer's per-tokenizer tables (built once: one decode per vocabulary entry)."""
        if self._tokenizer_data is None:
            from lmformatenforcer import TokenEnforcerTokenizerData

            tok = self.tokenizer
            vocab = len(tok)
            special = set(tok.all_special_ids)
            ids = [i for i in range(vocab) if i not in special]
            zero = tok.encode("0", add_special_tokens=False)[-1]
            # As lm-format-enforcer's transformers integration does: decoding after "0" shows a leading space.
            after_zero = tok.batch_decode([[zero, i] for i in ids])
            alone = tok.batch_decode([[i] for i in ids])
            regular = [(i, a[1:], len(a[1:]) > len(b)) for i, a, b in zip(ids, after_zero, alone)]

            def decode(tokens: list[int]) -> str:
                return tok.decode(tokens).rstrip("\ufffd")

            self._tokenizer_data = TokenEnforcerTokenizerData(regular, decode, list(self.eos_ids), False, vocab)
        return self._tokenizer_data

    def _enforcer(self, schema: dict) -> Any:
        """lm-format-enforcer's TokenEnforcer for ``schema`` (see :func:`_enforcer_schema`)."""
        from lmformatenforcer import JsonSchemaParser

        parser = JsonSchemaParser(_enforcer_schema(schema, patterns=self.enforce_patterns))
        build = _official_builder()
        if build is None:
            from lmformatenforcer import TokenEnforcer

            enforcer = TokenEnforcer(self._token_data(), parser)
        else:
            enforcer = build(self._token_data(), parser).token_enforcer
        # The enforcer gives the parser a fresh config; every parser state shares that object.
        enforcer.root_parser.config.max_consecutive_whitespaces = MAX_WHITESPACE_RUN
        return enforcer

    def _digit_heads(self) -> dict[int, int]:
        """Token id → how many digits it starts with (tokens that start with a digit only)."""
        if self._digits is None:
            strs = self._token_data().tokenizer_tree.tokens_to_strs
            self._digits = {i: len(s) - len(s.lstrip("0123456789")) for i, s in strs.items() if s[:1].isdigit()}
        return self._digits

    # ------------------------------------------------------------ generation

    def generate(self, system: str, user: str, schema: dict) -> str:
        """JSON text following ``schema``, decoded token by token under lm-format-enforcer.

        On top of the schema, runs of digits are capped at :data:`MAX_DIGIT_RUN` and runs of
        whitespace at :data:`MAX_WHITESPACE_RUN` (lm-format-enforcer bounds neither the length of
        a number nor, by default, a run of 12 blanks), so that even an untrained model finishes.
        Decoding stops at an end-of-sequence token or as soon as the text is a complete JSON value.
        """
        import torch

        ids = self.prompt_ids(system, user)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if isinstance(limit, int) and len(ids) >= limit:
            raise ReasonerError(f"the prompt is {len(ids)} tokens; the model in {str(self.path)!r} holds at most "
                                f"{limit}", requirement="model.context")
        enforcer = self._enforcer(schema)
        digit_heads = self._digit_heads()
        generator = None
        if self.temperature > 0:
            generator = torch.Generator(device="cpu").manual_seed(self.seed)
        out: list[int] = []
        text = ""
        with torch.inference_mode():
            step = self.model(input_ids=torch.tensor([ids], device=self.device), use_cache=True)
            budget = self.max_new_tokens if not isinstance(limit, int) else min(self.max_new_tokens, limit - len(ids))
            for _ in range(budget):
                logits = step.logits[0, -1].float().cpu()
                try:  # keyed by the generated tokens only: the enforcer keeps one tuple per step
                    allowed = enforcer.get_allowed_tokens(out).allowed_tokens
                except ValueError:  # the enforcer reached a state with no continuation: stop here
                    break
                allowed = [a for a in allowed if 0 <= a < logits.shape[0]]
                run = len(text) - len(text.rstrip("0123456789"))
                if run:
                    capped = [a for a in allowed if run + digit_heads.get(a, 0) <= MAX_DIGIT_RUN]
                    allowed = capped or allowed
                if not allowed:
                    break
                mask = torch.full_like(logits, float("-inf"))
                mask[allowed] = 0.0
                logits = logits + mask
                if generator is None:
                    token = int(torch.argmax(logits))
                else:
                    probs = torch.softmax(logits / self.temperature, dim=-1)
                    token = int(torch.multinomial(probs, 1, generator=generator))
                if token in self.eos_ids:
                    break
                out.append(token)
                text = self.tokenizer.decode(out, skip_special_tokens=True)
                if text.rstrip().endswith("}") and _complete_json(text):
                    return text  # the object is complete: stop instead of padding with whitespace
                step = self.model(input_ids=torch.tensor([[token]], device=self.device),
                                  past_key_values=step.past_key_values, use_cache=True)
        return self.tokenizer.decode(out, skip_special_tokens=True)


def _enforcer_schema(schema: dict, *, patterns: bool = False) -> dict:
    """``schema`` as lm-format-enforcer should see it.

    - Bounded integers with at most :data:`MAX_INTEGER_ENUM` values become a numeric ``enum``
      (an equivalent schema): lm-format-enforcer ignores ``minimum``/``maximum`` but enforces enums.
    - Unless ``patterns``, a string ``pattern`` is replaced by ``maxLength``
      :data:`PATTERN_MAX_LENGTH` (a looser schema; validation still checks the pattern). Inside a
      pattern string lm-format-enforcer walks the whole vocabulary through its regex automaton at
      every token (about 0.5 s per token with a 32k vocabulary, several seconds with 150k, on
      one CPU core), while free text uses a cached token list.
    """
    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(x) for x in node]
        if not isinstance(node, dict):
            return node
        node = {k: walk(v) for k, v in node.items()}
        if node.get("type") == "integer" and "enum" not in node and "const" not in node:
            lo = node.get("minimum", node["exclusiveMinimum"] + 1 if "exclusiveMinimum" in node else None)
            hi = node.get("maximum", node["exclusiveMaximum"] - 1 if "exclusiveMaximum" in node else None)
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and 0 <= hi - lo < MAX_INTEGER_ENUM:
                lo, hi = int(-(-lo // 1)), int(hi // 1)
                node = {k: v for k, v in node.items() if k not in ("type", "minimum", "maximum", "exclusiveMinimum",
                                                                    "exclusiveMaximum")}
                node["enum"] = list(range(lo, hi + 1))
        if not patterns and node.get("type") == "string" and "pattern" in node:
            node.pop("pattern")
            node.setdefault("maxLength", PATTERN_MAX_LENGTH)
        return node

    return walk(schema)


def _complete_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


# ---------------------------------------------------------------- OpenAI-compatible servers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are errors: a POST with an API key is never re-sent elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


class OpenAICompatible:
    """A :class:`SpecGenerator` over ``POST {base_url}/chat/completions`` (Ollama, vLLM, llama.cpp, ...).

    Sends ``response_format = {"type": "json_schema", "json_schema": {"name": "WorldSpec",
    "schema": schema, "strict": False}}``; if the server answers 400 about ``response_format``
    it falls back to ``{"type": "json_object"}`` (and stays there). ``api_key`` is sent as a
    bearer token and appears in no error, log or repr. Response bodies are read up to
    :data:`MAX_HTTP_BYTES`; redirects are refused.
    """

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 60.0,
                 max_tokens: int = 4096, temperature: float = 0.0, seed: int = 0):
        parts = urllib.parse.urlsplit(str(base_url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an http(s) URL such as http://localhost:11434/v1, got "
                             f"{str(base_url)[:100]!r}")
        if not model or not isinstance(model, str):
            raise ValueError("model must name the served model, e.g. 'qwen2.5:0.5b'")
        self.base_url = str(base_url).rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout, self.max_tokens = float(timeout), int(max_tokens)
        self.temperature, self.seed = float(temperature), int(seed)
        self.json_object_only = False  # set once the server refused json_schema
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:
        key = ", api_key=***" if self._api_key else ""
        return f"OpenAICompatible({self.base_url!r}, {self.model!r}{key})"

    def generate(self, system: str, user: str, schema: dict) -> str:
        """The ``content`` of the first choice; ReasonerError ("model.http"/"model.response") on failures."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed,
        }
        if not self.json_object_only:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "WorldSpec", "schema": schema, "strict": False}}
            status, text = self._post(body)
            if status == 400 and re.search(r"response_format|json_schema", text, re.I):
                self.json_object_only = True
        if self.json_object_only:
            body["response_format"] = {"type": "json_object"}
            status, text = self._post(body)
        if status != 200:
            raise ReasonerError(f"{self.url} answered HTTP {status}: {_excerpt(text)}", requirement="model.http")
        return self._content(text)

    def _post(self, body: dict[str, Any]) -> tuple[int, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return resp.status, self._read(resp)
        except ReasonerError:
            raise
        except urllib.error.HTTPError as e:
            try:
                return e.code, self._read(e)
            finally:
                e.close()
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, ConnectionRefusedError):
                why = "connection refused; is the server running?"
            elif isinstance(reason, (TimeoutError, socket.timeout)):
                why = f"no answer within {self.timeout:g} s"
            elif isinstance(reason, socket.gaierror):
                why = f"unknown host ({reason})"
            else:
                why = str(reason)[:200]
            raise ReasonerError(f"cannot reach {self.url}: {why}", requirement="model.http") from None
        except (TimeoutError, socket.timeout):
            raise ReasonerError(f"{self.url} did not answer within {self.timeout:g} s",
                                requirement="model.http") from None
        except (OSError, ValueError) as e:  # a reset connection, a malformed status line, ...
            raise ReasonerError(f"talking to {self.url} failed: {type(e).__name__}: {str(e)[:200]}",
                                requirement="model.http") from None

    def _read(self, resp: Any) -> str:
        data = resp.read(MAX_HTTP_BYTES + 1)
        if len(data) > MAX_HTTP_BYTES:
            raise ReasonerError(f"{self.url} sent more than {MAX_HTTP_BYTES} bytes", requirement="model.response")
        return data.decode("utf-8", errors="replace")

    def _content(self, text: str) -> str:
        try:
            data = json.loads(text)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, RecursionError, KeyError, IndexError, TypeError):
            raise ReasonerError(f"{self.url} sent a malformed chat completion (expected "
                                f"choices[0].message.content): {_excerpt(text)}",
                                requirement="model.response") from None
        if not isinstance(content, str):
            raise ReasonerError(f"{self.url} sent no text content: {_excerpt(text)}", requirement="model.response")
        return content


def _excerpt(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return repr(text[:n] + ("…" if len(text) > n else ""))


# ---------------------------------------------------------------- the reasoner

_FENCE = re.compile(r"```[A-Za-z0-9_+-]*[ \t]*\n?(.*?)```", re.S)
_THINK = re.compile(r"^\s*<think>.*?</think>", re.S)


def _extract_json(text: str) -> str:
    """The JSON part of a reply: inside the first code fence, else from the first ``{`` to the last ``}``."""
    text = _THINK.sub("", text, count=1).strip()
    m = _FENCE.search(text)
    if m:
        text = m.group(1).strip()
    if not text.startswith("{") and "{" in text:
        text = text[text.index("{"):text.rindex("}") + 1] if "}" in text else text[text.index("{"):]
    return text


def _parse_reply(text: str) -> Any:
    """The JSON value of a model's reply; ValueError with a short reason if it is not JSON."""
    if not isinstance(text, str):
        raise ValueError(f"the generator returned {type(text).__name__}, not text")
    if len(text.encode("utf-8", errors="replace")) > MAX_REPLY_BYTES:
        raise ValueError(f"the reply is over {MAX_REPLY_BYTES} bytes")
    body = _extract_json(text)
    if not body:
        raise ValueError("the reply is empty")
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except ValueError as e:
        raise ValueError(f"not valid JSON: {str(e)[:200]} (the reply starts {_excerpt(body, 80)})") from None


class LMReasoner(Reasoner):
    """A reasoner whose world comes from a language model (see the module docstring for the contract).

    ``generator`` is a :class:`SpecGenerator` (:class:`LocalLM`, :class:`OpenAICompatible`, or
    your own). ``verify`` runs :func:`reasoner.verify.verify_and_repair` on the validated spec;
    ``max_attempts`` is the number of generations allowed (a failed parse or validation is fed
    back to the model). Reference ``images`` are not used (the step says so in the trace).
    """

    name = "lm"

    def __init__(self, generator: SpecGenerator, *, verify: bool = True, max_attempts: int = 2):
        if not callable(getattr(generator, "generate", None)):
            raise TypeError(f"generator needs a generate(system, user, schema) method, got {type(generator).__name__}")
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be a positive int, got {max_attempts!r}")
        self.generator, self.verify, self.max_attempts = generator, bool(verify), max_attempts

    def __repr__(self) -> str:
        return f"LMReasoner({self.generator!r}, verify={self.verify}, max_attempts={self.max_attempts})"

    def reason(self, prompt: str, images: Sequence[Any] = (), seed: int = 0) -> tuple[WorldSpec, ReasoningTrace]:
        """The world the model writes for ``prompt``, validated (and verified if ``verify``), and its trace."""
        if not isinstance(prompt, str):
            raise ReasonerError(f"the prompt must be text, got {type(prompt).__name__}", requirement="prompt")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise ReasonerError(f"seed must be an int in [0, 2**63), got {seed!r}", requirement="seed")
        trace = ReasoningTrace(prompt=prompt, reasoner=self.name)
        if len(images):
            trace.add("model", f"{len(images)} reference image(s) ignored: the language-model reasoner reads text only",
                      images=len(images))
        if len(prompt) > MAX_PROMPT_CHARS:
            trace.add("model", f"the model sees the first {MAX_PROMPT_CHARS} of {len(prompt)} prompt characters",
                      chars=len(prompt))
        system, user, schema = system_prompt(), user_prompt(prompt), lm_schema()
        requirement, error = "model.valid_json", ""
        spec = None
        for attempt in range(1, self.max_attempts + 1):
            message = user if not error else (
                f"{user}\n\nYour previous answer was rejected:\n{error[:MAX_ERROR_CHARS]}\n"
                "Write the corrected, complete WorldSpec JSON.")
            try:
                text = self.generator.generate(system, message, schema)
            except ReasonerError as e:
                e.trace = e.trace or trace
                trace.add("model", f"attempt {attempt}: the model could not be asked: {e}", attempt=attempt,
                          requirement=e.requirement)
                raise
            try:
                data = _parse_reply(text)
            except ValueError as e:
                requirement, error = "model.valid_json", str(e)
                trace.add("model", f"attempt {attempt}: the reply is not usable JSON: {error}", attempt=attempt,
                          ok=False, requirement=requirement, chars=len(text) if isinstance(text, str) else 0)
                continue
            if isinstance(data, dict) and isinstance(data.get("metadata", {}), dict):
                meta = {k: v for k, v in data.get("metadata", {}).items() if k not in ("prompt", "seed")}
                data = {**data, "metadata": {**meta, "prompt": prompt[:100_000], "seed": seed}}
            try:
                spec = validate_spec(data, "the model's world")
            except SpecError as e:
                requirement, error = "model.valid_spec", str(e)
                trace.add("model", f"attempt {attempt}: the JSON is not a valid world: {error[:MAX_ERROR_CHARS]}",
                          attempt=attempt, ok=False, requirement=requirement, errors=e.total)
                continue
            trace.add("model", f"attempt {attempt}: a valid world, {spec.metadata.title!r}: {len(spec.entities)} "
                               f"entities, {len(spec.rules)} rules, {len(spec.goals)} goals, "
                               f"{sum(len(p.controls) for p in spec.players)} controls",
                      attempt=attempt, ok=True, entities=len(spec.entities), rules=len(spec.rules))
            break
        if spec is None:
            what = "valid JSON" if requirement == "model.valid_json" else "a valid world"
            raise ReasonerError(
                f"the language model did not produce {what} in {self.max_attempts} attempt(s); last error: "
                f"{error[:MAX_ERROR_CHARS]}\nTry a larger model, more max_new_tokens / max_tokens or "
                "max_attempts, or reasoner=\"builtin\".", requirement=requirement, trace=trace)
        if self.verify:
            try:
                from reasoner.verify import verify_and_repair
            except ImportError as e:
                raise ReasonerError(f"verification is not available in this build ({e}); pass verify=False to "
                                    "use the validated world unverified", requirement="verify.available",
                                    trace=trace) from None
            try:
                spec = verify_and_repair(spec, trace)
            except ReasonerError as e:
                e.trace = e.trace or trace
                raise
        return spec, trace


# ---------------------------------------------------------------- configuration strings


def from_config(value: str, *, api_key: str | None = None, verify: bool = True) -> LMReasoner:
    """An :class:`LMReasoner` from a string.

    - ``"lm:/path/to/folder"``: a :class:`LocalLM` over that folder (``~`` is expanded);
    - ``"http://host:port/v1#model-name"`` (or ``https://``): an :class:`OpenAICompatible`
      server at that base URL serving ``model-name`` (the part after ``#``, required), e.g.
      ``"http://localhost:11434/v1#qwen2.5:0.5b"`` for Ollama. The API key is ``api_key`` or,
      if None, the ``WORLDGEN_LM_API_KEY`` environment variable (if set).
    """
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    v = value.strip()
    if v.startswith("lm:"):
        folder = v[3:].strip()
        if not folder:
            raise ValueError("'lm:' needs a model folder, e.g. 'lm:/models/qwen2.5-0.5b-instruct'")
        return LMReasoner(LocalLM(folder), verify=verify)
    if re.match(r"(?i)https?://", v):
        base, sep, model = v.partition("#")
        if not sep or not model.strip():
            raise ValueError(f"{v[:100]!r}: name the model after '#', e.g. 'http://localhost:11434/v1#qwen2.5:0.5b'")
        key = api_key if api_key is not None else os.environ.get("WORLDGEN_LM_API_KEY") or None
        return LMReasoner(OpenAICompatible(base, model.strip(), api_key=key), verify=verify)
    raise ValueError(f"{v[:100]!r} is not a model config; use 'lm:/path/to/model-folder' or "
                     "'http://host:port/v1#model-name'")
