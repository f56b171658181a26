"""The list as data: Markdown parsing into Paper records and the section tree.

Pure functions over text; the only module here that touches the disk is ``storage``.
"""

from secml_papers.corpus.errors import SecmlError
from secml_papers.corpus.parse import parse_list
from secml_papers.corpus.records import Paper, PaperList, ParseWarning, Section

__all__ = ["Paper", "PaperList", "ParseWarning", "SecmlError", "Section", "parse_list"]
