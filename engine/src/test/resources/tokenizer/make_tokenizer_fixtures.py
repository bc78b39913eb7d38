"""Writes the tokenizer parity fixtures from HF `tokenizers`, the reference implementation.

Run from anywhere, with the project's Python environment (no network needed):

    /work/venv/bin/python engine/src/test/resources/tokenizer/make_tokenizer_fixtures.py

It reads DeepSeek-V3's tokenizer.json from the engine's main resources and writes, next to itself:

* parity.jsonl: one JSON object per line. {"kind": "encode", "text", "ids", "decoded"}: ids from
  Tokenizer.encode(text, add_special_tokens=False) and decoded = decode(ids, skip_special_tokens=False);
  {"kind": "decode", "ids", "skip_special_tokens", "text"}: decode parity for chosen id sequences.
* added_token_options.jsonl: first line {"added_tokens": [...]} (extra added tokens with single_word,
  lstrip, rstrip, normalized set, in tokenizer.json form, as HF assigned their ids); then
  {"text", "ids"} lines encoded by DeepSeek-V3's tokenizer with those tokens added.
* pre_tokenizer_splits.jsonl: {"pre_tokenizer": <tokenizer.json pre_tokenizer>, "text", "pieces"}:
  HF's pre_tokenize_str pieces (byte-level alphabet) for other tokenizers' regexes, every Split
  behavior and Oniguruma constructs.

Everything is deterministic (fixed strings and a seeded random generator).
"""

import json
import pathlib
import random

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers

HERE = pathlib.Path(__file__).resolve().parent
TOKENIZER_JSON = HERE.parents[2] / "main/resources/io/moestream/engine/tokenizer/deepseek_v3/tokenizer.json"

BOS, EOS, PAD = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"

PROSE = [
    "Hello world",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure they'll say it's fine; we've done this before, haven't we?",
    "DON'T SHOUT. I CAN'T HEAR YOU'RE SAYING ANYTHING.",
    "She said: \"It's 5 o'clock somewhere.\"",
    "Mr. O'Neil's dog—a beagle—ran 3.5 km (about 2.2 mi) in 19 min.",
    "e.g. i.e. etc. vs. Dr. St. Jr.",
    "Once upon a time, in a land far, far away, there lived a king who had three daughters.",
    "Summarise the following record in one sentence and classify its sentiment as positive, negative or neutral.",
    "camelCaseIdentifier snake_case_identifier SCREAMING_SNAKE kebab-case-identifier",
    "a",
    " ",
    "",
    "A",
    "  leading spaces",
    "trailing spaces   ",
    "word",
    " word",
    "  word",
    "Bonjour, ça va ? Très bien, merci ! L'été dernier, nous sommes allés à Besançon.",
    "Größere Straßenbahnhaltestellen benötigen Überdachungen für Fußgänger.",
    "¿Dónde está la biblioteca? ¡Allí, junto al árbol!",
    "Não há nada mais difícil do que começar; ação e coração.",
    "Il più grande è là, perché è così.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "Pijamalı hasta yağız şoföre çabucak güvendi. İstanbul ıslak.",
    "Tiếng Việt có dấu: Tôi yêu ngôn ngữ này lắm.",
    "Zażółć gęślą jaźń. Łódź, Kraków, Wrocław.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Þetta er íslenska: ð, þ, æ, ö.",
    "Jag älskar smörgåsbord och kräftskiva.",
    "Ein Ⅻ-Zifferblatt und ein ℃-Thermometer, ½ Liter, ² und ³.",
]

CJK = [
    "你好，世界！",
    "我爱北京天安门，天安门上太阳升。",
    "人工智能正在改变世界。深度学习模型需要大量数据。",
    "DeepSeek-V3是一个混合专家模型，总参数量为671B。",
    "中文English混合text测试123个字符。",
    "繁體中文與简体中文混合：學習／学习。",
    "日本語のテキストです。ひらがなとカタカナと漢字が混ざっています。",
    "東京都渋谷区で、ラーメンを食べました！おいしかった～",
    "ｶﾀｶﾅ半角カナとＡＢＣ全角英数字１２３。",
    "わたしはｸﾞﾘｰﾝのりんごが好き。",
    "ーヽヾゝゞ〆〇々",
    "한국어 텍스트입니다. 안녕하세요, 만나서 반갑습니다!",
    "대한민국의 수도는 서울입니다. 1988년 올림픽.",
    "ㄱㄴㄷ ᄀᄁᄂ 한글 자모",
    "𠀀𠀁𠀂 𪚥 𫝀 𬺰 𰀀 𱍐 (CJK extensions B–H)",
    "龦龧龨 鿿 (beyond the tokenizer's CJK range)",
    "中文，標點。「引號」『書名』【括號】《書》〈篇〉——破折號……省略號！？",
    "１２３４５６７８９０ 全角数字",
    "こんにちは世界123",
    "漢字かなカナ漢字",
]

SCRIPTS = [
    "مرحبا بالعالم! كيف حالك اليوم؟",
    "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ ١٢٣٤ ٥٦٧",
    "שלום עולם! מה שלומך?",
    "עִבְרִית עם ניקוד: בְּרֵאשִׁית",
    "नमस्ते दुनिया! आप कैसे हैं?",
    "हिन्दी में १२३४ अंक और क्षत्रिय, ज्ञान, श्री।",
    "สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "বাংলা ভাষা সুন্দর। ১২৩",
    "தமிழ் மொழி அழகானது",
    "ქართული ენა ძალიან ლამაზია",
    "Հայերեն լեզու",
    "አማርኛ ቋንቋ",
    "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ᠌",
    "ܐܪܡܝܐ ܠܫܢܐ",
    "ᚠᚢᚦᚨᚱᚲ ᛗᛁᛞᚷᚨᚱᛞ",
    "ꦗꦮ Javanese, ᐃᓄᒃᑎᑐᑦ Inuktitut, ᏣᎳᎩ Cherokee",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 𝒮𝒸𝓇𝒾𝓅𝓉 𝟙𝟚𝟛",
    "mixed עברית and English and العربية in one line",
]

CODE = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "import numpy as np\n\nx = np.arange(10, dtype=np.float32)\nprint(x.mean())  # 4.5\n",
    "public static void main(String[] args) {\n\tSystem.out.println(\"Hello, \" + args[0]);\n}\n",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}",
    "const add = (a, b) => a + b;\nexport default async function handler(req, res) { res.status(200).json({ ok: true }); }",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    "SELECT id, name, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE u.age >= 18 GROUP BY 1, 2;",
    "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do wc -l \"$f\"; done 2>&1 | sort -n\n",
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Test</title></head>\n<body><p class=\"x\">Hi &amp; bye</p></body></html>",
    ".container > .item:nth-child(2n+1) { margin: 0 auto; color: #ff00ff; }",
    "key: value\nlist:\n  - one\n  - two\nnested:\n    deep: true\n",
    "{\"name\": \"MoEStream\", \"version\": \"0.1.0\", \"tags\": [\"flink\", \"kafka\"], \"nested\": {\"a\": 1, \"b\": [true, false, null]}}",
    "[{\"id\":1,\"v\":-0.5e-3},{\"id\":2,\"v\":1E+10}]",
    "# Title\n\n## Subtitle\n\n- item **bold** and *italic* and `code`\n1. first\n2. second\n\n> quote\n\n```python\nprint('x')\n```\n",
    "| col1 | col2 |\n|------|------|\n| a    | b    |\n",
    "$$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$$",
    "if (a != b && c <= d || !e) { x += 1; y -= 2; z *= 3; w /= 4; } // comment",
    "    indented with four spaces\n\tindented with a tab\n        eight spaces",
    "x=1;y=2;z=x**y%3//4",
    "a->b, c=>d, e::f, g:=h, i<=>j, k!==l, m===n, o?.p, q??r",
    "lambda x: [i for i in range(x) if i % 2 == 0]",
    "<div>\n  <span>{{ value | upper }}</span>\n  {% for x in xs %}{{ x }}{% endfor %}\n</div>",
    "@Override\npublic String toString() {\n    return \"Point[x=\" + x + \", y=\" + y + \"]\";\n}",
    "std::vector<std::string> v{\"a\", \"b\"}; auto it = v.begin();",
    "regex = r'^(?P<year>\\d{4})-(?P<month>\\d{2})$'",
]

NUMBERS = [
    "7", "42", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789", "1234567890",
    "12345678901234567890", "0", "00", "007", "3.14159265358979", "-273.15", "1,234,567.89", "1.234.567,89",
    "1e10", "6.022e23", "0xDEADBEEF", "0b101010", "2024-05-31T12:34:56Z", "+1 (555) 123-4567",
    "v1.2.3-rc.4+build.5", "IPv4 192.168.0.1 and IPv6 2001:db8::1", "$1,000,000 €2.500 ¥300 £45 ₹99",
    "٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹ ०१२३४५६७८९", "Ⅰ Ⅱ Ⅲ Ⅳ Ⅴ ⅰⅱⅲ ¼ ½ ¾ ⅓ ① ② ③ ⑴ ⒈", "x² + y³ = z⁴, H₂O, 10⁻⁹",
    "Room 101, floor 23, 4567 people", "a1b22c333d4444e55555", "1 2 3  4   5",
]

EMOJI = [
    "😀", "I love it 😍😍😍!", "👍🏽 👍🏿 👋🏻", "👨‍👩‍👧‍👦 family", "👩‍💻 and 🧑🏾‍🚀", "🏳️‍🌈 🏴‍☠️ 🏳️‍⚧️",
    "🇺🇸🇫🇷🇯🇵🇨🇳🇩🇪", "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland", "1️⃣ 2️⃣ #️⃣ *️⃣", "❤️ ♥ ❤ ☺️ ☹", "emoji🙂inside😎words",
    "🫠melting 🥹holding 🫶hands (Unicode 14)", "🫨shaking 🩷pink 🫎moose (Unicode 15)",
    "🫩bags 🫆fingerprint 🪾leafless (Unicode 16)", "🙂‍↔️ 🙂‍↕️ 🐦‍🔥 🍋‍🟩", "✅✔️❌⭐🔥💯",
    "😀😃😄😁😆😅🤣😂🙂🙃🫠😉😊😇",
]

WHITESPACE = [
    "a  b   c    d", "a\tb\t\tc", "line1\nline2\n\nline4\n\n\n", "windows\r\nline\r\nendings\r\n",
    "old mac\rline", "trailing newline\n", "\n\nleading newlines", "   \n   \n   ", "\t\t\t", "  \t \n \r\n  ",
    "non\u00a0breaking\u00a0space", "en\u2002em\u2003thin\u2009hair\u200a", "ideographic\u3000space\u3000中文",
    "narrow\u202fnbsp and math\u205fspace", "ogham\u1680space", "line\u2028separator\u2029paragraph",
    "next\u0085line", "zero\u200bwidth\u200cnon\u200djoiner\u2060word\ufeffjoiner",
    "mongolian\u180evowel", "x \u00a0 y", "end with nbsp\u00a0", "\u00a0\u00a0lead nbsp",
    "tab\tthen spaces    then\r\n\tmixed", "a\n \nb", "a \n b", "  \r\n\r\n  x",
    "\u3000\u3000全角缩进的段落", "a\u000bb\u000cc",
]

MARKS = [
    "cafe\u0301 vs café", "e\u0301\u0302\u0303\u0304", "Z\u0351\u0360\u0308a\u0352\u0357l\u0315g\u031bo\u0327",
    "\u0301 starts with a mark", "ǅungla ǈ ǋ titlecase", "Å Å Å (three forms)", "ﬁ ﬂ ﬀ ligatures", "ｅｘａｍｐｌｅ",
    "क्‍ष with zwj", "நீ பா",
]

CONTROL = [
    "\x00", "a\x00b", "\x01\x02\x03\x04\x05\x06\x07\x08", "bell\x07 escape\x1b[31mred\x1b[0m", "\x7f delete",
    "\x1c\x1d\x1e\x1f separators", "soft\u00adhyphen", "\u200eLTR mark\u200f RTL mark", "\u202eoverride\u202c",
    "\ufffd replacement", "\uffff\ufffe noncharacters \ufdd0", "\ue000\uf8ff private use \U000f0000 \U0010fffd",
    "\U0010ffff max", "literal \\ud800 text", "Ġhello ĠĠ Ċ ĉ (byte-level alphabet as input)", "Ã©Ã¨ mojibake Ã¼",
    "\U0001171e category changed since Unicode 13",
]

ADDED = [
    USER + "hi" + ASSISTANT, BOS, EOS, BOS + USER + "Hello" + ASSISTANT + "Hi there!" + EOS,
    "text before" + USER + "text after", " " + USER + " spaced " + ASSISTANT + " ", USER + USER + USER,
    "<｜User｜", "｜User｜>", "<|User|>", "< ｜User｜>", "<｜user｜>", "<｜User｜>>", "<<｜User｜>",
    "<｜place▁holder▁no▁0｜><｜place▁holder▁no▁799｜>", "<｜place▁holder▁no▁800｜>",
    "<|EOT|>", "a<|EOT|>b", "<｜fim▁begin｜>def f():<｜fim▁hole｜>\n<｜fim▁end｜>",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{\"temp\": 21}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>",
    PAD + PAD, "中文" + USER + "日本語" + ASSISTANT + "한국어", "😀" + EOS + "😀", "123" + USER + "456",
    "▁ ｜ ▁▁ ｜｜", "<｜▁pad▁｜", "end" + BOS,
]

LONG = [
    "a" * 1000, "ab" * 300, "Supercalifragilisticexpialidocious" * 20, "9" * 200, "1234567890" * 20,
    "!" * 200, "-=" * 150, "中" * 300, "日本語" * 100, "😀" * 100, " " * 300, "\n" * 100, "\t" * 50 + "x",
    "aGVsbG8gd29ybGQ=" * 20, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
]

PUNCTUATION = [
    "!!!???...", "?!?!", "...", "…", "—–-", "((()))", "[[{{<<>>}}]]", "\"'`", "''", "\"\"", "'s 's 'S 't 're 've 'm 'll 'd",
    "@#$%^&*()_+-=", "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./", "https://example.com/path/to-page?query=1&x=y#frag",
    "http://localhost:8080/api/v1/items/42", "mailto:someone@example.org", "user.name+tag@sub.example.co.uk",
    "C:\\Program Files\\App\\app.exe", "/usr/local/bin/python3 ~/.bashrc ../up ./here", "¡¿«»„“”‚‘’‹›",
    "§¶†‡•‣⁂※", "→ ← ↑ ↓ ⇒ ⇔ ∀ ∃ ∈ ∉ ∑ ∏ √ ∞ ≈ ≠ ≤ ≥", "©®™℠", "a/b\\c|d", "--flag=value -x -vvv",
]

RANDOM_POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " \t\n\r", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "àéîõüçñßøåæœ", "αβγδεζηθλμπσω", "абвгдежзийклмнопрстуфхцчшщъыьэюя", "的一是不了人我在有他这中大来上国个到说们为",
    "あいうえおかきくけこアイウエオカキクケコ", "가나다라마바사아자차카타파하", "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "अआइईउऊएऐओऔकखगघ", "กขฃคฅฆงจฉชซฌญฎ", "😀😂🥰👍🏽👨‍👩‍👧🇯🇵🫠🫨", "\u0300\u0301\u0302\u0308\u0327",
    "\u00a0\u2002\u2003\u2009\u3000\u200b\u2028", "１２３ＡＢＣ", "٠١٢٣४५६", "▁｜<>", "\x00\x07\x1b\x7f\x85",
]
ADDED_POOL = [USER, ASSISTANT, BOS, EOS, "<|EOT|>", "<｜tool▁sep｜>"]


def random_strings(count):
    rng = random.Random(20240531)
    strings = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.08:
                parts.append(rng.choice(ADDED_POOL))
            else:
                pool = rng.choice(RANDOM_POOLS)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        strings.append("".join(parts))
    return strings


def corpus():
    strings = PROSE + CJK + SCRIPTS + CODE + NUMBERS + EMOJI + WHITESPACE + MARKS + CONTROL + ADDED + LONG + PUNCTUATION
    strings += random_strings(150)
    seen = set()
    return [s for s in strings if not (s in seen or seen.add(s))]


def decode_cases(tok):
    rng = random.Random(7)
    size = tok.get_vocab_size()
    cases = [
        [], [0], [1], [0, 1, 2], [128803, 128804, 128805], [128814, 128815, 129279, 200000, 44],
        [tok.token_to_id("ä"), tok.token_to_id("¸")],  # half of a CJK character at the end
        [tok.token_to_id("ä"), 128803, tok.token_to_id("¸"), tok.token_to_id("Ń")],  # split by an added token
        [tok.token_to_id("Ń"), tok.token_to_id("ä")],  # continuation byte first
        [tok.token_to_id("ð"), tok.token_to_id("Ł"), tok.token_to_id("ĺ")],  # 3 of the 4 bytes of an emoji
    ]
    for text in ["你好，世界！", "👨‍👩‍👧‍👦🇯🇵", "Hello" + EOS, BOS + "x" + EOS]:
        ids = tok.encode(text, add_special_tokens=False).ids
        cases += [ids, ids[:-1], ids[1:]]
    for _ in range(40):
        cases.append([rng.randrange(size) for _ in range(rng.randint(1, 30))])
    for _ in range(20):
        cases.append([rng.randrange(256) for _ in range(rng.randint(1, 12))])  # single-byte tokens
    for _ in range(10):
        cases.append([rng.choice([0, 1, 2, 128803, 128804, 128805, 128000]) if rng.random() < 0.3 else rng.randrange(3, 3000)
                      for _ in range(rng.randint(1, 20))])
    return cases


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(rows)} lines, {path.stat().st_size} bytes")


def parity(tok):
    rows = []
    for text in corpus():
        ids = tok.encode(text, add_special_tokens=False).ids
        rows.append({"kind": "encode", "text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    for ids in decode_cases(tok):
        for skip in (False, True):
            rows.append({"kind": "decode", "ids": ids, "skip_special_tokens": skip,
                         "text": tok.decode(ids, skip_special_tokens=skip)})
    write_jsonl(HERE / "parity.jsonl", rows)


def added_token_options():
    tok = Tokenizer.from_file(str(TOKENIZER_JSON))
    extra = [
        AddedToken("<mask>", single_word=True, lstrip=True, rstrip=True, normalized=False, special=True),
        AddedToken("[SW]", single_word=True),
        AddedToken("<L>", lstrip=True),
        AddedToken("<R>", rstrip=True),
        AddedToken("hello"),  # also in the model vocabulary: HF keeps the vocabulary's id
        AddedToken("hell"),
        AddedToken("lo wor"),
        AddedToken("<a><b>"),
        AddedToken("ü", single_word=True, normalized=False),  # the byte-level character of byte 0xFC
        AddedToken("<a>", normalized=False, special=True),
    ]
    for token in extra:
        tok.add_tokens([token])
    contents = {token.content for token in extra}
    added = [t for t in json.loads(tok.to_str())["added_tokens"] if t["content"] in contents]
    texts = [
        "Hi <mask> there\t<mask>\t<mask>\u2000", "<mask>, <mask>- \u25cc\u0330<mask>", "<mask>", "x<mask>", "<mask>y",
        "a [SW] b[SW] [SW]c [SW]", "[SW]", "_[SW]", "١[SW]", "[SW]\u200d", "x   <L>  y", "<L>", "  <L><L>  <L>",
        "x  <R>   y", "<R>  <R>", "<R>\n\n", "say hello, othello hellothere hell", "hello world lo wor",
        "<a><b> and <a> <b>", "über ü ü. (ü) aü", "<mask><L><R>hello", USER + "<mask>" + ASSISTANT,
        "\u3000<L>\u3000<R>\u3000", "hel" + USER + "lo",
    ]
    rows = [{"added_tokens": added}]
    rows += [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]
    write_jsonl(HERE / "added_token_options.jsonl", rows)


def pre_tokenizer_json(pre_tokenizer):
    holder = Tokenizer(models.BPE())
    holder.pre_tokenizer = pre_tokenizer
    return json.loads(holder.to_str())["pre_tokenizer"]


def pre_tokenizer_splits():
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)

    def split(pattern, behavior="isolated", invert=False):
        return pre_tokenizers.Sequence([pre_tokenizers.Split(pattern, behavior=behavior, invert=invert), byte_level])

    configs = [
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),  # GPT-2
        split(Regex(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")),  # Llama 3
        split(Regex(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")),  # Qwen 2
        split(Regex(r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")),  # o200k
        split(Regex(r"^\s*\S|\S+$")),
        split(Regex(r".+")),
        split(Regex(r"\h+|\v")),
        split(Regex(r"[\h]+")),
        split(Regex(r"\p{^L}+")),
        split(Regex(r"[\p{L}&&[^a-z]]+")),
        split(Regex(r"\d+|\R")),
        split(Regex(r"\p{N}{1,3}")),
    ]
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        for invert in (False, True):
            configs.append(split("-", behavior, invert))
            configs.append(split(Regex(r"\s+"), behavior, invert))
    texts = [
        "the-final--countdown", "-lead and trail-", "---", "Hello World's 'S 'ſ 'K I'LL WE'VE", "a\nb\r\nc  d\t\te  ",
        "0x1F 9af ABCDEF gh\u000b", "naïve café 123 ４５６ ٣٤ 1234567", "🫠x 🫨y a\u1c89b 𛄟z", "CamelCaseWordsAND ABBRs. I'm",
        "  spaced  out  ", "line1\nline2\r\nline3\u2028line4\u0085", "path/to/file.txt // comment", "ÀÉÎ àéî ǅ",
    ]
    rows = []
    for config in configs:
        config_json = pre_tokenizer_json(config)
        for text in texts:
            rows.append({"pre_tokenizer": config_json, "text": text,
                         "pieces": [piece for piece, _ in config.pre_tokenize_str(text)]})
    write_jsonl(HERE / "pre_tokenizer_splits.jsonl", rows)


def main():
    print(f"tokenizers {tokenizers.__version__}, {TOKENIZER_JSON}")
    parity(Tokenizer.from_file(str(TOKENIZER_JSON)))
    added_token_options()
    pre_tokenizer_splits()


if __name__ == "__main__":
    main()
