"""CLIP's byte-level BPE tokenizer, a reference for sdfn's (src/encoders/clip-bpe.ts), plus a small
BPE learner that writes a merges file in CLIP's format for tests (the real vocabulary file,
bpe_simple_vocab_16e6.txt.gz, is the user's).

The algorithm as the CLIP paper's tokenizer defines it: clean (the deterministic part of ftfy:
NFC, curly quotes, Latin ligatures, full-width forms; HTML unescaped twice; whitespace collapsed),
lower-case, pre-split into the markers, English contractions, letter runs, single digits and other
non-space runs; each piece's UTF-8 bytes mapped to printable characters; the lowest-ranked adjacent
pair merged until no pair is ranked; ids = 256 byte symbols, 256 word-final ones, one per merge,
<|startoftext|>, <|endoftext|>; a text is [SOT, ..., EOT], truncated to the context with EOT last.
Plain Python 3 (no `regex` or `ftfy` package): the pre-split is written with unicodedata.

  python3 clip_tokenizer.py --learn-from TRAIN.json --merges N --write MERGES.txt \
                            --encode TEXTS.json --context 77 --out IDS.json
"""
import argparse
import html
import json
import unicodedata

SOT, EOT = "<|startoftext|>", "<|endoftext|>"
MAX_MERGES = 49152 - 256 - 2
# Unicode's White_Space property (what the `regex` module's \s matches)
WHITE_SPACE = set(map(chr, [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "\u017ft", "\ufb06": "st"}


def byte_symbols():
    """(the 256 byte characters in id order, byte value -> character)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), ord("\xff") + 1)]
    order, chars, extra = list(printable), [chr(b) for b in printable], 0
    for b in range(256):
        if b not in printable:
            order.append(b)
            chars.append(chr(256 + extra))
            extra += 1
    return chars, dict(zip(order, chars))


BYTE_CHARS, BYTE_ENCODER = byte_symbols()


def fix_text(text):
    text = unicodedata.normalize("NFC", text)
    out = []
    for c in text:
        o = ord(c)
        if o == 0x2BC or 0x2018 <= o <= 0x201B:
            out.append("'")
        elif 0x201C <= o <= 0x201F:
            out.append('"')
        elif c in LIGATURES:
            out.append(LIGATURES[c])
        elif 0xFF01 <= o <= 0xFF5E:
            out.append(chr(o - 0xFEE0))
        elif o == 0x3000:
            out.append(" ")
        else:
            out.append(c)
    return "".join(out)


def clean(text):
    text = html.unescape(html.unescape(fix_text(text)))
    words, current = [], []
    for c in text:  # collapse White_Space runs to one space, strip the ends
        if c in WHITE_SPACE:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(c)
    if current:
        words.append("".join(current))
    return " ".join(words).lower()


def kind(c):
    cat = unicodedata.category(c)
    return "L" if cat[0] == "L" else "N" if cat[0] == "N" else "S" if c in WHITE_SPACE else "O"


def pieces(text):
    """The pre-split, scanning left to right with the pattern's alternatives in order."""
    out, i = [], 0
    while i < len(text):
        rest = text[i:]
        marker = next((m for m in (SOT, EOT) if rest.startswith(m)), None)
        contraction = next((c for c in CONTRACTIONS if rest.startswith(c)), None)
        k = kind(text[i])
        if marker or contraction:
            piece = marker or contraction
        elif k == "L" or k == "O":
            j = i
            while j < len(text) and kind(text[j]) == k:
                j += 1
            piece = text[i:j]
        elif k == "N":
            piece = text[i]
        else:  # whitespace separates pieces
            i += 1
            continue
        out.append(piece)
        i += len(piece)
    return out


def byte_piece(piece):
    return "".join(BYTE_ENCODER[b] for b in piece.encode("utf-8"))


class Tokenizer:
    def __init__(self, merges):
        self.merges = merges[:MAX_MERGES]
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(self.merges)}
        vocab = BYTE_CHARS + [c + "</w>" for c in BYTE_CHARS] + [m.replace(" ", "") for m in self.merges] + [SOT, EOT]
        self.ids = {w: i for i, w in enumerate(vocab)}

    def bpe(self, piece):
        if piece in (SOT, EOT):
            return [piece]
        word = list(piece[:-1]) + [piece[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(self.ranks.get((a, b), float("inf")), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
            rank, _ = min(pairs)
            if rank == float("inf"):
                break
            first, second = self.merges[rank].split(" ")
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def encode(self, text, context):
        ids = [self.ids[SOT]]
        for piece in pieces(clean(text)):
            ids += [self.ids[s] for s in self.bpe(byte_piece(piece))]
        ids.append(self.ids[EOT])
        if len(ids) > context:
            ids = ids[:context]
            ids[-1] = self.ids[EOT]
        return ids


def learn(texts, count):
    """Merges learned on `texts` (most frequent adjacent pair first; ties: the smaller pair)."""
    freq = {}
    for text in texts:
        for piece in pieces(clean(text)):
            if piece in (SOT, EOT):
                continue
            b = byte_piece(piece)
            word = tuple(b[:-1]) + (b[-1] + "</w>",)
            freq[word] = freq.get(word, 0) + 1
    merges = []
    while len(merges) < count:
        pairs = {}
        for word, n in freq.items():
            for pair in zip(word, word[1:]):
                pairs[pair] = pairs.get(pair, 0) + n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        merges.append(" ".join(best))
        joined = {}
        for word, n in freq.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            joined[tuple(out)] = joined.get(tuple(out), 0) + n
        freq = joined
    return merges


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learn-from", required=True, help="JSON list of texts to learn merges on")
    ap.add_argument("--merges", type=int, required=True, help="how many merges to learn")
    ap.add_argument("--write", required=True, help="the merges file to write (CLIP's format)")
    ap.add_argument("--encode", help="JSON list of texts to tokenize")
    ap.add_argument("--context", type=int, default=77)
    ap.add_argument("--out", help="JSON file for the ids (one list per text)")
    a = ap.parse_args()
    with open(a.learn_from, encoding="utf-8") as f:
        merges = learn(json.load(f), a.merges)
    with open(a.write, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(m + "\n" for m in merges))
    if a.encode:
        tok = Tokenizer(merges)
        with open(a.encode, encoding="utf-8") as f:
            texts = json.load(f)
        with open(a.out, "w") as f:
            json.dump({"vocab_size": len(tok.ids), "ids": [tok.encode(t, a.context) for t in texts]}, f)
    print(f"{len(merges)} merges written to {a.write}")


if __name__ == "__main__":
    main()
