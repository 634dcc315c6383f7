#!/usr/bin/env python3
"""Writes the task-probe fixtures in datasets/tasks/ from the shipped domains' test text.

Standard library only, seeded, deterministic: nothing in them was tuned to a model. They exist so
that retain's task scorer can be checked against tools/reference_tasks.py (PyTorch) on every kind
of task and every preset layout, including the cases the harness's definitions single out:

  choice.jsonl          multiple choice {"context", "choices", "gold"}, from King James verses:
                        the verse's first words, its true ending and three endings of other
                        verses; some contexts end in a space, one is empty, some are long enough
                        to be left-truncated, one example has a duplicated choice (a tie), one
                        a choice outside the Basic Multilingual Plane (acc_norm counts it as one
                        character)
  loglikelihood.jsonl   {"context", "continuation"}: a sentence but its last word(s), then them
  rolling.txt           documents (licence and code text) separated by <|endoftext|>
  samples/*.jsonl       a few lines in each preset's layout as users download it: hellaswag
                        (rowanz/hellaswag), arc (allenai/ai2_arc) and arc_ai2 (AI2's jsonl),
                        piqa (baber/piqa), lambada (EleutherAI/lambada_openai), wikitext
                        (EleutherAI/wikitext_document_level)

Run from the repository root: python3 tools/make_task_fixtures.py
(python3 tools/make_task_fixtures.py --bench N FILE writes a larger HellaSwag-shaped task of N
examples for tools/task_speed.sh instead.)
"""

import json
import os
import random
import re

SEED = 20261208
OUT = "datasets/tasks"


def verses():
    out = []
    with open("datasets/domains/scripture/test.txt", encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s+\d+ (.*\S)\s*$", line)
            if m and len(m.group(1).split(" ")) >= 10:
                out.append(m.group(1))
    return out


def computing_sentences():
    with open("datasets/domains/computing/test.txt", encoding="utf-8") as f:
        text = f.read()
    out = []
    for doc in text.split("<|endoftext|>"):
        body = " ".join(doc.split()[1:])
        body = re.sub(r"[{}]", "", body)
        for s in re.split(r"(?<=\.) ", body):
            words = s.split(" ")
            if 8 <= len(words) <= 40 and s.endswith(".") and "(" not in s and "http" not in s:
                out.append(s)
    return out


def cut(verse, rnd):
    words = verse.split(" ")
    at = rnd.randint(len(words) * 2 // 5, len(words) * 7 // 10)
    return " ".join(words[:at]), " ".join(words[at:])


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def choice_task(vs, rnd):
    rows = []
    for i in range(40):
        k = rnd.randrange(len(vs))
        context, ending = cut(vs[k], rnd)
        others = [cut(vs[j], rnd)[1] for j in rnd.sample([j for j in range(len(vs)) if j != k], 3)]
        gold = rnd.randrange(4)
        choices = others[:gold] + [ending] + others[gold:]
        if i % 10 == 3:
            context += " "                       # trailing space: moves into the continuation
        if i == 7:
            context = ""                         # empty context: end-of-text alone
        if i % 10 == 5:
            context = " ".join(vs[max(0, k - 6):k]) + " " + context   # long: left-truncated
        if i == 11:
            choices[(gold + 2) % 4] = choices[gold]                  # a tie: the first wins
        if i == 13:
            choices[0] = choices[0] + " \U0001D538"                   # one character, two UTF-16 units
        rows.append({"context": context, "choices": choices, "gold": gold})
    return rows


def loglikelihood_task(vs, cs, rnd):
    rows = []
    pool = [(v, "scripture") for v in rnd.sample(vs, 20)] + [(c, "computing") for c in rnd.sample(cs, 20)]
    for i, (s, _) in enumerate(pool):
        words = s.split(" ")
        tail = 1 if i % 7 else 3
        context, cont = " ".join(words[:-tail]), " " + " ".join(words[-tail:])
        if i == 9:
            context, cont = "", s                # empty context
        if i == 16:
            context, cont = context + " ", cont[1:]   # the space at the end of the context
        rows.append({"context": context, "continuation": cont})
    return rows


def rolling_task(rnd):
    docs = []
    for name, sizes in (("legal", (1500, 900)), ("code", (700,))):
        with open(f"datasets/domains/{name}/test.txt", encoding="utf-8") as f:
            parts = f.read().split("<|endoftext|>")
        for size in sizes:
            p = parts[rnd.randrange(len(parts))]
            start = rnd.randrange(max(1, len(p) - size))
            docs.append(p[start:start + size])
    docs.append("Short document: one line, a few tokens.")
    with open(os.path.join(OUT, "rolling.txt"), "w", encoding="utf-8") as f:
        f.write("<|endoftext|>".join(docs))


def hellaswag(vs, rnd):
    rows = []
    for i in range(8):
        k = rnd.randrange(len(vs))
        words = vs[k].split(" ")
        a = rnd.randint(3, len(words) // 2)
        b = rnd.randint(a + 1, len(words) - 2)
        ctx_a = " ".join(words[:a])
        ctx_b = " ".join(words[a:b]).lower()
        if i % 3 == 0:
            ctx_a = "[header] " + ctx_a + " [title] " + words[0]
        if i % 3 == 1:
            ctx_b = ctx_b + "  [step]"
        if i == 2:
            ctx_b = ""
        longer = [j for j in range(len(vs)) if j != k and len(vs[j].split(" ")) > b + 2]
        endings = [" ".join(vs[j].split(" ")[b:]) for j in rnd.sample(longer, 3)]
        label = rnd.randrange(4)
        endings.insert(label, " ".join(words[b:]) + (" [substeps]" if i == 4 else ""))
        rows.append({"ind": 100 + i, "activity_label": "Scripture" if i % 2 else "Reading aloud",
                     "ctx_a": ctx_a, "ctx_b": ctx_b, "ctx": ctx_a + " " + ctx_b, "split": "val",
                     "split_type": "indomain" if i % 2 else "zeroshot", "label": str(label) if i % 2 else label,
                     "endings": endings, "source_id": f"retain-fixture~{i}"})
    return rows


def question(vs, rnd, n_choices):
    k = rnd.randrange(len(vs))
    words = [w.strip(",.;:") for w in vs[k].split(" ")]
    at = rnd.randrange(2, len(words) - 1)
    stem = " ".join(words[:at]) + " ___ " + " ".join(words[at + 1:])
    others = rnd.sample([w.strip(",.;:") for w in rnd.choice(vs).split(" ") if w.strip(",.;:") != words[at]], n_choices - 1)
    gold = rnd.randrange(n_choices)
    return f"Which word fills the blank: \"{stem}\"?", others[:gold] + [words[at]] + others[gold:], gold


def arc(vs, rnd):
    rows = []
    ai2 = []
    for i in range(8):
        n = 3 if i == 2 else 5 if i == 5 else 4
        q, choices, gold = question(vs, rnd, n)
        labels = [str(j + 1) for j in range(n)] if i == 3 else [chr(65 + j) for j in range(n)]
        rows.append({"id": f"Retain_{i}", "question": q, "choices": {"text": choices, "label": labels},
                     "answerKey": labels[gold]})
        q, choices, gold = question(vs, rnd, 4)
        ai2.append({"id": f"Retain_ai2_{i}", "question": {"stem": q, "choices": [
            {"text": t, "label": chr(65 + j)} for j, t in enumerate(choices)]}, "answerKey": chr(65 + gold)})
    return rows, ai2


def piqa(cs, rnd):
    rows = []
    for i in range(8):
        s = rnd.choice(cs)
        words = s.split(" ")
        half = len(words) // 2
        wrong = rnd.choice(cs).split(" ")
        sols = [" ".join(words[half:]), " ".join(wrong[len(wrong) // 2:])]
        label = rnd.randrange(2)
        if label:
            sols.reverse()
        rows.append({"goal": " ".join(words[:half]), "sol1": sols[0], "sol2": sols[1], "label": label})
    return rows


def lambada(vs, cs, rnd):
    rows = [{"text": t} for t in rnd.sample(vs, 6) + rnd.sample(cs, 5)]
    rows.append({"text": "Alone"})               # one word: an empty context
    return rows


def wikitext(vs, rnd):
    def tokenize(s):
        s = s.replace("-", " @-@ ").replace(",", " , ").replace(".", " . ").replace(";", " ; ")
        s = s.replace(":", " : ").replace("'s", " 's").replace("(", "( ").replace(")", " )")
        return re.sub(" +", " ", s)
    pages = []
    for i in range(3):
        k = rnd.randrange(len(vs) - 8)
        body = " \n ".join(tokenize(v) for v in vs[k:k + 2 + 2 * i])
        pages.append({"page": f" = Chapter {i + 1} = \n \n {body} \n \n = = Notes = = \n \n"
                              f" The 1 @,@ 611 edition ( \" Authorized \" ) measures 3 @.@ 5 in . \n"})
    return pages


def bench_task(vs, rnd, count, path):
    """A larger HellaSwag-shaped task for speed measurements (tools/task_speed.sh): contexts of
    three verses (about 100 tokens), four endings of about 20 tokens."""
    rows = []
    for _ in range(count):
        k = rnd.randrange(3, len(vs))
        context, ending = cut(vs[k], rnd)
        context = " ".join(vs[k - 3:k]) + " " + context
        others = [cut(vs[j], rnd)[1] for j in rnd.sample(range(len(vs)), 3)]
        gold = rnd.randrange(4)
        rows.append({"context": context, "choices": others[:gold] + [ending] + others[gold:], "gold": gold})
    write_jsonl(path, rows)


def main():
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == "--bench":
        bench_task(verses(), random.Random(SEED + 1), int(sys.argv[2]), sys.argv[3])
        return
    rnd = random.Random(SEED)
    vs = verses()
    cs = computing_sentences()
    write_jsonl(os.path.join(OUT, "choice.jsonl"), choice_task(vs, rnd))
    write_jsonl(os.path.join(OUT, "loglikelihood.jsonl"), loglikelihood_task(vs, cs, rnd))
    rolling_task(rnd)
    write_jsonl(os.path.join(OUT, "samples", "hellaswag.jsonl"), hellaswag(vs, rnd))
    a, b = arc(vs, rnd)
    write_jsonl(os.path.join(OUT, "samples", "arc.jsonl"), a)
    write_jsonl(os.path.join(OUT, "samples", "arc_ai2.jsonl"), b)
    write_jsonl(os.path.join(OUT, "samples", "piqa.jsonl"), piqa(cs, rnd))
    write_jsonl(os.path.join(OUT, "samples", "lambada.jsonl"), lambada(vs, cs, rnd))
    write_jsonl(os.path.join(OUT, "samples", "wikitext.jsonl"), wikitext(vs, rnd))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
