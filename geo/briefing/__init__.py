"""Board briefings per ICB, region and England: facts once, then on screen, PDF and PowerPoint.

`facts` builds the figures and sentences of one area, `text` formats numbers,
`images` draws the static map and chart, `pdf` and `slides` render them, and
`documents` is the one path from an analysis to a downloadable document.
"""
