"""Reference BM25 for `cargo xtask eval`: bm25s with the English stemmer and stop words.

Reads {"corpus": [{"id", "text"}], "queries": [...]} on stdin and prints, for each
query, the ids of the ten best documents (a JSON list of lists).
Needs `python3 -m pip install bm25s PyStemmer`.
"""

import json
import sys

import bm25s
import Stemmer


def main():
    data = json.load(sys.stdin)
    ids = [doc["id"] for doc in data["corpus"]]
    stemmer = Stemmer.Stemmer("english")
    corpus = bm25s.tokenize([doc["text"] for doc in data["corpus"]], stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    k = min(10, len(ids))
    out = []
    for query in data["queries"]:
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)[0]
        tokens = [t for t in tokens if t in retriever.vocab_dict]
        if not tokens:
            out.append([])
            continue
        results, scores = retriever.retrieve([tokens], k=k, show_progress=False)
        out.append([ids[i] for i, s in zip(results[0], scores[0]) if s > 0])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
