"""The model: what every other part of `geo` agrees on, and depends on nothing else in it.

The canonical provider-site table and its columns (`providers`), the sectors and the
ordered rules that give each site one (`sectors`), the public registers some of those
rules look providers up in (`registers`), the vocabulary shared by
assignment, maps and briefings (`vocabulary`), postcodes (`postcodes`), problems as
data (`problems`), the text of one cell (`text`), settings and the one error type a
person is shown (`errors`). No file is read and no network is touched here.
"""
