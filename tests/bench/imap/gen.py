#!/usr/bin/python3
"""The benchmark mailbox of tests/bench/imap.sh: COUNT RFC 5322 messages,
the same bytes for a given seed, written as DIR/00000.eml, DIR/00001.eml...
(CRLF line ends, ready for IMAP APPEND).

    gen.py DIR COUNT [SEED]    writes the messages; prints "COUNT BYTES"
    gen.py --words             prints the warm-up word, then the SEARCH words

Mostly text/plain or multipart/alternative (text and HTML) of 2 to 20 KB
(log-uniform), about one in ten multipart/mixed with a base64 attachment of
50 to 500 KB of random octets (a PDF, ZIP or JPEG by its type and name).
Headers as a real mailbox has them: Return-Path, Received, DKIM-Signature
on some, Date (two years, in order), From with some RFC 2047 names, To, Cc
on some, Subject with Re:/Fwd:, Message-ID, In-Reply-To/References on
replies. Body text is drawn from a fixed vocabulary with a Zipf law, plus
rare topic words in a few messages, so SEARCH TEXT has common, rare and no
hits. Standard library only (runs with Debian's /usr/bin/python3).
"""
import base64
import bisect
import itertools
import os
import random
import sys
from datetime import datetime, timedelta, timezone

# Ordinary words, most frequent first (the Zipf rank is the position).
VOCABULARY = """
the and to of a in is that for it you on with this be as are have we at not
will your from or by all can our but if they was about an please so more
would there their which has one what do when any also just me up time out new
here should like know them some been other could then get now these need than
only into us its see team make thanks next week today work project update
meeting report information let my over back well may review send first
because email how call two group find where data still help best going think
those process plan service number change support before good after office
many day since going year through customer product free each last take user
said issue people system available order list great note following look same
while within business manager days morning information share sure question
again form access account include current end check detail attached note
quarter budget schedule client contract invoice payment delivery proposal
agenda minutes draft version document release request approval deadline
market sales price cost revenue forecast target growth strategy analysis
design feature testing deploy server network storage backup security policy
training workshop conference travel flight hotel booking expense receipt
office building parking lunch dinner coffee holiday vacation birthday party
family weekend friday monday tuesday wednesday thursday saturday sunday
january february march april june july august september october november
december morning afternoon evening tomorrow yesterday tonight earlier later
question answer problem solution option decision priority status progress
summary overview feedback comment suggestion concern risk impact result
success failure error warning notice alert reminder confirmation
registration subscription newsletter announcement invitation welcome
regards sincerely cheers kind thank appreciate apologize understand confirm
discuss explain consider prepare complete provide require receive deliver
improve increase reduce maintain organize coordinate schedule arrange
attend present publish approve reject cancel postpone finalize submit
colleague partner vendor supplier contractor consultant director engineer
developer designer analyst assistant coordinator specialist administrator
department division committee board council agency authority organization
university school library museum hospital clinic pharmacy restaurant
garden kitchen window street river mountain forest island village harbor
yellow purple orange silver golden crimson violet turquoise emerald
""".split()

# Rare words: each message has one of them with probability RARE_RATE.
TOPICS = """
kestrel obsidian marmalade tamarind quokka zeppelin gondolier
harpsichord nebulizer lighthouse saxophone trebuchet
""".split()
RARE_RATE = 0.02

# Searched by the bench: two common words, two of middle rank, two of the
# last ranks, two rare topics, one word in no message (a full scan with no
# hit), and the warm-up word before them.
WARMUP_WORD = "holiday"
SEARCH_WORDS = ["meeting", "invoice", "forecast", "harbor", "turquoise",
                "emerald", "kestrel", "trebuchet", "xylography"]

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David
Elizabeth William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles
Karen Olivia Lucas Emma Noah Sophie Liam Chloe Hugo Lena Mateo""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez
Martinez Hernandez Lopez Gonzalez Wilson Anderson Taylor Moore Jackson
Martin Lee Thompson White Harris Clark Lewis Walker Young Allen""".split()
# Encoded as RFC 2047 words in From.
UTF8_NAMES = ["José Müller", "Zoë Ångström", "François Dupré", "Søren Kjær",
              "Łukasz Żółw", "Renée Großmann", "Ana Peña", "Jürgen Straße"]
DOMAINS = """example.com example.org example.net mailer.test acme.test
globex.test initech.test umbrella.test hooli.test contoso.test""".split()
SUBJECTS = ["{a} {b} for {c}", "{A} {b} {c}", "Re: {a} {b}", "Fwd: {A} {b}",
            "[{a}] {b} {c} update", "{A}: {b} and {c}", "Question about {a} {b}",
            "Re: Re: {a} {c}", "{A} {b} - {c} {d}", "Reminder: {a} {b} {c}"]
MAILERS = ["Mozilla Thunderbird 115.3", "Microsoft Outlook 16.0",
           "Apple Mail (2.3731)", "Roundcube Webmail/1.6.2", "K-9 Mail 6.7"]
ATTACHMENTS = [("application/pdf", "pdf"), ("application/zip", "zip"),
               ("image/jpeg", "jpg")]

CRLF = "\r\n"


def _check_words():
    """Each searched word must be found by a word search and a substring
    search alike: neither a part of another word nor of any header word."""
    others = VOCABULARY + TOPICS + FIRST + LAST + DOMAINS + MAILERS + [
        "bench", "sender", "received", "signature", "mimeversion"]
    for w in SEARCH_WORDS + [WARMUP_WORD]:
        for o in others:
            if w != o and w in o.lower():
                raise SystemExit(f"gen.py: search word {w!r} is a part of {o!r}")
    for w in SEARCH_WORDS[:-1] + [WARMUP_WORD]:
        if w not in VOCABULARY and w not in TOPICS:
            raise SystemExit(f"gen.py: search word {w!r} is not in the vocabulary")
    if SEARCH_WORDS[-1] in VOCABULARY + TOPICS:
        raise SystemExit("gen.py: the last search word must be in no message")


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(VOCABULARY))))
        self.date = datetime(2023, 1, 2, 8, 0, 0, tzinfo=timezone.utc)
        self.ids = []  # Message-IDs so far (replies refer to them)

    def words(self, n):
        r = self.r
        ws = r.choices(VOCABULARY, cum_weights=self.cum, k=n)
        if r.random() < RARE_RATE * 4:  # a few rare words in some messages
            for _ in range(r.randint(1, 3)):
                if r.random() < 0.25:
                    ws[r.randrange(n)] = r.choice(TOPICS)
        return ws

    def paragraphs(self, size):
        """Plain text of about `size` octets: paragraphs of sentences,
        lines wrapped before 76 columns."""
        r = self.r
        ws = self.words(max(size // 7, 20))
        lines, line, para, out_len = [], [], 0, 0
        sentence_left = r.randint(5, 16)
        n = 0
        for w in ws:
            if sentence_left == 0:
                line[-1] += "."
                sentence_left = r.randint(5, 16)
                para += 1
                if para >= r.randint(3, 6):
                    lines.append(" ".join(line))
                    lines.append("")
                    line, para = [], 0
                    n = 0
            if not line or line[-1].endswith("."):
                w = w.capitalize()
            if n + len(w) + 1 > 72 and line:
                lines.append(" ".join(line))
                line, n = [], 0
            line.append(w)
            n += len(w) + 1
            sentence_left -= 1
            out_len += len(w) + 1
            if out_len >= size:
                break
        if line:
            lines.append(" ".join(line) + ".")
        return lines

    def name_addr(self):
        r = self.r
        if r.random() < 0.1:
            name = r.choice(UTF8_NAMES)
            enc = "=?UTF-8?B?" + base64.b64encode(name.encode()).decode() + "?="
            local = "user" + str(r.randrange(1000))
        else:
            first, last = r.choice(FIRST), r.choice(LAST)
            enc = f"{first} {last}"
            local = f"{first}.{last}".lower()
        return enc, f"{local}@{r.choice(DOMAINS)}"

    def subject(self):
        r = self.r
        w = r.choices(VOCABULARY[20:], k=4)
        return r.choice(SUBJECTS).format(a=w[0], b=w[1], c=w[2], d=w[3], A=w[0].capitalize())

    def boundary(self):
        return "----=_Part_%d_%d" % (self.r.randrange(10**8), self.r.randrange(10**10))

    def headers(self, idx):
        r = self.r
        self.date += timedelta(seconds=r.randint(60, 12600))
        tz = timezone(timedelta(hours=r.choice([-7, -5, 0, 1, 2, 9])))
        date = self.date.astimezone(tz).strftime("%a, %d %b %Y %H:%M:%S %z")
        name, addr = self.name_addr()
        host = addr.split("@")[1]
        mid = "<%016x.%d@%s>" % (r.getrandbits(64), idx, host)
        ip = "198.51.100.%d" % r.randint(1, 254)
        h = [f"Return-Path: <{addr}>",
             f"Received: from mx{r.randint(1, 9)}.{host} (mx.{host} [{ip}])",
             f"\tby mail.bench.example with ESMTPS id {r.getrandbits(48):012x}",
             f"\tfor <user1@bench.example>; {date}",
             f"Received: from [10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}]"
             f" by mx.{host} with ESMTPSA; {date}"]
        if r.random() < 0.5:
            sig = base64.b64encode(r.randbytes(256)).decode()
            bh = base64.b64encode(r.randbytes(32)).decode()
            h += [f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={host};",
                  f"\ts=s{r.randint(1, 9)}; t={int(self.date.timestamp())};",
                  "\th=from:to:subject:date:message-id;",
                  f"\tbh={bh};",
                  "\tb=" + "\r\n\t ".join(sig[i:i + 70] for i in range(0, len(sig), 70))]
        h += [f"From: {name} <{addr}>", "To: User One <user1@bench.example>"]
        if r.random() < 0.25:
            cc = [self.name_addr() for _ in range(r.randint(1, 3))]
            h.append("Cc: " + ",\r\n\t".join(f"{n} <{a}>" for n, a in cc))
        subject = self.subject()
        h += [f"Subject: {subject}", f"Date: {date}", f"Message-ID: {mid}"]
        if subject.startswith("Re:") and self.ids:
            refs = r.sample(self.ids[-50:], min(len(self.ids[-50:]), r.randint(1, 3)))
            h += [f"In-Reply-To: {refs[-1]}", "References: " + "\r\n\t".join(refs)]
        if r.random() < 0.6:
            h.append(f"X-Mailer: {r.choice(MAILERS)}")
        h.append("MIME-Version: 1.0")
        self.ids.append(mid)
        return h, self.date

    def text_part(self, lines):
        return ["Content-Type: text/plain; charset=utf-8; format=flowed",
                "Content-Transfer-Encoding: 7bit", ""] + lines

    def alternative(self, size):
        b = self.boundary()
        lines = self.paragraphs(size * 4 // 10)
        html = ["<html><head><meta charset=\"utf-8\"></head><body>",
                "<div style=\"font-family: Arial, sans-serif; font-size: 14px\">"]
        para = []
        for ln in lines + [""]:
            if ln:
                para.append(ln)
            elif para:
                html.append("<p>" + "\r\n".join(para) + "</p>")
                para = []
        html += ["</div></body></html>"]
        head = [f"Content-Type: multipart/alternative; boundary=\"{b}\""]
        body = ["", f"--{b}"] + self.text_part(lines) + [
            f"--{b}", "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: 7bit", ""] + html + [f"--{b}--", ""]
        return head, body

    def simple(self, size):
        part = self.text_part(self.paragraphs(size))
        return part[:2], part[2:]

    def message(self, idx):
        r = self.r
        head, date = self.headers(idx)
        size = int(2048 * 10 ** r.uniform(0, 1))  # 2 KB .. 20 KB, log-uniform
        alt = r.random() < 0.45
        if r.random() < 0.10:
            b = self.boundary()
            ctype, ext = r.choice(ATTACHMENTS)
            raw = r.randbytes(r.randint(50 * 1024, 500 * 1024))
            b64 = base64.b64encode(raw).decode()
            name = "%s-%d.%s" % (r.choice(VOCABULARY[100:]), r.randint(1, 999), ext)
            inner_h, inner_b = self.alternative(size // 2) if alt else self.simple(size // 2)
            head.append(f"Content-Type: multipart/mixed; boundary=\"{b}\"")
            body = ["", "This is a multi-part message in MIME format.", f"--{b}"] + inner_h \
                + inner_b + [f"--{b}", f"Content-Type: {ctype}; name=\"{name}\"",
                             f"Content-Disposition: attachment; filename=\"{name}\"",
                             "Content-Transfer-Encoding: base64", ""] \
                + [b64[i:i + 76] for i in range(0, len(b64), 76)] + [f"--{b}--", ""]
        elif alt:
            h2, body = self.alternative(size)
            head += h2
        else:
            h2, body = self.simple(size)
            head += h2
        # body[0] is "": the empty line after the header.
        return (CRLF.join(head) + CRLF + CRLF.join(body) + CRLF).encode(), date


def main():
    _check_words()
    if sys.argv[1:] == ["--words"]:
        print(WARMUP_WORD)
        print("\n".join(SEARCH_WORDS))
        return
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    out, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    os.makedirs(out, exist_ok=True)
    g = Gen(seed)
    total = 0
    with open(os.path.join(out, "dates"), "w") as dates:
        for i in range(count):
            data, date = g.message(i)
            with open(os.path.join(out, "%05d.eml" % i), "wb") as f:
                f.write(data)
            dates.write("%d\n" % int(date.timestamp()))
            total += len(data)
    print(count, total)


if __name__ == "__main__":
    main()
