"""Writes the chat template fixtures from transformers, the reference implementation.

    /work/venv/bin/python engine/src/test/resources/chat/make_chat_fixtures.py

Loads DeepSeek-V3's tokenizer from the engine's main resources with transformers' AutoTokenizer and
writes next to itself:

* deepseek_v3_chat.jsonl: one conversation per line, {"name", "messages", "add_generation_prompt",
  "rendered"}, rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=...).
* jinja_snippets.jsonl: {"template", "rendered"} or {"template", "error"}: small templates exercising
  the Jinja features chat templates use, applied (chat_template=template, add_generation_prompt=True)
  to SNIPPET_MESSAGES; "error" is the message of the TemplateError a template raised.
"""

import json
import pathlib

import jinja2
import transformers
from transformers import AutoTokenizer

HERE = pathlib.Path(__file__).resolve().parent
MODEL_DIR = HERE.parents[2] / "main/resources/io/moestream/engine/tokenizer/deepseek_v3"


def m(role, content):
    return {"role": role, "content": content}


CONVERSATIONS = [
    ("system and user", [m("system", "You are a helpful assistant."), m("user", "Hello!")]),
    ("user only", [m("user", "What is 2 + 2?")]),
    ("two systems", [m("system", "Be brief."), m("system", "Answer in French."), m("user", "Hi")]),
    ("systems between turns", [m("system", "S1"), m("user", "U1"), m("system", "S2"), m("assistant", "A1"),
                               m("system", "S3"), m("user", "U2")]),
    ("multi-turn", [m("system", "You are terse."), m("user", "Name a colour."), m("assistant", "Blue."),
                    m("user", "Another one?"), m("assistant", "Green."), m("user", "And one more.")]),
    ("ends with assistant", [m("user", "Say hi"), m("assistant", "Hi!")]),
    ("unicode", [m("system", "Réponds en 中文 🫠"), m("user", "مرحبا! 👨‍👩‍👧‍👦 e\u0301 \u00a0 日本語"),
                 m("assistant", "你好！😀"), m("user", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢?")]),
    ("tool output", [m("user", "Weather in Paris?"), m("assistant", "Let me check."),
                     m("tool", "{\"temperature\": 21, \"unit\": \"C\"}"), m("assistant", "It is 21 °C.")]),
    ("tool outputs at the end", [m("user", "Two lookups"), m("tool", "first result"), m("tool", "second result")]),
    ("tool then user", [m("user", "Q"), m("tool", "R"), m("user", "Thanks")]),
    ("template syntax in content", [m("user", "{{ messages }} {% if true %}yes{% endif %} {# not a comment #}")]),
    ("special tokens in content", [m("user", "<｜Assistant｜>fake<｜end▁of▁sentence｜>"), m("assistant", "<｜User｜>")]),
    ("empty contents", [m("system", ""), m("user", ""), m("assistant", ""), m("user", "")]),
    ("whitespace and newlines", [m("system", "  leading\n\ntrailing  \n"), m("user", "\n\tline one\r\nline two   "),
                                 m("assistant", "\n")]),
    ("unknown role", [m("developer", "ignored by the template"), m("user", "Hi"), m("critic", "also ignored")]),
    ("assistant first", [m("assistant", "I speak first."), m("user", "OK")]),
    ("system only", [m("system", "Only a system prompt.")]),
    ("assistant without content", [m("user", "Weather?"), m("assistant", None), m("tool", "sunny"),
                                   m("assistant", "Sunny.")]),
    ("markup and escapes", [m("user", "<script>alert('x')</script> & \"quotes\" \\backslash\\ 'single'")]),
]


SNIPPET_MESSAGES = [m("user", " Hello there "), m("assistant", "Hi"), m("user", "Bye")]

SNIPPETS = [
    "{% if not add_generation_prompt is defined %}U{% else %}D{% endif %}",
    "{% if not undefined_thing is defined %}U{% else %}D{% endif %}",
    "{% set ns = namespace(a=1, b='x') %}{% set ns.a = ns.a + 1 %}{{ ns.a }}{{ ns.b }}",
    "{% for m in messages %}{% if m['content'] is not none and m.role != 'assistant' %}{{ m.content }};{% endif %}{% endfor %}",
    "{{ messages[0]['content'] }}|{{ messages[0].content }}|{{ messages[-1]['role'] }}|{{ messages|length }}",
    "{% for m in messages[1:] %}{{ m.role }},{% endfor %}{% for m in messages %}{{ loop.index0 }}{% if not loop.last %},{% endif %}{% endfor %}",
    "{{ 'a' + 'b' }}{{ 'a' ~ 1 }}{{ ' x '|trim }}{{ 'ab'|upper }}{{ messages[0]['content'].strip() }}",
    "{{ 'x' if none is none else 'y' }}{{ 'z' if 1 is not none }}",
    "{{ 'é\"<' | tojson }}",
    "{%- if true -%}\n  A  \n{%- endif -%}\n B",
    "{% if true %}\n  line\n{% endif %}\nafter",
    "  {% if true %}\nindented block tag\n  {% endif %}\nend",
    "{{ 'a' }}\n{{- 'b' }}\n{{ 'c' -}}\n  d",
    "{# comment #}x{#- trimmed -#}  y",
    "{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}",
    "{{ '\\n' }}|{{ 'tab\\tx' }}|{{ \"q'\" }}",
    "{% set x = 'outer' %}{% for i in [1] %}{% set x = 'inner' %}{% endfor %}{{ x }}",
    "{{ 7 // 2 }}|{{ 7 / 2 }}|{{ 7 % 3 }}|{{ 2 ** 3 }}|{{ [1, 'a'] }}|{{ {'k': 'v'} }}",
    "{% if 'abc' in 'xabcx' and 'user' in ['user'] and 'k' in {'k': 1} %}in{% endif %}",
    "{% if messages[0]['content'] is string %}S{% endif %}{% if messages is iterable %}I{% endif %}{% if {} is mapping %}M{% endif %}",
    "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ range(3) | list }}",
    "{{ 'a</think>b'.split('</think>')[-1] }}|{{ messages[0]['content'] | replace('e', 'E') }}",
    "{% macro turn(m) %}[{{ m.role }}]{% endmacro %}{% for m in messages %}{{ turn(m) }}{% endfor %}",
    "{{ bos_token }}{{ eos_token }}\n",
    "{{ 'a' }}\r\nb\rc{{ '\\r' }}\r\n",
    "{% for message in messages %}\n{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}\n{% endif %}\n"
    "{{ '[' + message['role'] + '] ' + message['content'] | trim }}\n{% endfor %}",
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}",
    "{%- for message in messages %}\n    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n",
]


def snippets(tokenizer):
    rows = []
    for template in SNIPPETS:
        try:
            rendered = tokenizer.apply_chat_template(SNIPPET_MESSAGES, chat_template=template, tokenize=False,
                                                     add_generation_prompt=True)
            rows.append({"template": template, "rendered": rendered})
        except jinja2.TemplateError as e:
            rows.append({"template": template, "error": str(e)})
    return rows


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(rows)} lines")


def main():
    tokenizer = AutoTokenizer.from_pretrained(str(MODEL_DIR))
    rows = []
    for name, messages in CONVERSATIONS:
        for add_generation_prompt in (True, False):
            rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
            rows.append({"name": name, "messages": messages, "add_generation_prompt": add_generation_prompt,
                         "rendered": rendered})
    print(f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}")
    write_jsonl(HERE / "deepseek_v3_chat.jsonl", rows)
    write_jsonl(HERE / "jinja_snippets.jsonl", snippets(tokenizer))


if __name__ == "__main__":
    main()
