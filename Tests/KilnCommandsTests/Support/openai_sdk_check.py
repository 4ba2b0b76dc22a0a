"""The fake provider through the official OpenAI Python SDK, as a user trying a pipeline's error handling sees it.

Usage: openai_sdk_check.py BASE_URL. Prints one JSON object of findings; exits 1 with the reason when a check
fails (the Swift test shows stderr).
"""
import json
import math
import sys

import openai

client = openai.OpenAI(base_url=sys.argv[1], api_key="test-key", max_retries=0)
messages = [{"role": "user", "content": "Say something kind about glazes, please."}]
findings = {}


def check(condition, message):
    if not condition:
        sys.exit(message)


# Streaming: SSE chunks that add up to the answer the same request gets without streaming.
plain = client.chat.completions.create(model="fake", messages=messages, logprobs=True, top_logprobs=3)
text = plain.choices[0].message.content
chunks = list(client.chat.completions.create(
    model="fake", messages=messages, stream=True, stream_options={"include_usage": True}, logprobs=True,
    top_logprobs=3))
streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check(streamed == text, f"streamed {streamed!r} != plain {text!r}")
check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, "no usage chunk at the end")
finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
check(finishes == ["stop"], f"finish reasons {finishes}")
findings["stream_chunks"] = len(chunks)

# Logprobs: the tokens concatenate to the answer (spaces kept); alternatives are one distribution.
tokens = plain.choices[0].logprobs.content
check("".join(t.token for t in tokens) == text, "logprob tokens do not concatenate to the answer")
check(any(t.token.startswith(" ") for t in tokens), "no token carries its leading space")
sums = [sum(math.exp(a.logprob) for a in t.top_logprobs) for t in tokens]
check(all(s <= 1.0 + 1e-9 for s in sums), f"top_logprobs probabilities sum to more than 1: {max(sums)}")
check(all(len(t.top_logprobs) == 3 for t in tokens), "top_logprobs=3 not honoured")
findings["max_top_probability_sum"] = max(sums)

# Streaming tool calls: the arguments arrive in pieces that parse as JSON once joined.
tool = {"type": "function", "function": {"name": "grade", "parameters": {
    "type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}}}
arguments = ""
for chunk in client.chat.completions.create(
        model="fake", messages=messages, tools=[tool], tool_choice="required", stream=True):
    for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
        arguments += call.function.arguments or ""
check("score" in json.loads(arguments), f"streamed tool arguments {arguments!r}")

# Embeddings: the SDK asks for base64 by default and decodes it; floats on request; `dimensions` honoured.
default = client.embeddings.create(model="fake-embedding", input=["kiln wash on shelves"]).data[0].embedding
floats = client.embeddings.create(
    model="fake-embedding", input=["kiln wash on shelves"], encoding_format="float").data[0].embedding
check(len(default) == len(floats) == 256, f"lengths {len(default)} {len(floats)}")
check(max(abs(a - b) for a, b in zip(default, floats)) < 1e-6, "base64 and float embeddings differ")
short = client.embeddings.create(model="fake-embedding", input="kiln wash on shelves", dimensions=64).data[0].embedding
check(len(short) == 64, f"dimensions=64 gave {len(short)}")
norm = math.sqrt(sum(v * v for v in short))
check(abs(norm - 1) < 0.01, f"a cut vector is normalised again: norm {norm}")
try:
    client.embeddings.create(model="fake-embedding", input="x", dimensions=4096)
    sys.exit("dimensions=4096 was accepted")
except openai.BadRequestError as error:
    findings["too_many_dimensions"] = error.status_code

print(json.dumps(findings))
